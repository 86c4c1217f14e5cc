// Task functions of mpi_pool_test, defined in a translation unit of their own: a task need not
// be visible where the pool runs it, only be a function of the same executable.
#ifndef PROCPAR_MPI_MPI_POOL_TEST_TASKS_H_
#define PROCPAR_MPI_MPI_POOL_TEST_TASKS_H_

#include <cstdint>
#include <string>

namespace procpar::mpi_pool_test {

// "rank R: TEXT", R the rank of MPI_COMM_WORLD that ran the task.
std::string tag_with_rank(const std::string& text);

// The polynomial 3x^2 - 2x + 7, a function no header inlines.
std::int64_t polynomial(std::int64_t x);

}  // namespace procpar::mpi_pool_test

#endif  // PROCPAR_MPI_MPI_POOL_TEST_TASKS_H_
