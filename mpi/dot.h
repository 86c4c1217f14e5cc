// Inner product of two DistArrays, owner computes:
//
//   double d = mpi::dot(x.span(), y.span());   collective; the result on every rank
//
// Each rank runs dot_serial (primitives/dot.h) on its own pieces of x and y, then the p partial
// sums are added in rank order on every rank (MPI_Allgather of one T per rank; see mpi/reduce.h
// for why not MPI_Allreduce): the same bits on every rank and in every run, for a given number
// of ranks; the error bound is dot.h's, |dot - exact| <= gamma(n) * sum |x_i y_i|.
//
// Throws std::invalid_argument, on every rank, if x and y differ in size, are distributed
// differently (unit) or live on different communicators. Returns T{} for empty inputs.
// Cost: 2n/p element reads per rank, one MPI_Allgather of sizeof(T) bytes per rank.
#ifndef PROCPAR_MPI_DOT_H_
#define PROCPAR_MPI_DOT_H_

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "mpi/dist_array.h"
#include "primitives/dot.h"

namespace procpar::mpi {

template <DotElement T>
T dot(DistSpan<T> x, DistSpan<T> y) {
  dist_detail::check_same_comm(x.comm(), y.comm(), "dot");
  if (x.size() != y.size()) {
    throw std::invalid_argument("dot: x has " + std::to_string(x.size()) + " elements but y has " +
                                std::to_string(y.size()));
  }
  if (x.unit() != y.unit()) {
    throw std::invalid_argument("dot: x and y are distributed differently (units " +
                                std::to_string(x.unit()) + " and " + std::to_string(y.unit()) +
                                ")");
  }
  const std::size_t owning = owners(x.size(), x.unit(), ranks_of(x.comm()));
  if (owning == 0) return T{};
  const RawSpan<T> xs = x.local();
  const RawSpan<T> ys = y.local();
  const T partial = xs.empty() ? T{} : dot_serial(xs.data(), ys.data(), xs.size());
  const std::vector<T> partials = dist_detail::allgather(x.comm(), partial);
  T sum = partials[0];
  for (std::size_t i = 1; i < owning; ++i) sum = sum + partials[i];
  return sum;
}

}  // namespace procpar::mpi

#endif  // PROCPAR_MPI_DOT_H_
