#include "mpi/mpi_pool_test_tasks.h"

#include <mpi.h>

namespace procpar::mpi_pool_test {

std::string tag_with_rank(const std::string& text) {
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return "rank " + std::to_string(rank) + ": " + text;
}

std::int64_t polynomial(std::int64_t x) { return 3 * x * x - 2 * x + 7; }

}  // namespace procpar::mpi_pool_test
