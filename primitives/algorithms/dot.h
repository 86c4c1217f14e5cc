// Inner product, serial and partitioned over a pool.
//
// The seed: "This problem is interesting because we increase the flop to mop ratio." A dot product
// reads two elements per multiply-add where a sum reads one per add, so it is just as memory bound
// per byte; experiments/dot_flop_mop.cc measures what that does to scalability.
//
//   RawArray<double> x(n), y(n);
//   double d = dot(pool, x.span(), y.span());
//
// Cost: n multiply-adds, 2n elements read; one contiguous part per worker, the first computed
// by the caller while the pool computes the others (run_pieces, partition.h), and p partial
// results added by the caller.
// Rounding: partial sums are kept in 32 independent accumulators (so the loop vectorises and
// hides the add latency) and added in a fixed order, so for a given number of workers the result
// has the same bits on every pool and every run; with a different number of workers the
// summation order, and so the rounding, differs. The error is within the usual bound for any
// summation order, |dot - exact| <= gamma(n) * sum |x_i y_i| with gamma(n) = n u / (1 - n u).
#ifndef PROCPAR_PRIMITIVES_DOT_H_
#define PROCPAR_PRIMITIVES_DOT_H_

#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "primitives/partition.h"
#include "primitives/pool.h"
#include "primitives/shared_array.h"

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

template <DotElement T>
T dot_piece(RawSpan<T> x, RawSpan<T> y) {
  return dot_serial(x.data(), y.data(), x.size());
}

}  // namespace dot_detail

// sum of x[i] * y[i], one contiguous piece per worker (partition.h). Throws
// std::invalid_argument if the lengths differ or the pool has no workers. Returns T{} for empty
// inputs.
template <Pool P, DotElement T>
T dot(P& pool, RawSpan<T> x, RawSpan<T> y) {
  const std::size_t workers = checked_workers(pool, "dot");
  if (x.size() != y.size()) {
    throw std::invalid_argument("dot: x has " + std::to_string(x.size()) + " elements but y has " +
                                std::to_string(y.size()));
  }
  const std::vector<std::size_t> bounds = partition_bounds(x.size(), workers);
  if (bounds.empty()) return T{};
  std::vector<std::tuple<RawSpan<T>, RawSpan<T>>> pieces;
  for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
    const std::size_t count = bounds[i + 1] - bounds[i];
    pieces.emplace_back(x.subspan(bounds[i], count), y.subspan(bounds[i], count));
  }
  const std::vector<T> partial = run_pieces(pool, &dot_detail::dot_piece<T>, pieces);
  T sum = partial[0];
  for (std::size_t i = 1; i < partial.size(); ++i) sum = sum + partial[i];
  return sum;
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_DOT_H_
