#include "primitives/pool.h"

#include <gtest/gtest.h>

namespace procpar {
namespace {

TEST(DefaultChunksize, MatchesPythonsRule) {
  // multiprocessing.Pool.map: chunksize, extra = divmod(len, 4 * processes); chunksize += bool(extra)
  EXPECT_EQ(default_chunksize(0, 2), 1u);
  EXPECT_EQ(default_chunksize(1, 2), 1u);
  EXPECT_EQ(default_chunksize(8, 2), 1u);
  EXPECT_EQ(default_chunksize(9, 2), 2u);
  EXPECT_EQ(default_chunksize(100, 4), 7u);
  EXPECT_EQ(default_chunksize(1 << 20, 2), (1u << 20) / 8);
}

TEST(DefaultChunksize, ZeroWorkersCountsAsOne) { EXPECT_EQ(default_chunksize(10, 0), 3u); }

}  // namespace
}  // namespace procpar
