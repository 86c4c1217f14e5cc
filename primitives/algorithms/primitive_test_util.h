// What the tests of map, reduce, scan and pack share: the pools they run on, the input sizes,
// random inputs in RawArrays, a non-commutative operator, and floating-point error bounds.
#ifndef PROCPAR_PRIMITIVES_PRIMITIVE_TEST_UTIL_H_
#define PROCPAR_PRIMITIVES_PRIMITIVE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <random>
#include <vector>

#include "primitives/process_pool.h"
#include "primitives/serial_pool.h"
#include "primitives/shared_array.h"
#include "primitives/thread_pool.h"
#include "primitives/watchdog.h"

namespace procpar::testing {

using PoolTypes = ::testing::Types<SerialPool, ThreadPool, ProcessPool>;

// A typed-test fixture that fails a test running over a minute (a hang) instead of stalling.
template <class P>
class WatchedTest : public ::testing::Test {
 protected:
  Watchdog watchdog_{60};
};

// An odd number of workers, so that pieces are uneven and no size divides evenly by chance.
inline constexpr std::size_t kWorkers = 3;

// Sizes around the worker count, primes, powers of two and their neighbours, and one large
// prime (kernels' vectorised and blocked paths run many times over each piece from 64 up).
// Kept short: every test runs on three pools, and under ThreadSanitizer too.
inline std::vector<std::size_t> test_sizes() {
  return {0,   1,   kWorkers - 1, kWorkers, kWorkers + 1, 5,    7,    13,   31,   32,  33,
          63,  64,  65,  97,  127,  128,  129,  1009, 1023, 1024, 1025, 4096, 4097, 65521};
}

// The test sizes up to `largest`: for costly operators and for the tree reduction (a pool
// task per pair), where larger inputs add time but no coverage.
inline std::vector<std::size_t> test_sizes_up_to(std::size_t largest) {
  std::vector<std::size_t> sizes;
  for (const std::size_t n : test_sizes()) {
    if (n <= largest) sizes.push_back(n);
  }
  return sizes;
}

// A 2x2 matrix of integers modulo 2^64 under the matrix product: associative, not commutative,
// with exact arithmetic, so any reordering of operands shows in the result.
struct Mat2 {
  std::uint64_t a = 1, b = 0, c = 0, d = 1;
  friend bool operator==(const Mat2&, const Mat2&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Mat2& m) {
    return os << "[" << m.a << " " << m.b << "; " << m.c << " " << m.d << "]";
  }
};

struct MatMul {
  Mat2 operator()(const Mat2& x, const Mat2& y) const {
    return {x.a * y.a + x.b * y.c, x.a * y.b + x.b * y.d, x.c * y.a + x.d * y.c,
            x.c * y.b + x.d * y.d};
  }
};

// "The later operand unless it is zero": associative and not commutative, on an arithmetic
// type, so that it runs the kernels' paths for arithmetic types (vector lanes and blocked
// scans) that Mat2 does not. Identity 0.
struct LastNonZero {
  std::uint64_t operator()(std::uint64_t x, std::uint64_t y) const { return y != 0 ? y : x; }
};

// Mostly zeros, so that the last non-zero value of a prefix is often far back.
inline RawArray<std::uint64_t> sparse_integers(std::size_t n, std::mt19937_64& rng) {
  RawArray<std::uint64_t> array(n);
  std::bernoulli_distribution nonzero(0.05);
  for (std::size_t i = 0; i < n; ++i) array[i] = nonzero(rng) ? 1 + rng() % 1000 : 0;
  return array;
}

inline Mat2 random_mat2(std::mt19937_64& rng) {
  std::uniform_int_distribution<std::uint64_t> entry(0, 3);
  return {entry(rng), entry(rng), entry(rng), entry(rng)};
}

template <class T, class Gen>
RawArray<T> random_array(std::size_t n, std::mt19937_64& rng, Gen gen) {
  RawArray<T> array(n);
  for (std::size_t i = 0; i < n; ++i) array[i] = gen(rng);
  return array;
}

inline RawArray<double> random_doubles(std::size_t n, std::mt19937_64& rng) {
  // Mixed signs and magnitudes: cancellation makes the bound below a real constraint.
  return random_array<double>(n, rng, [](std::mt19937_64& r) {
    std::uniform_real_distribution<double> mantissa(-1.0, 1.0);
    std::uniform_int_distribution<int> exponent(-20, 20);
    return std::ldexp(mantissa(r), exponent(r));
  });
}

inline RawArray<std::uint64_t> random_integers(std::size_t n, std::mt19937_64& rng) {
  return random_array<std::uint64_t>(n, rng, [](std::mt19937_64& r) { return r(); });
}

inline RawArray<Mat2> random_matrices(std::size_t n, std::mt19937_64& rng) {
  return random_array<Mat2>(n, rng, random_mat2);
}

// Largest error of a floating-point sum of `terms` values whose magnitudes add up to
// `sum_of_magnitudes`, whatever the grouping: gamma_{terms-1} * sum |x_i| with
// gamma_k = k u / (1 - k u) (Higham, Accuracy and Stability of Numerical Algorithms, 4.2),
// u = DBL_EPSILON / 2 for double arithmetic.
inline long double sum_error_bound(std::size_t terms, long double sum_of_magnitudes,
                                   long double u = DBL_EPSILON / 2) {
  if (terms <= 1) return 0.0L;
  const long double ku = static_cast<long double>(terms - 1) * u;
  return ku / (1 - ku) * sum_of_magnitudes;
}

// `got`, a double sum of `terms` values, against `reference`, the same sum in long double:
// both may be off the exact sum by their own bound, so they may differ by the two together.
inline ::testing::AssertionResult sum_is_close(double got, long double reference,
                                               std::size_t terms, long double sum_of_magnitudes) {
  const long double bound = sum_error_bound(terms, sum_of_magnitudes) +
                            sum_error_bound(terms, sum_of_magnitudes, LDBL_EPSILON / 2);
  const long double error = std::fabs(static_cast<long double>(got) - reference);
  if (error <= bound) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "sum " << got << " is " << static_cast<double>(error)
                                       << " from the reference " << static_cast<double>(reference)
                                       << ", more than the bound " << static_cast<double>(bound)
                                       << " for " << terms << " terms";
}

}  // namespace procpar::testing

#endif  // PROCPAR_PRIMITIVES_PRIMITIVE_TEST_UTIL_H_
