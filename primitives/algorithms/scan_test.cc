#include "primitives/scan.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
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

// The parallel scans, inclusive and exclusive, behind one signature. kSmallBlocks is the
// single-pass scan with blocks of 3 elements, so that small inputs have many blocks.
enum class Algorithm { kTwoPass, kReduceThenScan, kSinglePass, kSmallBlocks };

template <class S, class P, class T>
T parallel_scan(Algorithm algorithm, P& pool, RawSpan<T> in, RawSpan<T> out, T identity) {
  switch (algorithm) {
    case Algorithm::kTwoPass:
      return scan_two_pass<S>(pool, in, out, identity);
    case Algorithm::kReduceThenScan:
      return scan_reduce_then_scan<S>(pool, in, out, identity);
    case Algorithm::kSinglePass:
      return scan_single_pass<S>(pool, in, out, identity);
    case Algorithm::kSmallBlocks:
      return single_pass_detail::run_blocks<true>(
          pool, scan_detail::checked_single_pass_kernel<S>(in, out, identity), 3,
          "scan_single_pass");
  }
  throw std::logic_error("unknown algorithm");
}

template <class P>
class ScanTest : public ::testing::Test {
 protected:
  P pool_{kWorkers};
};
TYPED_TEST_SUITE(ScanTest, testing::PoolTypes);

constexpr Algorithm kAlgorithms[] = {Algorithm::kTwoPass, Algorithm::kReduceThenScan,
                                     Algorithm::kSinglePass, Algorithm::kSmallBlocks};
// The scans that may write over their input.
constexpr Algorithm kInPlaceAlgorithms[] = {Algorithm::kTwoPass, Algorithm::kReduceThenScan};

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
  for (const Algorithm algorithm : kInPlaceAlgorithms) {
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
  EXPECT_THROW(
      scan_single_pass<ExclusiveScan<std::plus<>>>(this->pool_, in.span(), out.span(), 0.0),
      std::invalid_argument);
}

TYPED_TEST(ScanTest, SinglePassRefusesOverlappingArrays) {
  RawArray<double> data(10);
  try {
    scan_single_pass<InclusiveScan<std::plus<>>>(this->pool_, data.span(), data.span(), 0.0);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "scan_single_pass: out overlaps in (scan in place with scan_reduce_then_scan)");
  }
  EXPECT_THROW(scan_single_pass<InclusiveScan<std::plus<>>>(
                   this->pool_, data.span().subspan(0, 6), data.span().subspan(4, 6), 0.0),
               std::invalid_argument);
  // Adjacent is not overlapping.
  data[0] = 1;
  data[1] = 2;
  scan_single_pass<InclusiveScan<std::plus<>>>(this->pool_, data.span().subspan(0, 2),
                                               data.span().subspan(2, 2), 0.0);
  EXPECT_EQ(data[2], 1.0);
  EXPECT_EQ(data[3], 3.0);
}

// The two-pass scans work in place (WorkInPlace), but an output shifted against the input
// would be written by one piece's task while another still reads it.
TYPED_TEST(ScanTest, TwoPassScansRefuseAnOutputOverlappingTheInputOtherwise) {
  RawArray<double> memory(100);
  for (std::size_t i = 0; i < memory.size(); ++i) memory[i] = 1.0;
  const RawSpan<double> m = memory.span();
  for (const Algorithm algorithm : kInPlaceAlgorithms) {
    const std::string name =
        algorithm == Algorithm::kTwoPass ? "scan_two_pass" : "scan_reduce_then_scan";
    for (const auto& [in, out] : {std::pair{m.subspan(0, 99), m.subspan(1, 99)},
                                  std::pair{m.subspan(1, 99), m.subspan(0, 99)},
                                  std::pair{m.subspan(0, 50), m.subspan(49, 50)}}) {
      try {
        parallel_scan<InclusiveScan<std::plus<>>>(algorithm, this->pool_, in, out, 0.0);
        ADD_FAILURE() << name << ": no error";
      } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()),
                  name + ": the output overlaps the input without being the input");
      }
    }
  }
  for (std::size_t i = 0; i < memory.size(); ++i) ASSERT_EQ(memory[i], 1.0) << "written";
}

// The largest block of a single-pass scan of 8-byte elements (single_pass.h).
constexpr std::size_t kLargestBlock = single_pass_detail::kMaxBlockBytes / 16;

// Floating point: the single-pass scan's blocks do not depend on the number of workers, so its
// results have the same bits on every pool and every number of workers, for small calls (cut
// into a few small blocks) and large ones (blocks of the largest size) alike.
TYPED_TEST(ScanTest, SinglePassGivesTheSameBitsForAnyNumberOfWorkers) {
  std::mt19937_64 rng(17);
  for (const std::size_t n : {std::size_t{5000}, kLargestBlock - 1, 3 * kLargestBlock + 5}) {
    ASSERT_GT(n, single_pass_block(n, 16)) << "n=" << n << " must make more than one block";
    const RawArray<double> in = testing::random_doubles(n, rng);
    SerialPool serial(1);
    RawArray<double> expected(n);
    const double expected_total =
        scan_single_pass<InclusiveScan<std::plus<>>>(serial, in.span(), expected.span(), 0.0);
    for (const std::size_t workers : {1, 2, 3, 8}) {
      TypeParam pool(workers);
      RawArray<double> out(n);
      const double total =
          scan_single_pass<InclusiveScan<std::plus<>>>(pool, in.span(), out.span(), 0.0);
      EXPECT_EQ(std::memcmp(out.data(), expected.data(), n * sizeof(double)), 0)
          << "n=" << n << " workers=" << workers;
      EXPECT_EQ(std::bit_cast<std::uint64_t>(total), std::bit_cast<std::uint64_t>(expected_total))
          << "n=" << n << " workers=" << workers;
    }
  }
}

// The streaming-store scans write what the plain ones write, at any alignment of the output and
// for every streamable width, inclusive and exclusive.
template <class T>
void expect_streaming_equals_plain(std::mt19937_64& rng) {
  const std::size_t n = 1003;
  std::vector<T> in(n);
  for (T& x : in) x = static_cast<T>(rng() % 1000) / static_cast<T>(8);
  for (const std::size_t offset : {0, 1, 3}) {
    std::vector<T> plain(n + offset), streamed(n + offset);
    const T plain_total =
        InclusiveScan<std::plus<>>{}(in.data(), n, plain.data() + offset, static_cast<T>(2));
    const T streamed_total = InclusiveScan<std::plus<>>{}(
        in.data(), n, streamed.data() + offset, static_cast<T>(2), scan_detail::streaming_stores);
    EXPECT_EQ(std::memcmp(plain.data(), streamed.data(), plain.size() * sizeof(T)), 0)
        << "inclusive, offset " << offset;
    EXPECT_EQ(plain_total, streamed_total);
    ExclusiveScan<std::plus<>>{}(in.data(), n, plain.data() + offset, static_cast<T>(2));
    ExclusiveScan<std::plus<>>{}(in.data(), n, streamed.data() + offset, static_cast<T>(2),
                                 scan_detail::streaming_stores);
    EXPECT_EQ(std::memcmp(plain.data(), streamed.data(), plain.size() * sizeof(T)), 0)
        << "exclusive, offset " << offset;
  }
}

TEST(SerialScan, StreamingStoresWriteWhatPlainStoresWrite) {
  static_assert(scan_detail::kStreamable<double> && scan_detail::kStreamable<float> &&
                scan_detail::kStreamable<std::int32_t> && scan_detail::kStreamable<std::uint64_t>);
  std::mt19937_64 rng(23);
  expect_streaming_equals_plain<double>(rng);
  expect_streaming_equals_plain<float>(rng);
  expect_streaming_equals_plain<std::int32_t>(rng);
  expect_streaming_equals_plain<std::uint64_t>(rng);
}

// An input and output larger than the last-level cache take the streaming stores; what the pool's
// workers wrote must be whole and in place when the call returns.
TYPED_TEST(ScanTest, SinglePassIsExactWhereItStreamsItsOutput) {
  const std::size_t n = scan_detail::last_level_cache_bytes() / sizeof(std::uint64_t) / 2 + 5;
  RawArray<std::uint64_t> in(n), out(n);
  for (std::size_t i = 0; i < n; ++i) in[i] = i % 7;
  const std::uint64_t total = scan_single_pass<ExclusiveScan<std::plus<>>>(
      this->pool_, in.span(), out.span(), std::uint64_t{0});
  std::uint64_t acc = 0;
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i) {
    wrong += out[i] != acc;
    acc += in[i];
  }
  EXPECT_EQ(wrong, 0u) << "of " << n;
  EXPECT_EQ(total, acc);
}

// The calling thread keeps its board for the next call: calls of every size in any order, and a
// call in a forked child (which must not reuse its parent's board), still give the right result.
TYPED_TEST(ScanTest, SinglePassCallsReuseTheBoardSafely) {
  std::mt19937_64 rng(19);
  const std::size_t block = kLargestBlock;
  const auto scan_is_right = [&](std::size_t n) {
    const RawArray<std::uint64_t> in = testing::random_integers(n, rng);
    RawArray<std::uint64_t> out(n);
    scan_single_pass<InclusiveScan<std::plus<>>>(this->pool_, in.span(), out.span(),
                                                 std::uint64_t{0});
    return contents(out) == reference_scan<std::plus<>>(in, std::uint64_t{0}, true);
  };
  for (const std::size_t n : {5 * block + 1, block, 2 * block - 1, 9 * block, 3 * block}) {
    EXPECT_TRUE(scan_is_right(n)) << "n=" << n;
  }
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    SerialPool serial(1);  // a pool of the parent must not be used in a child
    RawArray<std::uint64_t> in(2 * block + 3), out(2 * block + 3);
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = i;
    scan_single_pass<InclusiveScan<std::plus<>>>(serial, in.span(), out.span(), std::uint64_t{0});
    bool right = true;
    for (std::size_t i = 0; i < out.size(); ++i) right = right && out[i] == i * (i + 1) / 2;
    _exit(right ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_TRUE(scan_is_right(4 * block + 7));
}

}  // namespace
}  // namespace procpar
