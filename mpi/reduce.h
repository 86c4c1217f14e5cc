// Reduction of a DistArray (the seed's partitioned reduction, owner computes):
//
//   double s = mpi::reduce<std::plus<>>(a.span(), 0.0);   collective; the result on every rank
//
// Each rank folds its own piece with the serial kernel of primitives/reduce.h (fold), then the
// p partial results are combined in rank order on every rank. The result is
// in[0] op ... op in[n-1], `identity` when n is 0.
//
// Why an MPI_Allgather of the partials and a fold in rank order, rather than MPI_Allreduce:
// Open MPI chooses MPI_Allreduce's algorithm (and so the grouping of the partials) by message
// size and rank count, and MPI_SUM on doubles may regroup them; folding the p partials in rank
// order gives the same bits on every rank and in every run, for every operator, with no MPI_Op
// to register. Same bits whatever the number of ranks? For exact operators (integers) yes; in
// floating point the grouping follows the rank pieces, which move with p (the pools'
// reduce_partitioned groups by blocks cut by n alone, which a rank's piece does not follow), and
// the sum stays within the usual bound (n - 1) * eps/2 * sum |x_i|.
//
// Cost: n/p element reads per rank at memory bandwidth, then one MPI_Allgather of sizeof(T)
// bytes per rank (latency about alpha * log2 p, p * sizeof(T) bytes received) and a fold of p
// values: negligible beside the partials for p up to thousands.
#ifndef PROCPAR_MPI_REDUCE_H_
#define PROCPAR_MPI_REDUCE_H_

#include <cstddef>
#include <type_traits>
#include <vector>

#include "mpi/dist_array.h"
#include "primitives/reduce.h"

namespace procpar::mpi {

template <class Op, class T>
  requires AssociativeOperator<Op, T> && std::is_trivially_copyable_v<T>
T reduce(DistSpan<T> in, T identity) {
  const std::size_t owning = owners(in.size(), in.unit(), ranks_of(in.comm()));
  if (owning == 0) return identity;  // n == 0: the same on every rank, so no rank waits
  const RawSpan<T> piece = in.local();
  const T partial = piece.empty() ? identity : fold<Op>(piece.data(), piece.size());
  const std::vector<T> partials = dist_detail::allgather(in.comm(), partial);
  return fold<Op>(partials.data(), owning);
}

}  // namespace procpar::mpi

#endif  // PROCPAR_MPI_REDUCE_H_
