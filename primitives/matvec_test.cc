#include "primitives/matvec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "primitives/serial_pool.h"
#include "primitives/shared_array.h"
#include "primitives/thread_pool.h"

namespace procpar {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Square, tall, wide, single row and column, empty, prime and power-of-two sides, and row counts
// around the number of workers.
std::vector<std::pair<std::size_t, std::size_t>> shapes(std::size_t p) {
  return {{0, 0},    {0, 5},     {5, 0},    {1, 1},     {1, 1000}, {1000, 1}, {p - 1, 33},
          {p, 33},   {p + 1, 33}, {13, 17},  {64, 64},  {63, 65},  {65, 63},  {1000, 3},
          {3, 1000}, {257, 257}, {1, 4099}, {4099, 1}};
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

template <class P>
class MatvecOnPool : public ::testing::Test {};
using Pools = ::testing::Types<SerialPool, ThreadPool>;
TYPED_TEST_SUITE(MatvecOnPool, Pools);

TYPED_TEST(MatvecOnPool, IntegersAreExactForEveryShape) {
  std::mt19937_64 rng(1);
  for (std::size_t p : {1, 2, 3, 5}) {
    TypeParam pool(p);
    for (const auto& [rows, cols] : shapes(p)) {
      auto a = random_array<std::int64_t>(rows * cols, rng);
      auto x = random_array<std::int64_t>(cols, rng);
      RawArray<std::int64_t> y(rows);
      for (std::size_t r = 0; r < rows; ++r) y.span()[r] = 12345;  // must be overwritten
      matvec(pool, a.span(), rows, cols, x.span(), y.span());
      for (std::size_t r = 0; r < rows; ++r) {
        std::int64_t expected = 0;
        for (std::size_t c = 0; c < cols; ++c) expected += a.span()[r * cols + c] * x.span()[c];
        ASSERT_EQ(y.span()[r], expected) << "p=" << p << " " << rows << "x" << cols << " row " << r;
      }
    }
  }
}

TYPED_TEST(MatvecOnPool, DoublesStayWithinTheRoundingBoundWithTheSameBitsAsSerial) {
  std::mt19937_64 rng(2);
  const double u = std::numeric_limits<double>::epsilon() / 2;
  const long double u_long = std::numeric_limits<long double>::epsilon() / 2;
  for (std::size_t p : {1, 2, 3}) {
    TypeParam pool(p);
    for (const auto& [rows, cols] : shapes(p)) {
      auto a = random_array<double>(rows * cols, rng);
      auto x = random_array<double>(cols, rng);
      RawArray<double> y(rows), serial(rows);
      matvec(pool, a.span(), rows, cols, x.span(), y.span());
      matvec_rows(a.span().data(), cols, x.span().data(), serial.span().data(), 0, rows);
      for (std::size_t r = 0; r < rows; ++r) {
        long double exact = 0, magnitude = 0;
        for (std::size_t c = 0; c < cols; ++c) {
          const long double term = static_cast<long double>(a.span()[r * cols + c]) * x.span()[c];
          exact += term;
          magnitude += std::fabs(term);
        }
        const long double m = cols + 1;
        const long double bound = m * u / (1 - m * u) * magnitude + m * u_long * magnitude;
        ASSERT_LE(std::fabs(y.span()[r] - exact), bound) << rows << "x" << cols << " row " << r;
        ASSERT_EQ(y.span()[r], serial.span()[r]) << rows << "x" << cols << " row " << r;
      }
    }
  }
}

TYPED_TEST(MatvecOnPool, ShapesThatDoNotFitAreRefused) {
  TypeParam pool(2);
  RawArray<double> a(12), x3(3), x4(4), y3(3), y4(4);
  EXPECT_THAT([&] { matvec(pool, a.span(), 3, 5, x4.span(), y3.span()); },
              ThrowsMessage<std::invalid_argument>(
                  HasSubstr("a has 12 elements, a 3x5 matrix has 15")));
  EXPECT_THAT([&] { matvec(pool, a.span(), 3, 4, x3.span(), y3.span()); },
              ThrowsMessage<std::invalid_argument>(
                  HasSubstr("x has 3 elements, a 3x4 matrix needs 4")));
  EXPECT_THAT([&] { matvec(pool, a.span(), 3, 4, x4.span(), y4.span()); },
              ThrowsMessage<std::invalid_argument>(
                  HasSubstr("y has 4 elements, a 3x4 matrix gives 3")));
  // rows * cols overflows size_t: refused, not wrapped around to a small product.
  const std::size_t huge = std::size_t{1} << 40;
  EXPECT_THAT([&] { matvec(pool, a.span(), huge, huge, x4.span(), y4.span()); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("matrix has more elements than memory can hold")));
  EXPECT_THAT([&] { matvec(pool, a.span(), 3, 4, x4.span(), a.span().subspan(0, 3)); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("y must not overlap a or x")));
}

}  // namespace
}  // namespace procpar
