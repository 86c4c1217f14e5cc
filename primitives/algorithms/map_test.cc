#include "primitives/map.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>

#include "primitives/primitive_test_util.h"

namespace procpar {
namespace {

using testing::kWorkers;

struct Collatz {  // steps to reach 1: uneven work per element
  std::uint32_t operator()(std::uint64_t x) const {
    std::uint32_t steps = 0;
    for (x = x == 0 ? 1 : x; x != 1; ++steps) x = x % 2 == 0 ? x / 2 : 3 * x + 1;
    return steps;
  }
};

struct SquareRoot {
  double operator()(double x) const { return std::sqrt(std::fabs(x)); }
};

template <class P>
class MapTest : public ::testing::Test {
 protected:
  P pool_{kWorkers};
};
TYPED_TEST_SUITE(MapTest, testing::PoolTypes);

TYPED_TEST(MapTest, MapsEveryElementAtEveryChunkSize) {
  std::mt19937_64 rng(31);
  for (const std::size_t n : testing::test_sizes()) {
    if (n > 5000) continue;  // chunksize 1 is a pool task per element
    const RawArray<double> in = testing::random_doubles(n, rng);
    for (const std::size_t chunksize :
         {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{7}, n + 1}) {
      RawArray<double> out(n);
      map<SquareRoot>(this->pool_, in.span(), out.span(), chunksize);
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(out[i], std::sqrt(std::fabs(in[i]))) << "n=" << n << " chunksize=" << chunksize;
      }
    }
  }
}

TYPED_TEST(MapTest, MapsLargeInputsAtTheDefaultChunkSize) {
  std::mt19937_64 rng(32);
  const std::size_t n = 100003;
  RawArray<std::uint64_t> in = testing::random_integers(n, rng);
  for (std::size_t i = 0; i < n; ++i) in[i] %= 1000000;
  RawArray<std::uint32_t> out(n);
  map<Collatz>(this->pool_, in.span(), out.span());
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], Collatz{}(in[i])) << "i=" << i;
}

TYPED_TEST(MapTest, TabulatesTheIndexRange) {
  for (const std::size_t n : testing::test_sizes()) {
    RawArray<std::uint32_t> out(n);
    tabulate<Collatz>(this->pool_, out.span(), n < 5000 ? 3 : 0);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], Collatz{}(i)) << "n=" << n;
  }
}

TYPED_TEST(MapTest, AcceptsACaptureLessLambdaType) {
  RawArray<int> in(100);
  for (int i = 0; i < 100; ++i) in[i] = i;
  RawArray<long> out(100);
  using Twice = decltype([](int x) { return 2L * x; });
  map<Twice>(this->pool_, in.span(), out.span(), 9);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(out[i], 2L * i);
}

TYPED_TEST(MapTest, MoreWorkersThanElements) {
  TypeParam many(8);
  RawArray<std::uint32_t> out(3);
  tabulate<Collatz>(many, out.span(), 1);
  EXPECT_EQ(out[0], 0u);
  EXPECT_EQ(out[1], 0u);
  EXPECT_EQ(out[2], 1u);
}

TYPED_TEST(MapTest, RefusesMismatchedLengths) {
  const RawArray<double> in(4);
  RawArray<double> out(5);
  try {
    map<SquareRoot>(this->pool_, in.span(), out.span());
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "map: input has 4 elements but output has 5");
  }
}

struct Increment {
  std::uint64_t operator()(std::uint64_t x) const { return x + 1; }
};

// In place (out is in) each element is read before it is written; a shifted output would
// overwrite elements another chunk has yet to read.
TYPED_TEST(MapTest, WorksInPlaceAndRefusesAnOutputOverlappingTheInputOtherwise) {
  RawArray<std::uint64_t> memory(1000);
  for (std::size_t i = 0; i < memory.size(); ++i) memory[i] = i;
  const RawSpan<std::uint64_t> m = memory.span();
  map<Increment>(this->pool_, m, m, 7);
  for (std::size_t i = 0; i < memory.size(); ++i) ASSERT_EQ(memory[i], i + 1) << "i=" << i;
  for (const auto& [in, out] : {std::pair{m.subspan(0, 999), m.subspan(1, 999)},
                                std::pair{m.subspan(1, 999), m.subspan(0, 999)},
                                std::pair{m.subspan(0, 500), m.subspan(499, 500)}}) {
    try {
      map<Increment>(this->pool_, in, out, 7);
      ADD_FAILURE() << "no error";
    } catch (const std::invalid_argument& e) {
      EXPECT_STREQ(e.what(), "map: the output overlaps the input without being the input");
    }
  }
  for (std::size_t i = 0; i < memory.size(); ++i) ASSERT_EQ(memory[i], i + 1) << "written";
}

}  // namespace
}  // namespace procpar
