#include "primitives/wordcount.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>

#include "corpus/kjv.h"
#include "primitives/primitive_test_util.h"
#include "primitives/shared_array.h"

namespace procpar {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::ThrowsMessage;

// An independent count, written the obvious way: a character class by comparisons, a word
// built one character at a time, an ordered map.
std::map<std::string, std::uint64_t> obvious_count(std::string_view text) {
  std::map<std::string, std::uint64_t> counts;
  std::string word;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') {
      word += static_cast<char>(c - 'A' + 'a');
    } else if ((c >= 'a' && c <= 'z') || c == '\'') {
      word += c;
    } else if (!word.empty()) {
      ++counts[word];
      word.clear();
    }
  }
  if (!word.empty()) ++counts[word];
  return counts;
}

std::map<std::string, std::uint64_t> as_map(const WordCounts& counts) {
  std::map<std::string, std::uint64_t> map;
  for (const auto& [word, count] : counts) {
    EXPECT_TRUE(map.emplace(word, count).second) << "'" << word << "' listed twice";
  }
  return map;
}

void expect_sorted_by_count(const WordCounts& counts) {
  for (std::size_t i = 1; i < counts.size(); ++i) {
    const auto& [a, a_count] = counts[i - 1];
    const auto& [b, b_count] = counts[i];
    ASSERT_TRUE(a_count > b_count || (a_count == b_count && a < b))
        << "'" << a << "' (" << a_count << ") before '" << b << "' (" << b_count << ")";
  }
}

RawArray<char> shared_text(std::string_view text) {
  RawArray<char> array(text.size());
  std::copy(text.begin(), text.end(), array.span().data());
  return array;
}

const std::string& kjv() {
  static const std::string text = corpus::kjv_text();
  return text;
}

// The first megabyte of it (Genesis and most of Exodus), for the tests that count on every pool
// several times: enough for every worker to see thousands of distinct words.
std::string_view kjv_part() {
  const std::string_view whole = kjv();
  return whole.substr(0, split_at_word_boundaries(whole.substr(0, 1 << 20), 1).back().second);
}

TEST(Tokenisation, FollowsTheWrittenRule) {
  EXPECT_THAT(count_words("The LORD's house; the lord's HOUSE"),
              ElementsAre(Pair("house", 2), Pair("lord's", 2), Pair("the", 2)));
  EXPECT_THAT(count_words("Ge1:1 In"), ElementsAre(Pair("ge", 1), Pair("in", 1)));
  EXPECT_THAT(count_words("na\xc3\xafve 'tis'"),  // "naïve" in UTF-8: bytes >= 0x80 separate
              ElementsAre(Pair("'tis'", 1), Pair("na", 1), Pair("ve", 1)));
  EXPECT_THAT(count_words(""), ElementsAre());
  EXPECT_THAT(count_words(" ,.\n0123"), ElementsAre());
}

TEST(WordCounter, MatchesTheObviousCountOnRandomTexts) {
  // Few distinct bytes so that words repeat, boundaries fall everywhere in the 64-byte blocks,
  // and long words (over 16 and over 64 bytes) occur.
  std::mt19937_64 rng(1);
  const std::string alphabet = "aAbZz' .,\n9\xc3\xa9";
  for (int trial = 0; trial < 500; ++trial) {
    const std::size_t n = rng() % 600;
    std::string text(n, ' ');
    const bool long_words = trial % 3 == 0;
    for (char& c : text) {
      c = long_words && rng() % 40 != 0 ? "abcdefgh"[rng() % 8] : alphabet[rng() % alphabet.size()];
    }
    WordCounter counter;
    counter.add_text(text);
    const auto expected = obvious_count(text);
    ASSERT_EQ(as_map(counter.counts()), expected) << "text: '" << text << "'";
    std::uint64_t total = 0;
    for (const auto& [word, count] : expected) total += count;
    EXPECT_EQ(counter.total(), total);
    EXPECT_EQ(counter.distinct(), expected.size());
  }
}

TEST(WordCounter, CountsManyDistinctWordsThroughGrowth) {
  std::string text;
  std::map<std::string, std::uint64_t> expected;
  for (int i = 0; i < 50000; ++i) {
    std::string word;
    for (int v = i; v > 0 || word.empty(); v /= 26) word += static_cast<char>('a' + v % 26);
    if (i % 7 == 0) word += std::string(20, 'q');  // some long words too
    text += word + (i % 3 ? " " : ". ") + word + "\n";
    expected[word] += 2;
  }
  WordCounter counter;
  counter.add_text(text);
  EXPECT_EQ(as_map(counter.counts()), expected);
}

TEST(WordCounter, MergeAndAddWord) {
  WordCounter a, b;
  a.add_text("to be or not to be");
  b.add_text("To see or NOT to see a verylongwordofmorethansixteenbytes");
  b.add_word("verylongwordofmorethansixteenbytes", 2);
  a.merge(b);
  EXPECT_EQ(as_map(a.counts()),
            (std::map<std::string, std::uint64_t>{{"a", 1},
                                                   {"be", 2},
                                                   {"not", 2},
                                                   {"or", 2},
                                                   {"see", 2},
                                                   {"to", 4},
                                                   {"verylongwordofmorethansixteenbytes", 3}}));
  EXPECT_THAT([&] { a.add_word("Word", 1); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("'Word' is not a lower-case word")));
  EXPECT_THAT([&] { a.add_word("", 1); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("empty word")));
}

TEST(MergeCounts, AddsEachWordsCountsAndSorts) {
  const std::string_view text = kjv_part();
  const std::size_t cut = text.find(' ', text.size() / 3);
  WordCounter first, second;
  first.add_text(text.substr(0, cut));
  second.add_text(text.substr(cut));
  EXPECT_EQ(merge_counts({first.counts(), second.counts(), {}}), count_words(text));
  EXPECT_EQ(merge_counts({}), WordCounts{});
  EXPECT_THAT([] { merge_counts({{{"fine", 1}}, {{"Not", 2}}}); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("'Not' is not a lower-case word")));
}

TEST(SortByCount, OrdersByCountThenWordAsTheObviousSort) {
  std::mt19937_64 rng(2);
  for (int trial = 0; trial < 50; ++trial) {
    WordCounts counts;
    for (int i = 0; i < 500; ++i) {
      // Shared 8-byte prefixes, prefixes of each other, a zero byte, and many equal counts.
      std::string word = std::string(rng() % 3 == 0 ? "abcdefgh" : "") + std::string(rng() % 4, 'a');
      for (std::size_t k = rng() % 4; k > 0; --k) word += "ab\0z"[rng() % 4];
      counts.emplace_back(word, rng() % 5);
    }
    WordCounts expected = counts;
    std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    sort_by_count(counts);
    ASSERT_EQ(counts, expected);
  }
}

TEST(SplitAtWordBoundaries, CutsOnlyBetweenWords) {
  const std::string text = "alpha beta  gamma,delta epsilon";
  for (std::size_t parts = 1; parts <= 40; ++parts) {
    const auto ranges = split_at_word_boundaries(text, parts);
    ASSERT_LE(ranges.size(), parts);
    std::size_t next = 0;
    for (const auto& [begin, end] : ranges) {
      EXPECT_EQ(begin, next);
      EXPECT_LT(begin, end);
      EXPECT_TRUE(end == text.size() || !is_word_byte(text[end])) << "cut inside a word at " << end;
      next = end;
    }
    EXPECT_EQ(next, text.size());
  }
  EXPECT_TRUE(split_at_word_boundaries("", 3).empty());
  EXPECT_THAT([&] { split_at_word_boundaries(text, 0); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("parts must be at least 1")));
}

TEST(CountWords, MatchesTheObviousCountOnTheKingJamesBible) {
  const WordCounts counts = count_words(kjv());
  EXPECT_EQ(as_map(counts), obvious_count(kjv()));
  expect_sorted_by_count(counts);
  ASSERT_FALSE(counts.empty());
  EXPECT_EQ(counts[0].first, "the");
}

template <class P>
class WordCountOnPool : public testing::WatchedTest<P> {};
TYPED_TEST_SUITE(WordCountOnPool, testing::PoolTypes);

TYPED_TEST(WordCountOnPool, EqualsTheSerialCountOnAMegabyteOfTheBible) {
  RawArray<char> text = shared_text(kjv_part());
  const WordCounts expected = count_words(kjv_part());
  for (std::size_t p : {2, 3}) {
    TypeParam pool(p);
    for (std::size_t tasks : {0, 13}) {
      EXPECT_EQ(word_count(pool, text.span(), tasks), expected) << "p=" << p << " tasks=" << tasks;
    }
  }
}

TYPED_TEST(WordCountOnPool, SmallTextsAndMoreTasksThanWords) {
  TypeParam pool(3);
  for (std::string_view text : {"", "a", "  ", "word", "two words", "x y z w v u t"}) {
    RawArray<char> shared = shared_text(text);
    EXPECT_EQ(word_count(pool, shared.span(), 16), count_words(text)) << "'" << text << "'";
  }
}

TEST(CountRange, RangeOutsideTheTextIsAnError) {
  RawArray<char> text = shared_text("some text");
  EXPECT_THAT([&] { wordcount_detail::count_range(text.span(), 3, 20); },
              ThrowsMessage<std::out_of_range>(HasSubstr("[3, 20) is outside a text of 9 bytes")));
}

}  // namespace
}  // namespace procpar
