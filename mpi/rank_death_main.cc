// A job in which one rank dies (SIGKILL) in the middle of a collective reduction, for
// rank_death_test.sh:  rank_death_main VICTIM_RANK TOKEN
// The other ranks are already inside mpi::reduce's MPI_Allgather when the victim dies, waiting
// for it; Open MPI's default is to abort the whole job. TOKEN is only there so that the test can
// find any process of this job left behind.
#include <mpi.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "mpi/dist_array.h"
#include "mpi/reduce.h"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  if (argc != 3) {
    std::fprintf(stderr, "usage: rank_death_main VICTIM_RANK TOKEN\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  const int victim = std::atoi(argv[1]);
  procpar::mpi::DistArray<double> a(MPI_COMM_WORLD, std::size_t{1} << 22);
  a.generate([](std::size_t i) { return static_cast<double>(i % 7); });
  if (procpar::mpi::rank_of(MPI_COMM_WORLD) == victim) {
    std::raise(SIGKILL);
  }
  const double sum = procpar::mpi::reduce<std::plus<>>(a.span(), 0.0);
  std::printf("survived the victim's death: sum %g\n", sum);
  MPI_Finalize();
  return 0;
}
