// The Pool contract that every pool shares (primitives/pool/pool_contract.h) on MpiPool. Rank 0
// runs the typed tests; ranks 1..k-1 serve every pool it makes, then leave when rank 0 says it
// makes no more (one MPI_Bcast on MPI_COMM_WORLD before each pool and one at the end).
//
// The contract makes its pools with a worker count (pool(2), pool(3)); an MPI pool has the
// workers mpirun gave it, so this test runs at -np 4, where that is the 3 that the contract's
// ModelsThePoolConcept checks. mpi_pool_test runs what is particular to MPI at -np 1..4.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstddef>

#include "mpi/mpi_pool.h"
#include "primitives/pool_contract.h"

namespace procpar {
namespace {

enum Announcement : int { kNoMorePools = 0, kAnotherPool = 1 };

int announce(int what) {
  MPI_Bcast(&what, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return what;
}

MPI_Comm world_after_announcing_a_pool() {
  announce(kAnotherPool);
  return MPI_COMM_WORLD;
}

// An MpiPool over MPI_COMM_WORLD made on rank 0 by the contract's tests.
class WorldMpiPool : public MpiPool {
 public:
  explicit WorldMpiPool(std::size_t /*workers: mpirun's, see above*/)
      : MpiPool(world_after_announcing_a_pool()) {}
};

}  // namespace

namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(Mpi, PoolContract, WorldMpiPool);
}  // namespace contract
}  // namespace procpar

int main(int argc, char** argv) {
  int provided = MPI_THREAD_SINGLE;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  testing::InitGoogleTest(&argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int failed = 0;
  if (rank == 0) {
    failed = RUN_ALL_TESTS();
    procpar::announce(procpar::kNoMorePools);
  } else {
    while (procpar::announce(procpar::kNoMorePools) == procpar::kAnotherPool) {
      const procpar::MpiPool serving(MPI_COMM_WORLD);
    }
  }
  MPI_Finalize();
  return failed;
}
