#include "mpi/dist_array.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>

#include "mpi/test_util.h"

namespace procpar::mpi {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;
using testing_util::kSizes;
using testing_util::world_rank;
using testing_util::world_size;

// The pieces tile [0, n) in rank order, each is the partition's, and every rank holds its own.
TEST(DistArrayTest, PiecesTileTheArrayInRankOrder) {
  for (std::size_t n : kSizes) {
    DistArray<std::int64_t> a(MPI_COMM_WORLD, n);
    EXPECT_EQ(a.size(), n);
    EXPECT_EQ(a.local().size(), a.end() - a.begin());
    const std::uint64_t mine[2] = {a.begin(), a.end()};
    std::vector<std::uint64_t> all(2 * world_size());
    MPI_Allgather(mine, 2, MPI_UINT64_T, all.data(), 2, MPI_UINT64_T, MPI_COMM_WORLD);
    const std::vector<std::size_t> bounds = partition_bounds(n, world_size());
    std::uint64_t next = 0;
    for (int r = 0; r < world_size(); ++r) {
      EXPECT_EQ(all[2 * r], next) << "n " << n << " rank " << r;
      next = all[2 * r + 1];
      if (static_cast<std::size_t>(r) + 1 < bounds.size()) {
        EXPECT_EQ(all[2 * r], bounds[r]);
        EXPECT_EQ(all[2 * r + 1], bounds[r + 1]);
      } else {
        EXPECT_EQ(all[2 * r], all[2 * r + 1]) << "a rank past the last piece owns nothing";
      }
    }
    EXPECT_EQ(next, n);
  }
}

TEST(DistArrayTest, StartsZeroedAndGenerateFillsOnlyTheLocalPiece) {
  DistArray<std::int64_t> a(MPI_COMM_WORLD, 1000);
  for (std::int64_t v : a.local()) EXPECT_EQ(v, 0);
  a.generate([](std::size_t i) { return static_cast<std::int64_t>(3 * i + 1); });
  for (std::size_t i = 0; i < a.local().size(); ++i) {
    EXPECT_EQ(a.local()[i], static_cast<std::int64_t>(3 * (a.begin() + i) + 1));
  }
}

TEST(DistArrayTest, UnitCutsOnlyBetweenRuns) {
  const std::size_t rows = 7, cols = 5;
  DistArray<double> a(MPI_COMM_WORLD, rows * cols, cols);
  EXPECT_EQ(a.begin() % cols, 0u);
  EXPECT_EQ(a.local().size() % cols, 0u);
  const Piece rows_piece = piece_of(rows, 1, world_size(), world_rank());
  EXPECT_EQ(a.begin(), rows_piece.begin * cols);
  EXPECT_EQ(a.end(), rows_piece.end * cols);
}

// Every rank gets the error, so none is left waiting in a later collective.
TEST(DistArrayTest, RanksThatDisagreeOnTheSizeAllFail) {
  if (world_size() == 1) {  // one rank cannot disagree with itself
    EXPECT_NO_THROW(DistArray<int>(MPI_COMM_WORLD, 10 + world_rank()));
    return;
  }
  EXPECT_THAT([] { DistArray<int> a(MPI_COMM_WORLD, 10 + world_rank()); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("disagree on the size")));
  EXPECT_THAT([] { DistArray<int> a(MPI_COMM_WORLD, 12, world_rank() == 0 ? 3 : 4); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("disagree on the unit")));
}

TEST(DistArrayTest, UnitMustDivideTheSize) {
  EXPECT_THAT([] { DistArray<int> a(MPI_COMM_WORLD, 10, 3); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("does not divide the size 10")));
  EXPECT_THAT([] { DistArray<int> a(MPI_COMM_WORLD, 10, 0); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("unit of 0")));
}

TEST(DistArrayTest, AgreeOrThrowFailsEveryRankWhenOneSeesTheError) {
  const bool only_last = world_rank() == world_size() - 1;
  EXPECT_THAT([&] { agree_or_throw(MPI_COMM_WORLD, only_last, "seen by the last rank"); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("seen by the last rank")));
  EXPECT_NO_THROW(agree_or_throw(MPI_COMM_WORLD, false, "nobody"));
}

}  // namespace
}  // namespace procpar::mpi
