// Prefix sums of a DistArray (the seed's two-pass scan, owner computes):
//
//   double total = mpi::scan<InclusiveScan<std::plus<>>>(in.span(), out.span(), 0.0);
//
// Each rank (1) runs the serial scan S (InclusiveScan or ExclusiveScan of primitives/scan.h)
// over its piece from the identity, which gives its piece's total, (2) gets the combination of
// the lower ranks' piece totals from MPI_Exscan, and (3) combines that offset into every element
// of its piece of `out` (rank 0, whose offset is the identity, skips this pass). This is
// scan_two_pass of primitives/scan.h with the pool's "scan the p totals in the caller" done by
// MPI_Exscan, so on one rank it is one serial scan. Returns the total in[0] op ... op in[n-1] on
// every rank (identity when empty). `out` may be `in` itself. `identity` must be an identity of
// the operator: ranks with an empty piece contribute it.
//
// Why two passes over `out` rather than reduce-then-scan (fold the piece, MPI_Exscan, scan from
// the offset): both read and write about as much at p >= 2, but at one rank reduce-then-scan
// still folds the whole array before scanning it (a third more traffic: 3n against 2n), while
// this scan is the serial scan; it is also the process pool's scan_two_pass, the reference the
// experiments compare it with.
//
// The operator travels as an MPI_Op created for the call with commute = false, so MPI combines
// the totals in rank order (its grouping is MPI's). For exact operators (integers, or any
// associative operator on exact values) the result has the same bits as the serial scan; in
// floating point each out[i] stays within (i + 1) * eps * sum_{j<=i} |in[j]| of the exact prefix
// (the bound scan.h states for its two-pass scans).
//
// Throws std::invalid_argument on every rank if in and out differ in size, are distributed
// differently or live on different communicators.
// Cost: n/p element reads and writes per rank in the first pass, n/p reads and writes of `out`
// in the second (on every rank but rank 0); the operator runs about twice per element, as in
// scan.h's two-pass scan; one MPI_Exscan and one MPI_Bcast of one T (each about alpha * log2 p).
#ifndef PROCPAR_MPI_SCAN_H_
#define PROCPAR_MPI_SCAN_H_

#include <mpi.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "mpi/dist_array.h"
#include "primitives/scan.h"

namespace procpar::mpi {

namespace dist_detail {

// MPI's user function for Op: inout[i] = in[i] op inout[i], `in` being the lower ranks' side.
template <class Op, class T>
void combine_in_rank_order(void* in, void* inout, int* length, MPI_Datatype*) {
  const Op op{};
  auto* left = static_cast<const unsigned char*>(in);
  auto* right = static_cast<unsigned char*>(inout);
  for (int i = 0; i < *length; ++i) {
    T a, b;
    std::memcpy(&a, left + i * sizeof(T), sizeof(T));
    std::memcpy(&b, right + i * sizeof(T), sizeof(T));
    const T c = op(a, b);
    std::memcpy(right + i * sizeof(T), &c, sizeof(T));
  }
}

// Op as a non-commutative MPI_Op (so MPI keeps the operands in rank order); freed on
// destruction.
template <class Op, class T>
class OrderedOp {
 public:
  OrderedOp() { check(MPI_Op_create(&combine_in_rank_order<Op, T>, 0, &op_), "MPI_Op_create"); }
  OrderedOp(const OrderedOp&) = delete;
  OrderedOp& operator=(const OrderedOp&) = delete;
  ~OrderedOp() { MPI_Op_free(&op_); }
  MPI_Op get() const { return op_; }

 private:
  MPI_Op op_ = MPI_OP_NULL;
};

template <class T>
void check_same_layout(DistSpan<T> in, DistSpan<T> out, const char* caller) {
  check_same_comm(in.comm(), out.comm(), caller);
  if (in.size() != out.size()) {
    throw std::invalid_argument(std::string(caller) + ": input has " + std::to_string(in.size()) +
                                " elements but output has " + std::to_string(out.size()));
  }
  if (in.unit() != out.unit()) {
    throw std::invalid_argument(std::string(caller) +
                                ": input and output are distributed differently (units " +
                                std::to_string(in.unit()) + " and " + std::to_string(out.unit()) +
                                ")");
  }
}

}  // namespace dist_detail

template <class S, class T>
  requires SerialScan<S, T> && std::is_trivially_copyable_v<T>
T scan(DistSpan<T> in, DistSpan<T> out, T identity) {
  using Op = typename S::op_type;
  dist_detail::check_same_layout(in, out, "scan");
  if (in.size() == 0) return identity;
  const MPI_Comm comm = in.comm();
  const RawSpan<T> piece = in.local();
  const T piece_total =
      piece.empty() ? identity : scan_detail::scan_piece<S, T>(piece, out.local(), identity);
  const ByteType<T> type;
  const dist_detail::OrderedOp<Op, T> op;
  T offset = identity;
  check(MPI_Exscan(&piece_total, &offset, 1, type.get(), op.get(), comm), "MPI_Exscan");
  const int rank = rank_of(comm);
  if (rank == 0) {
    offset = identity;  // MPI leaves rank 0's result undefined
  } else if (!piece.empty()) {
    scan_detail::add_offset<Op, T>(out.local(), offset);
  }
  // The last rank's offset covers every other piece, its own total the rest.
  const int last = ranks_of(comm) - 1;
  T total = rank == last ? Op{}(offset, piece_total) : identity;
  check(MPI_Bcast(&total, 1, type.get(), last, comm), "MPI_Bcast");
  return total;
}

}  // namespace procpar::mpi

#endif  // PROCPAR_MPI_SCAN_H_
