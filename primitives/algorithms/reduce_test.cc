#include "primitives/reduce.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <stdexcept>
#include <vector>

#include "primitives/primitive_test_util.h"

namespace procpar {
namespace {

using testing::kWorkers;
using testing::Mat2;
using testing::MatMul;

// The left-to-right fold, one operand at a time: the reference every variant must match.
template <class Op, class T>
T reference_fold(const RawArray<T>& in, T identity) {
  T acc = identity;
  for (std::size_t i = 0; i < in.size(); ++i) acc = Op{}(acc, in[i]);
  return acc;
}

TEST(Fold, MatchesTheLeftFoldOnEveryPathOfTheKernel) {
  std::mt19937_64 rng(1);
  // Below, at and above the thresholds of the accumulator paths (8 scalar chains, 32 lanes).
  for (std::size_t n = 1; n < 300; ++n) {
    const RawArray<Mat2> matrices = testing::random_matrices(n, rng);
    EXPECT_EQ(fold<MatMul>(matrices.data(), n), reference_fold<MatMul>(matrices, Mat2{}))
        << "n=" << n;
    const RawArray<std::uint64_t> integers = testing::random_integers(n, rng);
    EXPECT_EQ(fold<std::plus<>>(integers.data(), n),
              reference_fold<std::plus<>>(integers, std::uint64_t{0}))
        << "n=" << n;
    const RawArray<std::uint64_t> sparse = testing::sparse_integers(n, rng);
    EXPECT_EQ(fold<testing::LastNonZero>(sparse.data(), n),
              reference_fold<testing::LastNonZero>(sparse, std::uint64_t{0}))
        << "n=" << n;
  }
}

TEST(Fold, RefusesAnEmptyInput) {
  const double x = 0;
  EXPECT_THROW(fold<std::plus<>>(&x, 0), std::invalid_argument);
}

TEST(ReduceSerial, GivesTheIdentityForAnEmptyInput) {
  EXPECT_EQ(reduce_serial<std::plus<>>(std::span<const double>(), 7.5), 7.5);
}

TEST(ReduceSerial, SumsDoublesWithinTheErrorBound) {
  std::mt19937_64 rng(2);
  for (const std::size_t n : testing::test_sizes()) {
    const RawArray<double> in = testing::random_doubles(n, rng);
    long double reference = 0, magnitudes = 0;
    for (std::size_t i = 0; i < n; ++i) {
      reference += in[i];
      magnitudes += std::fabs(in[i]);
    }
    const double got = reduce_serial<std::plus<>>(std::span<const double>(in.data(), n), 0.0);
    EXPECT_TRUE(testing::sum_is_close(got, reference, n, magnitudes)) << "n=" << n;
  }
}

template <class P>
class ReduceTest : public ::testing::Test {
 protected:
  P pool_{kWorkers};
};
TYPED_TEST_SUITE(ReduceTest, testing::PoolTypes);

TYPED_TEST(ReduceTest, PartitionedKeepsTheOrderOfANonCommutativeOperator) {
  std::mt19937_64 rng(3);
  for (const std::size_t n : testing::test_sizes_up_to(4097)) {
    const RawArray<Mat2> in = testing::random_matrices(n, rng);
    EXPECT_EQ(reduce_partitioned<MatMul>(this->pool_, in.span(), Mat2{}),
              reference_fold<MatMul>(in, Mat2{}))
        << "n=" << n;
  }
}

TYPED_TEST(ReduceTest, PartitionedIsExactOnIntegers) {
  std::mt19937_64 rng(4);
  for (const std::size_t n : testing::test_sizes()) {
    const RawArray<std::uint64_t> in = testing::random_integers(n, rng);
    EXPECT_EQ(reduce_partitioned<std::plus<>>(this->pool_, in.span(), std::uint64_t{0}),
              reference_fold<std::plus<>>(in, std::uint64_t{0}))
        << "n=" << n;
  }
}

TYPED_TEST(ReduceTest, PartitionedSumsDoublesWithinTheErrorBound) {
  std::mt19937_64 rng(5);
  for (const std::size_t n : testing::test_sizes()) {
    const RawArray<double> in = testing::random_doubles(n, rng);
    long double reference = 0, magnitudes = 0;
    for (std::size_t i = 0; i < n; ++i) {
      reference += in[i];
      magnitudes += std::fabs(in[i]);
    }
    const double got = reduce_partitioned<std::plus<>>(this->pool_, in.span(), 0.0);
    EXPECT_TRUE(testing::sum_is_close(got, reference, n, magnitudes)) << "n=" << n;
  }
}

TYPED_TEST(ReduceTest, TreeKeepsTheOrderOfANonCommutativeOperator) {
  std::mt19937_64 rng(6);
  for (const std::size_t n : testing::test_sizes_up_to(127)) {
    const RawArray<Mat2> in = testing::random_matrices(n, rng);
    EXPECT_EQ(reduce_tree<MatMul>(this->pool_, in.span(), Mat2{}),
              reference_fold<MatMul>(in, Mat2{}))
        << "n=" << n;
  }
}

TYPED_TEST(ReduceTest, TreeIsExactOnIntegers) {
  std::mt19937_64 rng(7);
  for (const std::size_t n : testing::test_sizes_up_to(127)) {
    const RawArray<std::uint64_t> in = testing::random_integers(n, rng);
    EXPECT_EQ(reduce_tree<std::plus<>>(this->pool_, in.span(), std::uint64_t{0}),
              reference_fold<std::plus<>>(in, std::uint64_t{0}))
        << "n=" << n;
  }
}

TYPED_TEST(ReduceTest, TreeGivesTheSameBitsWhateverTheNumberOfWorkers) {
  std::mt19937_64 rng(8);
  const RawArray<double> in = testing::random_doubles(97, rng);
  TypeParam one_worker(1);
  const double with_one = reduce_tree<std::plus<>>(one_worker, in.span(), 0.0);
  EXPECT_EQ(reduce_tree<std::plus<>>(this->pool_, in.span(), 0.0), with_one);
}

// Its blocks are cut by n alone, so the partitioned reduction too gives the same bits for every
// number of workers, for a small input (a few small blocks) and a large one (several of the
// largest).
TYPED_TEST(ReduceTest, PartitionedGivesTheSameBitsWhateverTheNumberOfWorkers) {
  std::mt19937_64 rng(10);
  for (const std::size_t n : {std::size_t{5003}, std::size_t{600011}}) {
    const RawArray<double> in = testing::random_doubles(n, rng);
    SerialPool serial(1);
    const double expected = reduce_partitioned<std::plus<>>(serial, in.span(), 0.0);
    for (const std::size_t workers : {1, 2, 3, 8}) {
      TypeParam pool(workers);
      EXPECT_EQ(std::bit_cast<std::uint64_t>(
                    reduce_partitioned<std::plus<>>(pool, in.span(), 0.0)),
                std::bit_cast<std::uint64_t>(expected))
          << "n=" << n << " workers=" << workers;
    }
  }
}

TYPED_TEST(ReduceTest, MoreWorkersThanElements) {
  std::mt19937_64 rng(9);
  TypeParam many(8);
  for (const std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{7}}) {
    const RawArray<Mat2> in = testing::random_matrices(n, rng);
    const Mat2 expected = reference_fold<MatMul>(in, Mat2{});
    EXPECT_EQ(reduce_partitioned<MatMul>(many, in.span(), Mat2{}), expected) << "n=" << n;
    EXPECT_EQ(reduce_tree<MatMul>(many, in.span(), Mat2{}), expected) << "n=" << n;
  }
}

TYPED_TEST(ReduceTest, GiveTheIdentityForAnEmptyInput) {
  const RawArray<double> empty(0);
  EXPECT_EQ(reduce_partitioned<std::plus<>>(this->pool_, empty.span(), -1.5), -1.5);
  EXPECT_EQ(reduce_tree<std::plus<>>(this->pool_, empty.span(), -1.5), -1.5);
}

}  // namespace
}  // namespace procpar
