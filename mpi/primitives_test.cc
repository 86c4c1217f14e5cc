// reduce, dot, scan, pack and matvec on DistArrays against the serial kernels and the pool
// versions of primitives/, on every rank, at whatever rank count mpirun started.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "mpi/dist_array.h"
#include "mpi/dot.h"
#include "mpi/matvec.h"
#include "mpi/pack.h"
#include "mpi/reduce.h"
#include "mpi/scan.h"
#include "mpi/test_util.h"
#include "primitives/dot.h"
#include "primitives/matvec.h"
#include "primitives/reduce.h"
#include "primitives/scan.h"
#include "primitives/serial_pool.h"

namespace procpar::mpi {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;
using testing_util::double_at;
using testing_util::int_at;
using testing_util::kSizes;
using testing_util::whole;
using testing_util::world_rank;
using testing_util::world_size;

// A 2x2 matrix product on integers modulo 2^64: associative, exact and not commutative, so a
// result combined out of rank order is wrong.
struct Mat2 {
  std::uint64_t a, b, c, d;
  bool operator==(const Mat2&) const = default;
};
struct MatMul {
  Mat2 operator()(const Mat2& x, const Mat2& y) const {
    return {x.a * y.a + x.b * y.c, x.a * y.b + x.b * y.d, x.c * y.a + x.d * y.c,
            x.c * y.b + x.d * y.d};
  }
};
constexpr Mat2 kIdentity{1, 0, 0, 1};
Mat2 mat_at(std::size_t i) { return {1, i % 5, (i * 7) % 3, 1 + i % 2}; }

template <class T, class F>
DistArray<T> dist(std::size_t n, F f, std::size_t unit = 1) {
  DistArray<T> a(MPI_COMM_WORLD, n, unit);
  a.generate(f);
  return a;
}

// The sum of |x| over x: the scale of the rounding bounds.
double abs_sum(const double* x, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += std::fabs(x[i]);
  return s;
}

constexpr double kEps = std::numeric_limits<double>::epsilon();

TEST(MpiReduceTest, IntegersEqualTheSerialReduction) {
  for (std::size_t n : kSizes) {
    const auto in = dist<std::int64_t>(n, int_at);
    const auto serial = whole<std::int64_t>(n, int_at);
    const std::int64_t expected = reduce_serial<std::plus<>>(
        std::span<const std::int64_t>(serial.span().data(), n), std::int64_t{0});
    EXPECT_EQ(reduce<std::plus<>>(in.span(), std::int64_t{0}), expected) << "n " << n;
  }
}

TEST(MpiReduceTest, NonCommutativeOperatorKeepsRankOrder) {
  for (std::size_t n : kSizes) {
    const auto in = dist<Mat2>(n, mat_at);
    Mat2 expected = kIdentity;
    for (std::size_t i = 0; i < n; ++i) expected = MatMul{}(expected, mat_at(i));
    EXPECT_EQ(reduce<MatMul>(in.span(), kIdentity), expected) << "n " << n;
  }
}

// What the distributed reduction and dot promise in floating point: each rank's piece folded
// with the serial kernel, the partials combined in rank order. `piece_result(begin, end)` is the
// serial kernel on [begin, end) of the whole array.
template <class F>
double rank_order_result(std::size_t n, F piece_result) {
  const std::vector<std::size_t> bounds = piece_bounds(n, 1, world_size());
  double total = 0;
  bool first = true;
  for (std::size_t r = 0; r + 1 < bounds.size(); ++r) {
    if (bounds[r] == bounds[r + 1]) continue;
    const double partial = piece_result(bounds[r], bounds[r + 1]);
    total = first ? partial : total + partial;
    first = false;
  }
  return total;
}

TEST(MpiReduceTest, DoublesFoldThePiecesInRankOrderWithinTheSerialBound) {
  for (std::size_t n : kSizes) {
    const auto in = dist<double>(n, double_at);
    const auto serial = whole<double>(n, double_at);
    const double* data = serial.span().data();
    const double got = reduce<std::plus<>>(in.span(), 0.0);
    EXPECT_EQ(got, rank_order_result(n, [&](std::size_t begin, std::size_t end) {
                return fold<std::plus<>>(data + begin, end - begin);
              }))
        << "n " << n;
    const double exact_enough = reduce_serial<std::plus<>>(std::span<const double>(data, n), 0.0);
    const double bound = (n > 0 ? n - 1 : 0) * kEps * abs_sum(data, n);
    EXPECT_LE(std::fabs(got - exact_enough), bound) << "n " << n;
  }
}

TEST(MpiDotTest, DoublesAddThePiecesInRankOrderAndIntegersAreExact) {
  const auto y_at = [](std::size_t i) { return double_at(i * 3 + 1); };
  for (std::size_t n : kSizes) {
    const auto x = dist<double>(n, double_at);
    const auto y = dist<double>(n, y_at);
    const auto xs = whole<double>(n, double_at);
    const auto ys = whole<double>(n, y_at);
    const double* xd = xs.span().data();
    const double* yd = ys.span().data();
    EXPECT_EQ(dot(x.span(), y.span()),
              rank_order_result(n, [&](std::size_t begin, std::size_t end) {
                return dot_serial(xd + begin, yd + begin, end - begin);
              }))
        << "n " << n;
  }
  for (std::size_t n : kSizes) {
    const auto x = dist<std::int64_t>(n, int_at);
    std::int64_t expected = 0;
    for (std::size_t i = 0; i < n; ++i) expected += int_at(i) * int_at(i);
    EXPECT_EQ(dot(x.span(), x.span()), expected) << "n " << n;
  }
}

TEST(MpiDotTest, MismatchedInputsAreRefusedOnEveryRank) {
  const auto x = dist<double>(10, double_at);
  const auto y = dist<double>(11, double_at);
  EXPECT_THAT([&] { dot(x.span(), y.span()); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("x has 10 elements but y has 11")));
  const auto rows = dist<double>(10, double_at, 5);
  EXPECT_THAT([&] { dot(x.span(), rows.span()); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("distributed differently")));
}

// Every rank checks its own piece of out against the serial scan's.
template <class S, class T, class F>
void expect_scan_exact(F f, T identity) {
  for (std::size_t n : kSizes) {
    const auto in = dist<T>(n, f);
    DistArray<T> out(MPI_COMM_WORLD, n);
    const T total = scan<S>(in.span(), out.span(), identity);
    std::vector<T> serial_in(n), serial_out(n);
    for (std::size_t i = 0; i < n; ++i) serial_in[i] = f(i);
    const T serial_total = S{}(serial_in.data(), n, serial_out.data(), identity);
    EXPECT_EQ(total, serial_total) << "n " << n;
    for (std::size_t i = 0; i < out.local().size(); ++i) {
      ASSERT_EQ(out.local()[i], serial_out[out.begin() + i]) << "n " << n << " i " << out.begin() + i;
    }
  }
}

TEST(MpiScanTest, IntegersEqualTheSerialScan) {
  expect_scan_exact<InclusiveScan<std::plus<>>, std::int64_t>(int_at, 0);
  expect_scan_exact<ExclusiveScan<std::plus<>>, std::int64_t>(int_at, 0);
}

TEST(MpiScanTest, NonCommutativeOperatorKeepsRankOrder) {
  expect_scan_exact<InclusiveScan<MatMul>, Mat2>(mat_at, kIdentity);
  expect_scan_exact<ExclusiveScan<MatMul>, Mat2>(mat_at, kIdentity);
}

TEST(MpiScanTest, InPlaceScanOfIntegers) {
  const std::size_t n = 1000;
  auto a = dist<std::int64_t>(n, int_at);
  scan<InclusiveScan<std::plus<>>>(a.span(), a.span(), std::int64_t{0});
  std::int64_t prefix = 0;
  for (std::size_t i = 0; i < a.end(); ++i) {
    prefix += int_at(i);
    if (i >= a.begin()) ASSERT_EQ(a.local()[i - a.begin()], prefix) << "i " << i;
  }
}

TEST(MpiScanTest, DoublesWithinTheDocumentedBound) {
  for (std::size_t n : kSizes) {
    const auto in = dist<double>(n, double_at);
    DistArray<double> out(MPI_COMM_WORLD, n);
    scan<InclusiveScan<std::plus<>>>(in.span(), out.span(), 0.0);
    // Prefix sums in long double as the reference, and the running sum of |x| for the bound.
    long double exact = 0, magnitude = 0;
    for (std::size_t i = 0; i < out.end(); ++i) {
      exact += double_at(i);
      magnitude += std::fabs(double_at(i));
      if (i < out.begin()) continue;
      const double bound = static_cast<double>(i + 1) * kEps * static_cast<double>(magnitude);
      ASSERT_LE(std::fabs(out.local()[i - out.begin()] - static_cast<double>(exact)), bound)
          << "n " << n << " i " << i;
    }
  }
}

TEST(MpiScanTest, MismatchedSizesAreRefused) {
  const auto in = dist<double>(10, double_at);
  DistArray<double> out(MPI_COMM_WORLD, 9);
  EXPECT_THAT([&] { scan<InclusiveScan<std::plus<>>>(in.span(), out.span(), 0.0); },
              ThrowsMessage<std::invalid_argument>(
                  HasSubstr("scan: input has 10 elements but output has 9")));
}

// Every rank checks its piece of out: the kept elements in order, the rest untouched.
TEST(MpiPackTest, KeepsFlaggedElementsInOrderAcrossRanks) {
  const auto flag_patterns = {
      +[](std::size_t i) -> std::uint8_t { return i % 3 == 0; },
      +[](std::size_t i) -> std::uint8_t { return i < 7; },          // all kept by rank 0's piece
      +[](std::size_t) -> std::uint8_t { return 0; },
      +[](std::size_t) -> std::uint8_t { return 1; },
  };
  for (auto flag_at : flag_patterns) {
    for (const PackTransfer transfer :
         {PackTransfer::kSharedMemoryOnNode, PackTransfer::kMessages}) {
      for (std::size_t n : kSizes) {
        const auto in = dist<std::int64_t>(n, [](std::size_t i) { return static_cast<std::int64_t>(i); });
        const auto flags = dist<std::uint8_t>(n, flag_at);
        std::vector<std::int64_t> expected;
        for (std::size_t i = 0; i < n; ++i) if (flag_at(i)) expected.push_back(static_cast<std::int64_t>(i));
        auto out = dist<std::int64_t>(n + 3, [](std::size_t) { return std::int64_t{-1}; });
        const std::size_t kept = pack(in.span(), flags.span(), out.span(), transfer);
        EXPECT_EQ(kept, expected.size()) << "n " << n;
        for (std::size_t i = 0; i < out.local().size(); ++i) {
          const std::size_t g = out.begin() + i;
          ASSERT_EQ(out.local()[i], g < kept ? expected[g] : -1) << "n " << n << " position " << g;
        }
      }
    }
  }
}

// By default (every rank of these tests shares one node) the elements that change rank are
// written straight into the other ranks' pieces, and counted; asked for messages, pack writes
// none that way.
TEST(MpiPackTest, CountsWhatItWritesIntoOtherRanksPieces) {
  const std::size_t n = 4096;
  const auto in = dist<double>(n, double_at);
  const auto flags = dist<std::uint8_t>(n, [](std::size_t i) -> std::uint8_t { return i % 2; });
  DistArray<double> out(MPI_COMM_WORLD, n);
  const std::uint64_t before = bytes_written_to_other_ranks();
  pack(in.span(), flags.span(), out.span());
  const std::uint64_t direct = bytes_written_to_other_ranks() - before;
  pack(in.span(), flags.span(), out.span(), PackTransfer::kMessages);
  EXPECT_EQ(bytes_written_to_other_ranks() - before, direct);
  // Elements i of this rank's piece with odd i go to out[i / 2]: those outside its own piece.
  std::uint64_t moving = 0;
  const int ranks = ranks_of(MPI_COMM_WORLD);
  const int rank = rank_of(MPI_COMM_WORLD);
  const Piece own = piece_of(n, 1, ranks, rank);
  for (std::size_t i = in.begin(); i < in.end(); ++i) {
    if (i % 2 == 1 && (i / 2 < own.begin || i / 2 >= own.end)) moving += sizeof(double);
  }
  EXPECT_EQ(direct, moving);
}

TEST(MpiPackTest, BadInputIsRefusedOnEveryRank) {
  const auto in = dist<double>(10, double_at);
  const auto flags = dist<std::uint8_t>(9, [](std::size_t) { return std::uint8_t{1}; });
  DistArray<double> out(MPI_COMM_WORLD, 10);
  EXPECT_THAT([&] { pack(in.span(), flags.span(), out.span()); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("input has 10 elements but 9 flags")));
  const auto all = dist<std::uint8_t>(10, [](std::size_t) { return std::uint8_t{1}; });
  DistArray<double> small(MPI_COMM_WORLD, 4);
  EXPECT_THAT([&] { pack(in.span(), all.span(), small.span()); },
              ThrowsMessage<std::invalid_argument>(
                  HasSubstr("output has room for 4 elements but 10 are kept")));
  // Two elements on four ranks: the ranks with empty pieces see no overlap, yet all must throw.
  const auto tiny = dist<double>(2, double_at);
  const auto two = dist<std::uint8_t>(2, [](std::size_t) { return std::uint8_t{1}; });
  EXPECT_THAT([&] { pack(tiny.span(), two.span(), tiny.span()); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("output overlaps the input")));
  const auto transfer = rank_of(MPI_COMM_WORLD) == 0 ? PackTransfer::kMessages
                                                     : PackTransfer::kSharedMemoryOnNode;
  if (ranks_of(MPI_COMM_WORLD) > 1) {
    EXPECT_THAT([&] { pack(in.span(), all.span(), out.span(), transfer); },
                ThrowsMessage<std::invalid_argument>(HasSubstr("different PackTransfer")));
  }
}

TEST(MpiMatvecTest, EqualsTheSerialProductBitForBit) {
  for (const auto& [rows, cols] : std::vector<std::pair<std::size_t, std::size_t>>{
           {1, 1}, {3, 5}, {5, 3}, {17, 64}, {250, 301}}) {
    const auto a_at = [](std::size_t i) { return double_at(i * 11 + 5); };
    const auto a = dist<double>(rows * cols, a_at, cols);
    const auto x = dist<double>(cols, double_at);
    DistArray<double> y(MPI_COMM_WORLD, rows);
    matvec(a.span(), cols, x.span(), y.span());
    std::vector<double> as(rows * cols), xs(cols), ys(rows);
    for (std::size_t i = 0; i < rows * cols; ++i) as[i] = a_at(i);
    for (std::size_t i = 0; i < cols; ++i) xs[i] = double_at(i);
    matvec_rows(as.data(), cols, xs.data(), ys.data(), 0, rows);
    for (std::size_t i = 0; i < y.local().size(); ++i) {
      ASSERT_EQ(y.local()[i], ys[y.begin() + i]) << rows << "x" << cols << " row " << y.begin() + i;
    }
  }
}

TEST(MpiMatvecTest, BadShapesAreRefusedOnEveryRank) {
  const auto by_rows = dist<double>(12, double_at, 4);
  const auto flat = dist<double>(12, double_at);
  const auto x4 = dist<double>(4, double_at);
  const auto x5 = dist<double>(5, double_at);
  DistArray<double> y3(MPI_COMM_WORLD, 3), y4(MPI_COMM_WORLD, 4);
  EXPECT_THAT([&] { matvec(flat.span(), 4, x4.span(), y3.span()); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("distributed by rows of 4 columns")));
  EXPECT_THAT([&] { matvec(by_rows.span(), 4, x5.span(), y3.span()); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("x has 5 elements, a 3x4 matrix needs 4")));
  EXPECT_THAT([&] { matvec(by_rows.span(), 4, x4.span(), y4.span()); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("y has 4 elements")));
  const auto square = dist<double>(4, double_at, 2);
  const auto v2 = dist<double>(2, double_at);
  EXPECT_THAT([&] { matvec(square.span(), 2, v2.span(), v2.span()); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("y must not overlap a or x")));
}

}  // namespace
}  // namespace procpar::mpi
