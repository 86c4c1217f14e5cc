#include "primitives/dot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "primitives/primitive_test_util.h"
#include "primitives/shared_array.h"

namespace procpar {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;
using testing::kWorkers;
using testing::random_doubles;
using testing::random_integers;
using testing::test_sizes;

// Products and sums modulo 2^64: exact, so any grouping gives the same answer.
std::uint64_t plain_dot(const RawArray<std::uint64_t>& x, const RawArray<std::uint64_t>& y) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sum += x[i] * y[i];
  return sum;
}

TEST(DotSerial, EqualsThePlainLoopForEveryTailLength) {
  std::mt19937_64 rng(1);
  for (std::size_t n = 0; n < 200; ++n) {
    const auto x = random_integers(n, rng), y = random_integers(n, rng);
    EXPECT_EQ(dot_serial(x.data(), y.data(), n), plain_dot(x, y)) << "n=" << n;
  }
}

template <class P>
class DotOnPool : public testing::WatchedTest<P> {};
TYPED_TEST_SUITE(DotOnPool, testing::PoolTypes);

TYPED_TEST(DotOnPool, IntegersAreExactForEverySize) {
  std::mt19937_64 rng(2);
  TypeParam pool(kWorkers);
  for (std::size_t n : test_sizes()) {
    const auto x = random_integers(n, rng), y = random_integers(n, rng);
    EXPECT_EQ(dot(pool, x.span(), y.span()), plain_dot(x, y)) << "n=" << n;
  }
}

TYPED_TEST(DotOnPool, DoublesStayWithinTheRoundingBound) {
  std::mt19937_64 rng(3);
  TypeParam pool(kWorkers);
  for (std::size_t n : test_sizes()) {
    const auto x = random_doubles(n, rng), y = random_doubles(n, rng);
    long double reference = 0, magnitude = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const long double product = static_cast<long double>(x[i]) * y[i];
      reference += product;
      magnitude += std::fabs(product);
    }
    // A dot product of length n computed in any order errs by at most gamma_n sum |x_i y_i|
    // (Higham 3.1), for the double result and for the long double reference alike: the bound
    // that sum_is_close applies to a sum of n + 1 terms.
    EXPECT_TRUE(testing::sum_is_close(dot(pool, x.span(), y.span()), reference, n + 1, magnitude))
        << "n=" << n;
  }
}

// The blocks depend on n alone: every pool and every number of workers gives the same bits, for
// a small input (a few small blocks) and a large one (several of the largest).
TYPED_TEST(DotOnPool, SameBitsForEveryPoolAndNumberOfWorkers) {
  std::mt19937_64 rng(4);
  for (const std::size_t n : {std::size_t{3001}, std::size_t{300007}}) {
    const auto x = random_doubles(n, rng), y = random_doubles(n, rng);
    SerialPool serial(1);
    const double expected = dot(serial, x.span(), y.span());
    for (std::size_t p : {1, 2, 3, 7}) {
      TypeParam pool(p);
      EXPECT_EQ(dot(pool, x.span(), y.span()), expected) << "n=" << n << " p=" << p;
    }
  }
}

TYPED_TEST(DotOnPool, FloatsWithMoreWorkersThanElements) {
  TypeParam pool(6);
  RawArray<float> x(4), y(4);
  for (std::size_t i = 0; i < 4; ++i) {
    x[i] = static_cast<float>(i + 1);
    y[i] = 0.5f;
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
