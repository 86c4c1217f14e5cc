#include "primitives/single_pass.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "primitives/primitive_test_util.h"
#include "primitives/scan.h"

namespace procpar {
namespace {

using testing::Mat2;
using testing::MatMul;

// A kernel whose blocks each write their own positions: a block's summary is its length, and
// its finish writes out[i] = its prefix + (i - begin), so out[i] == i everywhere exactly when
// every block got the right prefix and was finished once (a block finished twice adds to
// `finishes` twice).
struct PositionKernel {
  using Summary = std::uint64_t;
  RawSpan<std::uint64_t> out;
  RawSpan<std::uint64_t> finishes;  // per element

  struct Bound {
    std::uint64_t* out;
    std::uint64_t* finishes;
    std::uint64_t fold(std::size_t begin, std::size_t end) const { return end - begin; }
    std::uint64_t combine(std::uint64_t a, std::uint64_t b) const { return a + b; }
    void finish(std::size_t begin, std::size_t end, std::uint64_t prefix,
                std::uint64_t aggregate) const {
      // (Thrown, not EXPECTed: on a ProcessPool this runs in a worker, whose failed task the
      // caller sees.)
      if (aggregate != end - begin) throw std::logic_error("finish given a wrong aggregate");
      for (std::size_t i = begin; i < end; ++i) {
        out[i] = prefix + (i - begin);
        ++finishes[i];
      }
    }
  };

  std::size_t size() const { return out.size(); }
  std::size_t bytes_per_element() const { return sizeof(std::uint64_t); }
  std::uint64_t identity() const { return 0; }
  Bound bind() const { return Bound{out.data(), finishes.data()}; }
};

template <class P>
class SinglePassTest : public ::testing::Test {};
TYPED_TEST_SUITE(SinglePassTest, testing::PoolTypes);

TYPED_TEST(SinglePassTest, EveryBlockIsFinishedOnceFromItsPrefix) {
  for (const std::size_t workers : {1, 2, 3, 8}) {
    TypeParam pool(workers);
    for (const std::size_t n : {0, 1, 2, 7, 100, 1001}) {
      for (const std::size_t block : {std::size_t{1}, std::size_t{3}, std::size_t{64}, n + 1}) {
        RawArray<std::uint64_t> out(n), finishes(n);
        const std::uint64_t total = single_pass_detail::run_blocks<true>(
            pool, PositionKernel{out.span(), finishes.span()}, std::max<std::size_t>(block, 1),
            "test");
        EXPECT_EQ(total, n);
        for (std::size_t i = 0; i < n; ++i) {
          ASSERT_EQ(out[i], i) << "workers=" << workers << " n=" << n << " block=" << block;
          ASSERT_EQ(finishes[i], 1u) << "workers=" << workers << " n=" << n << " i=" << i;
        }
      }
    }
  }
}

// The block size: n and the element's bytes alone decide it; a small call still makes
// kSmallCallBlocks blocks unless they would be under kMinBlockBytes, and no block exceeds
// kMaxBlockBytes.
TEST(SinglePassBlock, DependsOnTheCallsBytesOnly) {
  using single_pass_detail::kMaxBlockBytes;
  using single_pass_detail::kMinBlockBytes;
  using single_pass_detail::kSmallCallBlocks;
  EXPECT_EQ(single_pass_block(1, 8), kMinBlockBytes / 8);
  EXPECT_EQ(single_pass_block(kSmallCallBlocks * kMinBlockBytes / 8, 8), kMinBlockBytes / 8);
  EXPECT_EQ(single_pass_block(2 * kSmallCallBlocks * kMinBlockBytes / 8, 8),
            2 * kMinBlockBytes / 8);
  EXPECT_EQ(single_pass_block(std::size_t{1} << 30, 8), kMaxBlockBytes / 8);
  EXPECT_EQ(single_pass_block(std::size_t{1} << 30, 16), kMaxBlockBytes / 16);
  EXPECT_EQ(single_pass_block(std::size_t{1} << 30, 1u << 20), 1u);  // huge elements: one each
}

// A worker whose predecessors' blocks were claimed but never published (their workers slow or
// dead) folds those blocks itself instead of waiting: it finishes, and its own blocks are right.
// The scan's kernel with a non-commutative operator shows the order of the combination.
TEST(SinglePass, FoldsTheBlocksOfWorkersThatPublishedNothing) {
  using Kernel = scan_detail::ScanKernel<InclusiveScan<MatMul>, Mat2>;
  std::mt19937_64 rng(18);
  constexpr std::size_t kBlock = 4, kBlocks = 6, kClaimed = 3;
  const std::size_t n = kBlock * kBlocks - 1;  // a short last block
  const RawArray<Mat2> in = testing::random_matrices(n, rng);
  RawArray<Mat2> out(n);
  const Mat2 untouched{7, 7, 7, 7};
  for (Mat2& m : out) m = untouched;
  RawArray<single_pass_detail::BoardEntry<Mat2>> board(kBlocks + 1);
  board[0].state = kClaimed;  // blocks 0, 1, 2 claimed by workers that never publish
  const std::size_t finished = single_pass_detail::claim_blocks<Kernel, true>(
      {Kernel{in.span(), out.span(), Mat2{}}, board.span(), kBlock});
  EXPECT_EQ(finished, kBlocks - kClaimed);
  Mat2 acc{};
  for (std::size_t i = 0; i < n; ++i) {
    acc = MatMul{}(acc, in[i]);
    EXPECT_EQ(out[i], i < kClaimed * kBlock ? untouched : acc) << "i=" << i;
  }
  for (std::size_t b = 0; b < kBlocks; ++b) {
    EXPECT_EQ(board[b + 1].state,
              b < kClaimed ? single_pass_detail::kNothing : single_pass_detail::kPrefix)
        << "block " << b;
  }
}

}  // namespace
}  // namespace procpar
