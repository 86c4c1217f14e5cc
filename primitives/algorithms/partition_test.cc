#include "primitives/partition.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "primitives/map.h"
#include "primitives/pack.h"
#include "primitives/reduce.h"
#include "primitives/scan.h"
#include "primitives/pool_errors.h"
#include "primitives/process_pool.h"
#include "primitives/serial_pool.h"
#include "primitives/shared_array.h"

namespace procpar {
namespace {

TEST(PartitionBounds, CoverTheRangeWithNonEmptyPiecesOfNearlyEqualSize) {
  for (std::size_t n = 0; n < 70; ++n) {
    for (std::size_t parts = 1; parts < 10; ++parts) {
      const std::vector<std::size_t> bounds = partition_bounds(n, parts);
      if (n == 0) {
        EXPECT_TRUE(bounds.empty());
        continue;
      }
      ASSERT_EQ(bounds.size(), std::min(n, parts) + 1) << "n=" << n << " parts=" << parts;
      EXPECT_EQ(bounds.front(), 0u);
      EXPECT_EQ(bounds.back(), n);
      std::size_t smallest = n, largest = 0;
      for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
        smallest = std::min(smallest, bounds[i + 1] - bounds[i]);
        largest = std::max(largest, bounds[i + 1] - bounds[i]);
      }
      EXPECT_GE(smallest, 1u) << "n=" << n << " parts=" << parts;
      EXPECT_LE(largest - smallest, 1u) << "n=" << n << " parts=" << parts;
    }
  }
}

TEST(PartitionBounds, RefusesZeroParts) {
  EXPECT_THROW(partition_bounds(10, 0), std::invalid_argument);
}

TEST(Split, GivesThePiecesOfASpan) {
  RawArray<int> array(10);
  for (int i = 0; i < 10; ++i) array[i] = i;
  const std::vector<RawSpan<int>> pieces = split(array.span(), partition_bounds(10, 3));
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0][0], 0);
  EXPECT_EQ(pieces[0].size(), 3u);
  EXPECT_EQ(pieces[1][0], 3);
  EXPECT_EQ(pieces[1].size(), 3u);
  EXPECT_EQ(pieces[2][0], 6);
  EXPECT_EQ(pieces[2].size(), 4u);
}

// Models the Pool concept (the members the primitives do not call come from SerialPool; a
// submission through any member they call fails the test) but reports no workers, as a
// user-written pool might; every primitive must refuse it with an error that names the
// primitive, before it runs anything.
class NoWorkers : public SerialPool {
 public:
  std::size_t workers() const { return 0; }
  template <class F, class T>
  auto map(F f, const std::vector<T>&, std::size_t) {
    ADD_FAILURE() << "a task was submitted to a pool without workers";
    if constexpr (std::is_void_v<decltype(f(std::declval<T>()))>) {
      return;
    } else {
      return std::vector<decltype(f(std::declval<T>()))>{};
    }
  }
  template <class F, class... A>
  auto starmap(F f, const std::vector<std::tuple<A...>>&, std::size_t) {
    ADD_FAILURE() << "a task was submitted to a pool without workers";
    if constexpr (std::is_void_v<decltype(f(std::declval<A>()...))>) {
      return;
    } else {
      return std::vector<decltype(f(std::declval<A>()...))>{};
    }
  }
  template <class... A>
  auto apply_async(A&&... args) {
    ADD_FAILURE() << "a task was submitted to a pool without workers";
    return SerialPool::apply_async(std::forward<A>(args)...);
  }
};
static_assert(Pool<NoWorkers>);

struct Negate {
  double operator()(double x) const { return -x; }
};

template <class Call>
void expect_refused(Call call, const std::string& primitive) {
  try {
    call();
    ADD_FAILURE() << primitive << " accepted a pool without workers";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), primitive + ": the pool has no workers");
  }
}

TEST(CheckedWorkers, EveryPrimitiveRefusesAPoolWithoutWorkers) {
  NoWorkers pool;
  RawArray<double> in(8), out(8);
  RawArray<bool> flags(8);
  expect_refused([&] { map<Negate>(pool, in.span(), out.span()); }, "map");
  expect_refused([&] { tabulate<Negate>(pool, out.span()); }, "tabulate");
  expect_refused([&] { reduce_tree<std::plus<>>(pool, in.span(), 0.0); }, "reduce_tree");
  expect_refused([&] { reduce_partitioned<std::plus<>>(pool, in.span(), 0.0); },
                 "reduce_partitioned");
  expect_refused(
      [&] { scan_two_pass<InclusiveScan<std::plus<>>>(pool, in.span(), out.span(), 0.0); },
      "scan_two_pass");
  expect_refused(
      [&] { scan_reduce_then_scan<InclusiveScan<std::plus<>>>(pool, in.span(), out.span(), 0.0); },
      "scan_reduce_then_scan");
  expect_refused([&] { pack(pool, in.span(), flags.span(), out.span()); }, "pack");
}

// ---- run_pieces_with: the caller runs its own piece while the pool runs the others ----

int process_id(int) { return static_cast<int>(getpid()); }

// Sleeps, then marks its slot: a piece that is still running when the call returns would be
// seen with its mark missing.
int mark_after_a_while(RawSpan<int> marks, std::size_t slot) {
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  marks[slot] = 1;
  return static_cast<int>(slot);
}

int fail_piece(RawSpan<int>, std::size_t slot) {
  throw std::runtime_error("piece " + std::to_string(slot) + " failed");
}

TEST(RunPiecesWith, TheCallerRunsItsOwnPieceAndTheOthersRunInThePool) {
  ProcessPool pool(2);
  const std::vector<std::tuple<int>> pieces = {{0}, {1}, {2}};
  auto [own, others] = run_pieces_with(pool, &process_id, pieces, [](int) {
    return std::string("caller ") + std::to_string(getpid());
  });
  EXPECT_EQ(own, "caller " + std::to_string(getpid()));
  ASSERT_EQ(others.size(), 2u);
  for (const int pid : others) EXPECT_NE(pid, getpid());  // run in worker processes
}

TEST(RunPiecesWith, AnErrorOfTheCallersPieceArrivesOnlyOnceTheOthersHaveFinished) {
  ProcessPool pool(2);
  RawArray<int> marks(3);
  const std::vector<std::tuple<RawSpan<int>, std::size_t>> pieces = {
      {marks.span(), 0}, {marks.span(), 1}, {marks.span(), 2}};
  EXPECT_THROW(run_pieces_with(pool, &mark_after_a_while, pieces,
                               [](RawSpan<int>, std::size_t) -> int {
                                 throw std::logic_error("the caller's piece failed");
                               }),
               std::logic_error);
  EXPECT_EQ(marks[1], 1);
  EXPECT_EQ(marks[2], 1);
}

TEST(RunPiecesWith, AnErrorOfAPoolPieceArrivesAfterTheCallersPiece) {
  ProcessPool pool(2);
  RawArray<int> marks(2);
  const std::vector<std::tuple<RawSpan<int>, std::size_t>> pieces = {{marks.span(), 0},
                                                                     {marks.span(), 1}};
  bool caller_ran = false;
  try {
    run_pieces_with(pool, &fail_piece, pieces, [&](RawSpan<int> m, std::size_t slot) {
      caller_ran = true;
      return mark_after_a_while(m, slot);
    });
    ADD_FAILURE() << "the failed piece's error was lost";
  } catch (const TaskError& e) {
    EXPECT_NE(std::string(e.what()).find("piece 1 failed"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(caller_ran);
  EXPECT_EQ(marks[0], 1);
}

TEST(RunPiecesWith, RefusesFewerThanTwoPieces) {
  SerialPool pool(1);
  const std::vector<std::tuple<int>> one = {{0}};
  EXPECT_THROW(run_pieces_with(pool, &process_id, one, [](int) { return 0; }),
               std::invalid_argument);
}

}  // namespace
}  // namespace procpar
