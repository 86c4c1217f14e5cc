#include "primitives/scan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <stdexcept>
#include <vector>

#include "primitives/primitive_test_util.h"

namespace procpar {
namespace {

using testing::kWorkers;
using testing::Mat2;
using testing::MatMul;

// Prefixes one operand at a time, left to right.
template <class Op, class T>
std::vector<T> reference_scan(const RawArray<T>& in, T identity, bool inclusive) {
  std::vector<T> out(in.size());
  T acc = identity;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (!inclusive) out[i] = acc;
    acc = Op{}(acc, in[i]);
    if (inclusive) out[i] = acc;
  }
  return out;
}

template <class T>
std::vector<T> contents(const RawArray<T>& array) {
  return std::vector<T>(array.begin(), array.end());
}

// Both parallel scans, inclusive and exclusive, behind one signature.
enum class Algorithm { kTwoPass, kReduceThenScan };

template <class S, class P, class T>
T parallel_scan(Algorithm algorithm, P& pool, RawSpan<T> in, RawSpan<T> out, T identity) {
  return algorithm == Algorithm::kTwoPass ? scan_two_pass<S>(pool, in, out, identity)
                                          : scan_reduce_then_scan<S>(pool, in, out, identity);
}

template <class P>
class ScanTest : public ::testing::Test {
 protected:
  P pool_{kWorkers};
};
TYPED_TEST_SUITE(ScanTest, testing::PoolTypes);

constexpr Algorithm kAlgorithms[] = {Algorithm::kTwoPass, Algorithm::kReduceThenScan};

TYPED_TEST(ScanTest, KeepTheOrderOfANonCommutativeOperator) {
  std::mt19937_64 rng(11);
  for (const Algorithm algorithm : kAlgorithms) {
    for (const std::size_t n : testing::test_sizes_up_to(4097)) {
      const RawArray<Mat2> in = testing::random_matrices(n, rng);
      RawArray<Mat2> out(n);
      const Mat2 inclusive_total =
          parallel_scan<InclusiveScan<MatMul>>(algorithm, this->pool_, in.span(), out.span(), Mat2{});
      const std::vector<Mat2> inclusive = reference_scan<MatMul>(in, Mat2{}, true);
      EXPECT_EQ(contents(out), inclusive) << "n=" << n;
      EXPECT_EQ(inclusive_total, n == 0 ? Mat2{} : inclusive.back()) << "n=" << n;

      const Mat2 exclusive_total =
          parallel_scan<ExclusiveScan<MatMul>>(algorithm, this->pool_, in.span(), out.span(), Mat2{});
      EXPECT_EQ(contents(out), reference_scan<MatMul>(in, Mat2{}, false)) << "n=" << n;
      EXPECT_EQ(exclusive_total, inclusive_total) << "n=" << n;
    }
  }
}

TYPED_TEST(ScanTest, KeepTheOrderOfANonCommutativeOperatorOnIntegers) {
  std::mt19937_64 rng(16);
  for (const Algorithm algorithm : kAlgorithms) {
    for (const std::size_t n : testing::test_sizes()) {
      const RawArray<std::uint64_t> in = testing::sparse_integers(n, rng);
      RawArray<std::uint64_t> out(n);
      parallel_scan<InclusiveScan<testing::LastNonZero>>(algorithm, this->pool_, in.span(),
                                                         out.span(), std::uint64_t{0});
      EXPECT_EQ(contents(out), reference_scan<testing::LastNonZero>(in, std::uint64_t{0}, true))
          << "n=" << n;
      parallel_scan<ExclusiveScan<testing::LastNonZero>>(algorithm, this->pool_, in.span(),
                                                         out.span(), std::uint64_t{0});
      EXPECT_EQ(contents(out), reference_scan<testing::LastNonZero>(in, std::uint64_t{0}, false))
          << "n=" << n;
    }
  }
}

TYPED_TEST(ScanTest, AreExactOnIntegers) {
  std::mt19937_64 rng(12);
  for (const Algorithm algorithm : kAlgorithms) {
    for (const std::size_t n : testing::test_sizes()) {
      const RawArray<std::uint64_t> in = testing::random_integers(n, rng);
      RawArray<std::uint64_t> out(n);
      parallel_scan<InclusiveScan<std::plus<>>>(algorithm, this->pool_, in.span(), out.span(),
                                                std::uint64_t{0});
      EXPECT_EQ(contents(out), reference_scan<std::plus<>>(in, std::uint64_t{0}, true))
          << "n=" << n;
      parallel_scan<ExclusiveScan<std::plus<>>>(algorithm, this->pool_, in.span(), out.span(),
                                                std::uint64_t{0});
      EXPECT_EQ(contents(out), reference_scan<std::plus<>>(in, std::uint64_t{0}, false))
          << "n=" << n;
    }
  }
}

TYPED_TEST(ScanTest, SumDoublesWithinTheErrorBoundOfEachPrefix) {
  std::mt19937_64 rng(13);
  for (const Algorithm algorithm : kAlgorithms) {
    for (const std::size_t n : testing::test_sizes()) {
      const RawArray<double> in = testing::random_doubles(n, rng);
      RawArray<double> out(n);
      parallel_scan<InclusiveScan<std::plus<>>>(algorithm, this->pool_, in.span(), out.span(), 0.0);
      long double reference = 0, magnitudes = 0;
      for (std::size_t i = 0; i < n; ++i) {
        reference += in[i];
        magnitudes += std::fabs(in[i]);
        // out[i] adds i + 1 elements and possibly the identity and an offset: i + 2 terms.
        ASSERT_TRUE(testing::sum_is_close(out[i], reference, i + 2, magnitudes))
            << "n=" << n << " i=" << i;
      }
    }
  }
}

TYPED_TEST(ScanTest, WorkInPlace) {
  std::mt19937_64 rng(14);
  for (const Algorithm algorithm : kAlgorithms) {
    for (const std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{1025}}) {
      RawArray<Mat2> data = testing::random_matrices(n, rng);
      const std::vector<Mat2> expected = reference_scan<MatMul>(data, Mat2{}, false);
      parallel_scan<ExclusiveScan<MatMul>>(algorithm, this->pool_, data.span(), data.span(),
                                           Mat2{});
      EXPECT_EQ(contents(data), expected) << "n=" << n;
    }
  }
}

TYPED_TEST(ScanTest, MoreWorkersThanElements) {
  std::mt19937_64 rng(15);
  TypeParam many(8);
  for (const Algorithm algorithm : kAlgorithms) {
    for (const std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{7}}) {
      const RawArray<Mat2> in = testing::random_matrices(n, rng);
      RawArray<Mat2> out(n);
      parallel_scan<InclusiveScan<MatMul>>(algorithm, many, in.span(), out.span(), Mat2{});
      EXPECT_EQ(contents(out), reference_scan<MatMul>(in, Mat2{}, true)) << "n=" << n;
    }
  }
}

TYPED_TEST(ScanTest, RefuseMismatchedLengths) {
  const RawArray<double> in(10);
  RawArray<double> out(9);
  try {
    scan_two_pass<InclusiveScan<std::plus<>>>(this->pool_, in.span(), out.span(), 0.0);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "scan_two_pass: input has 10 elements but output has 9");
  }
  EXPECT_THROW(
      scan_reduce_then_scan<ExclusiveScan<std::plus<>>>(this->pool_, in.span(), out.span(), 0.0),
      std::invalid_argument);
}

}  // namespace
}  // namespace procpar
