#include "primitives/matvec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <random>
#include <utility>
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

// Square, tall, wide, single row and column, empty, prime and power-of-two sides, and row counts
// around the number of workers.
std::vector<std::pair<std::size_t, std::size_t>> shapes() {
  constexpr std::size_t p = kWorkers;
  return {{0, 0},    {0, 5},    {5, 0},     {1, 1},   {1, 1000}, {1000, 1}, {p - 1, 33},
          {p, 33},   {p + 1, 33}, {13, 17}, {64, 64}, {63, 65},  {65, 63},  {1000, 3},
          {3, 1000}, {257, 257}, {1, 4099}, {4099, 1}};
}

template <class P>
class MatvecOnPool : public testing::WatchedTest<P> {};
TYPED_TEST_SUITE(MatvecOnPool, testing::PoolTypes);

TYPED_TEST(MatvecOnPool, IntegersAreExactForEveryShape) {
  std::mt19937_64 rng(1);
  TypeParam pool(kWorkers);
  for (const auto& [rows, cols] : shapes()) {
    const auto a = random_integers(rows * cols, rng), x = random_integers(cols, rng);
    RawArray<std::uint64_t> y(rows);
    for (std::size_t r = 0; r < rows; ++r) y[r] = 12345;  // must be overwritten
    matvec(pool, a.span(), rows, cols, x.span(), y.span());
    for (std::size_t r = 0; r < rows; ++r) {
      std::uint64_t expected = 0;  // modulo 2^64: exact in any order
      for (std::size_t c = 0; c < cols; ++c) expected += a[r * cols + c] * x[c];
      ASSERT_EQ(y[r], expected) << rows << "x" << cols << " row " << r;
    }
  }
}

TYPED_TEST(MatvecOnPool, DoublesStayWithinTheRoundingBoundWithTheSameBitsAsSerial) {
  std::mt19937_64 rng(2);
  for (std::size_t p : {1, 2, 3}) {
    TypeParam pool(p);
    for (const auto& [rows, cols] : shapes()) {
      const auto a = random_doubles(rows * cols, rng), x = random_doubles(cols, rng);
      RawArray<double> y(rows), serial(rows);
      matvec(pool, a.span(), rows, cols, x.span(), y.span());
      matvec_rows(a.data(), cols, x.data(), serial.data(), 0, rows);
      for (std::size_t r = 0; r < rows; ++r) {
        long double reference = 0, magnitude = 0;
        for (std::size_t c = 0; c < cols; ++c) {
          const long double product = static_cast<long double>(a[r * cols + c]) * x[c];
          reference += product;
          magnitude += std::fabs(product);
        }
        // Each row is a dot product of length cols (see dot_test.cc for the bound).
        ASSERT_TRUE(testing::sum_is_close(y[r], reference, cols + 1, magnitude))
            << "p=" << p << " " << rows << "x" << cols << " row " << r;
        ASSERT_EQ(y[r], serial[r]) << "p=" << p << " " << rows << "x" << cols << " row " << r;
      }
    }
  }
}

// A type outside GCC's vector extensions takes the generic kernel.
TYPED_TEST(MatvecOnPool, ComplexNumbersTakeTheGenericKernel) {
  using C = std::complex<double>;
  TypeParam pool(kWorkers);
  const std::size_t rows = 7, cols = 5;
  RawArray<C> a(rows * cols), x(cols), y(rows);
  for (std::size_t i = 0; i < rows * cols; ++i) a[i] = C(static_cast<double>(i % 4), 1.0);
  for (std::size_t c = 0; c < cols; ++c) x[c] = C(1.0, static_cast<double>(c));
  matvec(pool, a.span(), rows, cols, x.span(), y.span());
  for (std::size_t r = 0; r < rows; ++r) {
    C expected = 0;
    for (std::size_t c = 0; c < cols; ++c) expected += a[r * cols + c] * x[c];
    EXPECT_EQ(y[r], expected) << "row " << r;  // small integers: exact
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
