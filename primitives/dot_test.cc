#include "primitives/dot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "primitives/serial_pool.h"
#include "primitives/shared_array.h"
#include "primitives/thread_pool.h"

namespace procpar {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Sizes the issue asks for, around p workers: 0, 1, p-1, p, p+1, primes, 2^k and 2^k +- 1
// (around the kernel's 32 lanes too), and more workers than elements.
std::vector<std::size_t> sizes_around(std::size_t p) {
  std::set<std::size_t> sizes = {0, 1, p - 1, p, p + 1, 7, 31, 32, 33, 97, 1021, 65537, 100003};
  for (std::size_t k : {4, 6, 10, 16}) {
    sizes.insert((std::size_t{1} << k) - 1);
    sizes.insert(std::size_t{1} << k);
    sizes.insert((std::size_t{1} << k) + 1);
  }
  return {sizes.begin(), sizes.end()};
}

template <class T>
RawArray<T> random_array(std::size_t n, std::mt19937_64& rng) {
  RawArray<T> a(n);
  auto span = a.span();
  if constexpr (std::is_integral_v<T>) {
    std::uniform_int_distribution<T> value(-1000, 1000);
    for (std::size_t i = 0; i < n; ++i) span[i] = value(rng);
  } else {
    std::uniform_real_distribution<T> value(-1, 1);
    for (std::size_t i = 0; i < n; ++i) span[i] = value(rng);
  }
  return a;
}

TEST(DotSerial, EqualsPlainLoopOnIntegersForEveryTailLength) {
  std::mt19937_64 rng(1);
  for (std::size_t n = 0; n < 200; ++n) {
    auto x = random_array<std::int64_t>(n, rng), y = random_array<std::int64_t>(n, rng);
    std::int64_t expected = 0;
    for (std::size_t i = 0; i < n; ++i) expected += x.span()[i] * y.span()[i];
    EXPECT_EQ(dot_serial(x.span().data(), y.span().data(), n), expected) << "n=" << n;
  }
}

TEST(EvenPart, CoversTheRangeWithSizesDifferingByAtMostOne) {
  for (std::size_t n : {0, 1, 5, 8, 1000003}) {
    for (std::size_t parts : {1, 2, 3, 7, 16}) {
      std::size_t next = 0;
      for (std::size_t i = 0; i < parts; ++i) {
        const auto [begin, end] = even_part(n, parts, i);
        EXPECT_EQ(begin, next);
        EXPECT_LE(end - begin, n / parts + 1);
        EXPECT_GE(end - begin, n / parts);
        next = end;
      }
      EXPECT_EQ(next, n);
    }
  }
}

template <class P>
class DotOnPool : public ::testing::Test {};
using Pools = ::testing::Types<SerialPool, ThreadPool>;
TYPED_TEST_SUITE(DotOnPool, Pools);

TYPED_TEST(DotOnPool, IntegersAreExactForEverySize) {
  std::mt19937_64 rng(2);
  for (std::size_t p : {1, 2, 3, 5}) {
    TypeParam pool(p);
    for (std::size_t n : sizes_around(p)) {
      auto x = random_array<std::int64_t>(n, rng), y = random_array<std::int64_t>(n, rng);
      std::int64_t expected = 0;
      for (std::size_t i = 0; i < n; ++i) expected += x.span()[i] * y.span()[i];
      EXPECT_EQ(dot(pool, x.span(), y.span()), expected) << "p=" << p << " n=" << n;
    }
  }
}

TYPED_TEST(DotOnPool, DoublesStayWithinTheRoundingBound) {
  std::mt19937_64 rng(3);
  const double u = std::numeric_limits<double>::epsilon() / 2;
  const long double u_long = std::numeric_limits<long double>::epsilon() / 2;
  for (std::size_t p : {1, 2, 3}) {
    TypeParam pool(p);
    for (std::size_t n : sizes_around(p)) {
      auto x = random_array<double>(n, rng), y = random_array<double>(n, rng);
      long double exact = 0, magnitude = 0;
      for (std::size_t i = 0; i < n; ++i) {
        exact += static_cast<long double>(x.span()[i]) * y.span()[i];
        magnitude += std::fabs(static_cast<long double>(x.span()[i]) * y.span()[i]);
      }
      // Any order of n rounded products and sums: gamma(n + 1) * sum |x_i y_i|, plus the
      // reference's own (long double) rounding.
      const long double m = n + 1;
      const long double bound = m * u / (1 - m * u) * magnitude + m * u_long * magnitude;
      const double got = dot(pool, x.span(), y.span());
      EXPECT_LE(std::fabs(got - exact), bound) << "p=" << p << " n=" << n;
    }
  }
}

TYPED_TEST(DotOnPool, SameBitsOnEveryPoolForTheSameWorkerCount) {
  std::mt19937_64 rng(4);
  auto x = random_array<double>(100003, rng), y = random_array<double>(100003, rng);
  for (std::size_t p : {1, 2, 3}) {
    SerialPool serial(p);
    TypeParam pool(p);
    EXPECT_EQ(dot(pool, x.span(), y.span()), dot(serial, x.span(), y.span())) << "p=" << p;
  }
}

TYPED_TEST(DotOnPool, FloatsAndMoreWorkersThanElements) {
  TypeParam pool(6);
  RawArray<float> x(4), y(4);
  for (std::size_t i = 0; i < 4; ++i) {
    x.span()[i] = static_cast<float>(i + 1);
    y.span()[i] = 0.5f;
  }
  EXPECT_EQ(dot(pool, x.span(), y.span()), 5.0f);
}

TYPED_TEST(DotOnPool, MismatchedLengthsAreRefused) {
  TypeParam pool(2);
  RawArray<double> x(5), y(6);
  EXPECT_THAT([&] { dot(pool, x.span(), y.span()); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("x has 5 elements but y has 6")));
}

}  // namespace
}  // namespace procpar
