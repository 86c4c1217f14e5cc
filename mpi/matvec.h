// Dense matrix-vector product y = A x on DistArrays, row blocks, owner computes:
//
//   DistArray<double> a(comm, rows * cols, cols);   distributed by rows (unit = cols)
//   DistArray<double> x(comm, cols), y(comm, rows);
//   mpi::matvec(a.span(), cols, x.span(), y.span());   collective
//
// Rank r owns rows piece r of partition_bounds(rows, p) of A and the same rows of y. Each rank
// assembles the whole of x from its pieces (MPI_Allgatherv: every rank sends its piece of x to
// every other, cols * sizeof(T) bytes received per rank) and computes its rows with
// matvec_rows, primitives/matvec.h's serial kernel. Every y[i] is computed the same way
// whatever the number of ranks, so y has the same bits as the serial product.
//
// Throws std::invalid_argument, on every rank, naming the shapes, if a is not distributed by
// rows of `cols` elements, x does not hold cols elements, y does not hold one per row or is cut
// differently, y overlaps a or x, or the arrays live on different communicators.
// Cost: rows * cols / p multiply-adds per rank (memory bound, reading its block of A once),
// one MPI_Allgatherv of x (latency about alpha * log2 p, bandwidth cols * sizeof(T) * beta),
// one MPI_Allreduce of an int (the overlap check).
#ifndef PROCPAR_MPI_MATVEC_H_
#define PROCPAR_MPI_MATVEC_H_

#include <mpi.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "mpi/dist_array.h"
#include "primitives/matvec.h"

namespace procpar::mpi {

template <DotElement T>
void matvec(DistSpan<T> a, std::size_t cols, DistSpan<T> x, DistSpan<T> y) {
  dist_detail::check_same_comm(a.comm(), x.comm(), "matvec");
  dist_detail::check_same_comm(a.comm(), y.comm(), "matvec");
  if (cols == 0 || a.unit() != cols) {
    throw std::invalid_argument("matvec: a must be distributed by rows of " + std::to_string(cols) +
                                " columns (unit = cols), its unit is " + std::to_string(a.unit()));
  }
  const std::size_t rows = a.size() / cols;
  const std::string shape = std::to_string(rows) + "x" + std::to_string(cols);
  if (x.size() != cols) {
    throw std::invalid_argument("matvec: x has " + std::to_string(x.size()) + " elements, a " +
                                shape + " matrix needs " + std::to_string(cols));
  }
  if (y.size() != rows || y.unit() != 1) {
    throw std::invalid_argument("matvec: y has " + std::to_string(y.size()) + " elements (unit " +
                                std::to_string(y.unit()) + "), a " + shape +
                                " matrix gives " + std::to_string(rows) + " (unit 1)");
  }
  const MPI_Comm comm = a.comm();
  agree_or_throw(comm, overlap(y.local(), a.local()) || overlap(y.local(), x.local()),
                 "matvec: y must not overlap a or x");
  const int ranks = ranks_of(comm);
  std::vector<int> counts(ranks), displs(ranks);
  for (int r = 0; r < ranks; ++r) {
    const Piece piece = piece_of(cols, x.unit(), ranks, r);
    counts[r] = mpi_count(piece.size(), "matvec");
    displs[r] = mpi_count(piece.begin, "matvec");
  }
  std::vector<T> whole_x(cols);
  const ByteType<T> type;
  check(MPI_Allgatherv(x.local().data(), counts[rank_of(comm)], type.get(), whole_x.data(),
                       counts.data(), displs.data(), type.get(), comm),
        "MPI_Allgatherv");
  const std::size_t my_rows = y.local().size();
  if (my_rows > 0) matvec_rows(a.local().data(), cols, whole_x.data(), y.local().data(), 0, my_rows);
}

}  // namespace procpar::mpi

#endif  // PROCPAR_MPI_MATVEC_H_
