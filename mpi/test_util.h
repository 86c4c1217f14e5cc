// Helpers of the mpi/ tests: the rank and size of MPI_COMM_WORLD, and the whole of a
// distributed input as every rank can compute it (inputs are functions of the global index).
#ifndef PROCPAR_MPI_TEST_UTIL_H_
#define PROCPAR_MPI_TEST_UTIL_H_

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mpi/dist_array.h"
#include "primitives/shared_array.h"

namespace procpar::mpi::testing_util {

inline int world_rank() { return rank_of(MPI_COMM_WORLD); }
inline int world_size() { return ranks_of(MPI_COMM_WORLD); }

// Sizes around the rank counts (empty, fewer elements than ranks, uneven pieces) and one large.
inline const std::vector<std::size_t> kSizes = {0, 1, 2, 3, 5, 17, 1000, 100003};

// Integers with carries and both signs: exact sums that overflow nothing.
inline std::int64_t int_at(std::size_t i) {
  return static_cast<std::int64_t>((i * 2654435761u) % 2001) - 1000;
}
// Doubles of mixed magnitudes and signs, so that the grouping changes the rounding.
inline double double_at(std::size_t i) {
  return (static_cast<double>((i * 40503u) % 1000) - 499.5) * (1.0 + static_cast<double>(i % 7) * 1e-3);
}

// A RawArray holding f(0), ..., f(n-1): the serial side of a comparison.
template <class T, class F>
RawArray<T> whole(std::size_t n, F f) {
  RawArray<T> array(n);
  for (std::size_t i = 0; i < n; ++i) array.span()[i] = f(i);
  return array;
}

}  // namespace procpar::mpi::testing_util

#endif  // PROCPAR_MPI_TEST_UTIL_H_
