// Dense matrix-vector product y = A x, rows partitioned over a pool.
//
// The seed: "The clear winner is serial numpy. There is just no way to beat optimized C BLAS for
// dense numerical linear algebra." experiments/matvec_blas.cc puts this function next to
// OpenBLAS's cblas_dgemv (what numpy calls), single-threaded and threaded.
//
//   RawArray<double> a(rows * cols), x(cols), y(rows);   // a row-major
//   matvec(pool, a.span(), rows, cols, x.span(), y.span());
//
// Cost: rows * cols multiply-adds, reading A once (memory bound for large A) and x once per four
// rows (from cache when it fits). Each worker gets one contiguous block of rows (one task) and
// writes its part of y in place: no copy of A, x or y crosses a process boundary. A matrix with
// fewer rows than workers uses only `rows` workers.
// Rounding: every y[i] is computed the same way whatever the pool, the number of workers or the
// split of the rows, so the result has the same bits everywhere; its error is within the bound of
// a dot product of length cols (dot.h).
#ifndef PROCPAR_PRIMITIVES_MATVEC_H_
#define PROCPAR_PRIMITIVES_MATVEC_H_

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "primitives/dot.h"
#include "primitives/partition.h"
#include "primitives/pool.h"
#include "primitives/shared_array.h"

namespace procpar {

namespace matvec_detail {

// Element types that GCC's vector extensions take: the fast kernel below is for them; any other
// DotElement (a user type with + and *) takes one dot_serial per row.
template <class T>
inline constexpr bool kVectorizable =
    (std::is_integral_v<T> && !std::is_same_v<T, bool>) || std::is_same_v<T, float> ||
    std::is_same_v<T, double>;

// 64 bytes of T (one AVX-512 register; two AVX2 registers elsewhere).
template <class T>
struct Vector {
  typedef T type __attribute__((vector_size(64)));
  static constexpr std::size_t kWidth = 64 / sizeof(T);
};

template <class T>
typename Vector<T>::type load(const T* p) {
  typename Vector<T>::type v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// y[0..kRows) for the kRows rows that start at `a`. Each row keeps two vector accumulators, so
// its sum is grouped the same way whatever kRows is; several rows at once share each load of x,
// which cuts the traffic on x by kRows and keeps several streams of A in flight.
template <class T, std::size_t kRows>
void block_of_rows(const T* a, std::size_t cols, const T* x, T* y) {
  using Vec = typename Vector<T>::type;
  constexpr std::size_t kWidth = Vector<T>::kWidth;
  Vec sums[kRows][2] = {};
  std::size_t c = 0;
  for (; c + 2 * kWidth <= cols; c += 2 * kWidth) {
    const Vec x0 = load(x + c), x1 = load(x + c + kWidth);
    for (std::size_t r = 0; r < kRows; ++r) {
      sums[r][0] += load(a + r * cols + c) * x0;
      sums[r][1] += load(a + r * cols + c + kWidth) * x1;
    }
  }
  for (std::size_t r = 0; r < kRows; ++r) {
    const Vec both = sums[r][0] + sums[r][1];
    T sum = both[0];
    for (std::size_t lane = 1; lane < kWidth; ++lane) sum += both[lane];
    for (std::size_t k = c; k < cols; ++k) sum += a[r * cols + k] * x[k];
    y[r] = sum;
  }
}

}  // namespace matvec_detail

// y[r] = sum over c of a[r * cols + c] * x[c], for r in [row_begin, row_end), serially (the
// kernel every worker runs). Each y[r] is computed the same way wherever the range begins or
// ends, so the result has the same bits however the rows are split among workers.
template <DotElement T>
void matvec_rows(const T* a, std::size_t cols, const T* x, T* y, std::size_t row_begin,
                 std::size_t row_end) {
  if constexpr (matvec_detail::kVectorizable<T>) {
    constexpr std::size_t kRows = 4;
    std::size_t r = row_begin;
    for (; r + kRows <= row_end; r += kRows) {
      matvec_detail::block_of_rows<T, kRows>(a + r * cols, cols, x, y + r);
    }
    for (; r < row_end; ++r) matvec_detail::block_of_rows<T, 1>(a + r * cols, cols, x, y + r);
  } else {
    for (std::size_t r = row_begin; r < row_end; ++r) y[r] = dot_serial(a + r * cols, x, cols);
  }
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
  if (overlap(y, a) || overlap(y, x)) {
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
