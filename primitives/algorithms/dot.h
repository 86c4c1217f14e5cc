// Inner product, serial and partitioned over a pool.
//
// The seed: "This problem is interesting because we increase the flop to mop ratio." A dot product
// reads two elements per multiply-add where a sum reads one per add, so it is just as memory bound
// per byte; experiments/dot_flop_mop.cc measures what that does to scalability.
//
//   RawArray<double> x(n), y(n);
//   double d = dot(pool, x.span(), y.span());
//
// Cost: n multiply-adds, 2n elements read; contiguous blocks (up to 1 MiB of x and y, a small
// input cut into 4) that the caller and the pool's tasks claim as they go, in one round of the
// pool (fold_blocks, single_pass.h), and one partial result per block added by the caller.
// Rounding: partial sums are kept in 32 independent accumulators (so the loop vectorises and
// hides the add latency) and the blocks' sums are added in block order; the blocks depend on n
// alone, so the result has the same bits on every pool, for every number of workers and every
// run. The error is within the usual bound for any summation order,
// |dot - exact| <= gamma(n) * sum |x_i y_i| with gamma(n) = n u / (1 - n u).
#ifndef PROCPAR_PRIMITIVES_DOT_H_
#define PROCPAR_PRIMITIVES_DOT_H_

#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "primitives/pool.h"
#include "primitives/shared_array.h"
#include "primitives/single_pass.h"

namespace procpar {

// Elements that dot and matvec accept: copyable into shared memory, with T{} as zero, + and *.
template <class T>
concept DotElement = std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T> &&
                     requires(T a, T b) {
                       { a + b } -> std::convertible_to<T>;
                       { a * b } -> std::convertible_to<T>;
                     };

// sum of x[i] * y[i] for i < n, serially (the kernel every worker runs).
template <DotElement T>
T dot_serial(const T* x, const T* y, std::size_t n) {
  // Independent accumulators: gcc turns the inner loop into vector multiply-adds (4 AVX-512
  // registers of doubles) without reassociating anything, and the adds overlap in the pipeline.
  constexpr std::size_t kLanes = 32;
  T lanes[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t j = 0; j < kLanes; ++j) lanes[j] = lanes[j] + x[i + j] * y[i + j];
  }
  T tail{};
  for (; i < n; ++i) tail = tail + x[i] * y[i];
  for (std::size_t width = kLanes / 2; width > 0; width /= 2) {
    for (std::size_t j = 0; j < width; ++j) lanes[j] = lanes[j] + lanes[j + width];
  }
  return lanes[0] + tail;
}

namespace dot_detail {

// dot's kernel (single_pass.h): a block's summary is its dot product.
template <DotElement T>
struct DotKernel {
  using Summary = T;
  RawSpan<T> x;
  RawSpan<T> y;

  struct Bound {
    const T* x;
    const T* y;
    T fold(std::size_t begin, std::size_t end) const {
      return dot_serial(x + begin, y + begin, end - begin);
    }
    T combine(const T& a, const T& b) const { return a + b; }
  };

  std::size_t size() const { return x.size(); }
  std::size_t bytes_per_element() const { return 2 * sizeof(T); }
  T identity() const { return T{}; }
  Bound bind() const { return Bound{x.data(), y.data()}; }
};

}  // namespace dot_detail

// sum of x[i] * y[i], in blocks claimed by the workers (see the header comment). Throws
// std::invalid_argument if the lengths differ or the pool has no workers. Returns T{} for empty
// inputs.
template <Pool P, DotElement T>
T dot(P& pool, RawSpan<T> x, RawSpan<T> y) {
  checked_workers(pool, "dot");
  if (x.size() != y.size()) {
    throw std::invalid_argument("dot: x has " + std::to_string(x.size()) + " elements but y has " +
                                std::to_string(y.size()));
  }
  return fold_blocks(pool, dot_detail::DotKernel<T>{x, y}, "dot");
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_DOT_H_
