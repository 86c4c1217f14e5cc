#include "mpi/wordcount.h"

#include <gtest/gtest.h>

#include <string>

#include "corpus/kjv.h"
#include "mpi/test_util.h"

namespace procpar::mpi {
namespace {

TEST(MpiWordCountTest, KingJamesBibleEqualsTheSerialCount) {
  const std::string text = corpus::kjv_text();
  const WordCounts expected = count_words(text);
  const WordCounts got = word_count(MPI_COMM_WORLD, text);
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_EQ(got, expected);
}

TEST(MpiWordCountTest, TextsShorterThanTheRanksAndWordsAcrossCuts) {
  for (const std::string text : {"", "a", "Ab ab", "one two three four five six seven",
                                 "LONGWORDSTRETCHINGACROSSEVERYCUT x longwordstretchingacrosseverycut"}) {
    EXPECT_EQ(word_count(MPI_COMM_WORLD, text), count_words(text)) << text;
  }
}

}  // namespace
}  // namespace procpar::mpi
