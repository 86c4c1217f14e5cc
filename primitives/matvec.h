// Dense matrix-vector product y = A x, rows partitioned over a pool.
//
// The seed: "The clear winner is serial numpy. There is just no way to beat optimized C BLAS for
// dense numerical linear algebra." experiments/matvec_blas.cc puts this function next to
// OpenBLAS's cblas_dgemv (what numpy calls), single-threaded and threaded.
//
//   RawArray<double> a(rows * cols), x(cols), y(rows);   // a row-major
//   matvec(pool, a.span(), rows, cols, x.span(), y.span());
//
// Cost: rows * cols multiply-adds, reading A once (memory bound for large A) and x once per row
// (from cache). Each worker gets one contiguous block of rows (one task) and writes its part of y
// in place: no copy of A, x or y crosses a process boundary. A matrix with fewer rows than
// workers uses only `rows` workers.
// Rounding: each y[i] is dot_serial of row i and x (dot.h), whatever the pool or number of
// workers, so the result has the same bits everywhere.
#ifndef PROCPAR_PRIMITIVES_MATVEC_H_
#define PROCPAR_PRIMITIVES_MATVEC_H_

#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "primitives/dot.h"
#include "primitives/partition.h"
#include "primitives/pool.h"
#include "primitives/shared_array.h"

namespace procpar {

// y[r] = sum over c of a[r * cols + c] * x[c], for r in [row_begin, row_end), serially.
template <DotElement T>
void matvec_rows(const T* a, std::size_t cols, const T* x, T* y, std::size_t row_begin,
                 std::size_t row_end) {
  for (std::size_t r = row_begin; r < row_end; ++r) y[r] = dot_serial(a + r * cols, x, cols);
}

namespace matvec_detail {

template <DotElement T>
void rows_part(RawSpan<T> a, std::size_t cols, RawSpan<T> x, RawSpan<T> y, std::size_t row_begin,
               std::size_t row_end) {
  matvec_rows(a.data(), cols, x.data(), y.data(), row_begin, row_end);
}

inline std::string shape(std::size_t rows, std::size_t cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

}  // namespace matvec_detail

// y = A x for the row-major rows x cols matrix `a`. Throws std::invalid_argument, naming the
// shapes, if a does not hold rows * cols elements, x does not hold cols, y does not hold rows,
// y overlaps a or x (y is written while they are read), or the pool has no workers.
template <Pool P, DotElement T>
void matvec(P& pool, RawSpan<T> a, std::size_t rows, std::size_t cols, RawSpan<T> x,
            RawSpan<T> y) {
  using matvec_detail::shape;
  const std::size_t workers = checked_workers(pool, "matvec");
  std::size_t elements;
  if (__builtin_mul_overflow(rows, cols, &elements)) {
    throw std::invalid_argument("matvec: a " + shape(rows, cols) +
                                " matrix has more elements than memory can hold");
  }
  if (a.size() != elements) {
    throw std::invalid_argument("matvec: a has " + std::to_string(a.size()) +
                                " elements, a " + shape(rows, cols) + " matrix has " +
                                std::to_string(elements));
  }
  if (x.size() != cols) {
    throw std::invalid_argument("matvec: x has " + std::to_string(x.size()) + " elements, a " +
                                shape(rows, cols) + " matrix needs " + std::to_string(cols));
  }
  if (y.size() != rows) {
    throw std::invalid_argument("matvec: y has " + std::to_string(y.size()) + " elements, a " +
                                shape(rows, cols) + " matrix gives " + std::to_string(rows));
  }
  const auto overlaps = [&](RawSpan<T> other) {
    return y.size() != 0 && other.size() != 0 && y.data() < other.data() + other.size() &&
           other.data() < y.data() + y.size();
  };
  if (overlaps(a) || overlaps(x)) {
    throw std::invalid_argument("matvec: y must not overlap a or x");
  }
  const std::vector<std::size_t> bounds = partition_bounds(rows, workers);
  std::vector<std::tuple<RawSpan<T>, std::size_t, RawSpan<T>, RawSpan<T>, std::size_t,
                         std::size_t>>
      tasks;
  for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
    tasks.emplace_back(a, cols, x, y, bounds[i], bounds[i + 1]);
  }
  if (tasks.empty()) return;
  pool.starmap(&matvec_detail::rows_part<T>, tasks, 1);
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_MATVEC_H_
