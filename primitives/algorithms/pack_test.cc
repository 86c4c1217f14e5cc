#include "primitives/pack.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "primitives/primitive_test_util.h"

namespace procpar {
namespace {

using testing::kWorkers;

RawArray<std::uint8_t> random_flags(std::size_t n, double keep, std::mt19937_64& rng) {
  std::bernoulli_distribution coin(keep);
  RawArray<std::uint8_t> flags(n);
  // Any non-zero value means "keep", not only 1.
  for (std::size_t i = 0; i < n; ++i) flags[i] = coin(rng) ? static_cast<std::uint8_t>(1 + i % 7) : 0;
  return flags;
}

std::vector<std::uint64_t> reference_pack(const RawArray<std::uint64_t>& in,
                                          const RawArray<std::uint8_t>& flags) {
  std::vector<std::uint64_t> kept;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (flags[i] != 0) kept.push_back(in[i]);
  }
  return kept;
}

// The serial kernels, on whichever path this CPU takes (AVX2 or scalar), against a plain loop:
// every density of flags, flag bytes other than 1, lengths around the vector step, outputs at
// any alignment with exactly the kept count's room, and nothing written past that room.
TEST(PackKernels, WriteExactlyTheKeptElementsAndNothingPastTheirRoom) {
  std::mt19937_64 rng(31);
  constexpr double kGuard = -12345.0;
  for (const int percent : {0, 1, 30, 50, 90, 100}) {
    for (const std::size_t n : {std::size_t{0}, std::size_t{15}, std::size_t{16},
                                std::size_t{17}, std::size_t{64}, std::size_t{1001},
                                std::size_t{4099}}) {
      std::vector<double> in(n);
      std::vector<std::uint8_t> flags(n);
      std::vector<double> expected;
      for (std::size_t i = 0; i < n; ++i) {
        in[i] = static_cast<double>(i) + 0.5;
        flags[i] = rng() % 100 < static_cast<std::uint64_t>(percent)
                       ? static_cast<std::uint8_t>(1 + rng() % 255)  // any non-zero byte
                       : 0;
        if (flags[i] != 0) expected.push_back(in[i]);
      }
      ASSERT_EQ(pack_detail::count_flags(flags.data(), n), expected.size())
          << percent << "% of " << n;
      for (const std::size_t offset : {0, 1, 3}) {
        std::vector<double> out(offset + expected.size() + 8, kGuard);
        const std::size_t written = pack_detail::write_kept(
            in.data(), flags.data(), n, out.data() + offset, expected.size());
        EXPECT_EQ(written, expected.size());
        EXPECT_TRUE(std::equal(expected.begin(), expected.end(), out.begin() + offset))
            << percent << "% of " << n << ", offset " << offset;
        EXPECT_TRUE(std::all_of(out.begin(), out.begin() + offset,
                                [&](double x) { return x == kGuard; }));
        EXPECT_TRUE(std::all_of(out.begin() + offset + expected.size(), out.end(),
                                [&](double x) { return x == kGuard; }))
            << "written past the room: " << percent << "% of " << n << ", offset " << offset;
      }
    }
  }
}

TEST(PackKernels, CountBoolAndCharFlags) {
  std::vector<char> chars(100);
  bool bools[100] = {};
  for (std::size_t i = 0; i < chars.size(); ++i) {
    chars[i] = i % 3 == 0 ? static_cast<char>(-1) : 0;
    bools[i] = i % 3 == 0;
  }
  EXPECT_EQ(pack_detail::count_flags(chars.data(), chars.size()), 34u);
  EXPECT_EQ(pack_detail::count_flags(bools, 100), 34u);
}

template <class P>
class PackTest : public ::testing::Test {
 protected:
  P pool_{kWorkers};
};
TYPED_TEST_SUITE(PackTest, testing::PoolTypes);

TYPED_TEST(PackTest, KeepsTheFlaggedElementsInOrder) {
  std::mt19937_64 rng(21);
  for (const double keep : {0.0, 0.01, 0.5, 0.99, 1.0}) {
    for (const std::size_t n : testing::test_sizes()) {
      const RawArray<std::uint64_t> in = testing::random_integers(n, rng);
      const RawArray<std::uint8_t> flags = random_flags(n, keep, rng);
      const std::vector<std::uint64_t> expected = reference_pack(in, flags);
      // One spare slot after the kept elements: pack must leave it alone.
      const std::uint64_t sentinel = 0xdeadbeef;
      RawArray<std::uint64_t> out(expected.size() + 1);
      out[expected.size()] = sentinel;
      const std::size_t kept = pack(this->pool_, in.span(), flags.span(), out.span());
      ASSERT_EQ(kept, expected.size()) << "n=" << n << " keep=" << keep;
      EXPECT_EQ(std::vector<std::uint64_t>(out.begin(), out.begin() + kept), expected)
          << "n=" << n << " keep=" << keep;
      EXPECT_EQ(out[kept], sentinel) << "n=" << n << " keep=" << keep;
    }
  }
}

// An output as long as the input (the usual case) takes the one-round path, whose blocks write
// as soon as they know their offsets: each writes only its own kept elements.
TYPED_TEST(PackTest, LeavesTheRestOfAnOutputAsLongAsTheInputAlone) {
  std::mt19937_64 rng(24);
  for (const double keep : {0.0, 0.3, 0.9}) {
    for (const std::size_t n : {std::size_t{4097}, std::size_t{65521}, std::size_t{300007}}) {
      const RawArray<std::uint64_t> in = testing::random_integers(n, rng);
      const RawArray<std::uint8_t> flags = random_flags(n, keep, rng);
      const std::vector<std::uint64_t> expected = reference_pack(in, flags);
      RawArray<std::uint64_t> out(n);
      for (std::uint64_t& y : out) y = 42;
      ASSERT_EQ(pack(this->pool_, in.span(), flags.span(), out.span()), expected.size());
      EXPECT_EQ(std::vector<std::uint64_t>(out.begin(), out.begin() + expected.size()), expected)
          << "n=" << n << " keep=" << keep;
      EXPECT_EQ(std::count(out.begin() + expected.size(), out.end(), 42u),
                static_cast<std::ptrdiff_t>(n - expected.size()))
          << "n=" << n << " keep=" << keep;
    }
  }
}

TYPED_TEST(PackTest, FillsAnOutputOfExactlyTheKeptSize) {
  std::mt19937_64 rng(22);
  const std::size_t n = 4097;
  const RawArray<std::uint64_t> in = testing::random_integers(n, rng);
  const RawArray<std::uint8_t> flags = random_flags(n, 0.3, rng);
  const std::vector<std::uint64_t> expected = reference_pack(in, flags);
  RawArray<std::uint64_t> out(expected.size());
  ASSERT_EQ(pack(this->pool_, in.span(), flags.span(), out.span()), expected.size());
  EXPECT_EQ(std::vector<std::uint64_t>(out.begin(), out.end()), expected);
}

TYPED_TEST(PackTest, TakesBoolFlags) {
  RawArray<double> in(5);
  RawArray<bool> flags(5);
  for (std::size_t i = 0; i < 5; ++i) {
    in[i] = 0.5 * static_cast<double>(i);
    flags[i] = i % 2 == 0;
  }
  RawArray<double> out(5);
  ASSERT_EQ(pack(this->pool_, in.span(), flags.span(), out.span()), 3u);
  EXPECT_EQ(out[0], 0.0);
  EXPECT_EQ(out[1], 1.0);
  EXPECT_EQ(out[2], 2.0);
}

TYPED_TEST(PackTest, MoreWorkersThanElements) {
  std::mt19937_64 rng(23);
  TypeParam many(8);
  for (const std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{7}}) {
    const RawArray<std::uint64_t> in = testing::random_integers(n, rng);
    const RawArray<std::uint8_t> flags = random_flags(n, 0.5, rng);
    const std::vector<std::uint64_t> expected = reference_pack(in, flags);
    RawArray<std::uint64_t> out(n);
    const std::size_t kept = pack(many, in.span(), flags.span(), out.span());
    EXPECT_EQ(std::vector<std::uint64_t>(out.begin(), out.begin() + kept), expected) << "n=" << n;
  }
}

TYPED_TEST(PackTest, RefusesMismatchedFlags) {
  const RawArray<std::uint64_t> in(10);
  const RawArray<std::uint8_t> flags(11);
  RawArray<std::uint64_t> out(10);
  try {
    pack(this->pool_, in.span(), flags.span(), out.span());
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "pack: input has 10 elements but 11 flags");
  }
}

TYPED_TEST(PackTest, RefusesAnOutputTooSmall) {
  RawArray<std::uint64_t> in(10);
  RawArray<std::uint8_t> flags(10);
  for (std::size_t i = 0; i < 10; ++i) flags[i] = 1;
  RawArray<std::uint64_t> out(9);
  out[8] = 42;
  try {
    pack(this->pool_, in.span(), flags.span(), out.span());
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "pack: output has room for 9 elements but 10 are kept");
  }
  EXPECT_EQ(out[8], 42u);  // refused before writing anything
}

// Pieces are written to offsets that another worker's piece of the input may still be read
// from, so no overlap of the output with the input or the flags gives a right answer.
TYPED_TEST(PackTest, RefusesAnOutputOverlappingTheInputOrTheFlags) {
  RawArray<std::uint64_t> memory(20);
  for (std::size_t i = 0; i < 20; ++i) memory[i] = 100 + i;
  RawArray<std::uint64_t> keep_all(10);
  for (std::size_t i = 0; i < 10; ++i) keep_all[i] = 1;
  const RawSpan<std::uint64_t> m = memory.span();
  const auto refused = [&](RawSpan<std::uint64_t> in, RawSpan<std::uint64_t> flags,
                           RawSpan<std::uint64_t> out) {
    try {
      pack(this->pool_, in, flags, out);
      ADD_FAILURE() << "no error";
    } catch (const std::invalid_argument& e) {
      EXPECT_STREQ(e.what(), "pack: the output overlaps the input or the flags (pack into "
                             "another array)");
    }
  };
  refused(m.subspan(0, 10), keep_all.span(), m.subspan(1, 10));
  refused(m.subspan(1, 10), keep_all.span(), m.subspan(0, 10));
  refused(m.subspan(0, 10), keep_all.span(), m.subspan(0, 10));
  refused(m.subspan(10, 10), m.subspan(0, 10), m.subspan(5, 10));
  for (std::size_t i = 0; i < 20; ++i) EXPECT_EQ(memory[i], 100 + i) << "written before refusing";
  // Adjacent views do not overlap.
  EXPECT_EQ(pack(this->pool_, m.subspan(0, 10), keep_all.span(), m.subspan(10, 10)), 10u);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(memory[10 + i], 100 + i);
}

}  // namespace
}  // namespace procpar
