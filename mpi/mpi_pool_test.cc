// MpiPool under mpirun -np 1..4: what is particular to MPI (where tasks run, how functions
// travel, one rank, ranks that only serve, terminate, callbacks) and the pool-based primitives
// on it. The Pool contract shared with the other pools runs in mpi_pool_contract_test.
//
// Every rank runs every test: each test makes its pool collectively, ranks 1..k-1 serve inside
// the constructor, and only rank 0 (the driver) goes on to submit.
#include "mpi/mpi_pool.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <mpi.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "mpi/mpi_pool_function.h"
#include "mpi/mpi_pool_test_tasks.h"
#include "mpi/test_util.h"
#include "primitives/dot.h"
#include "primitives/map.h"
#include "primitives/pack.h"
#include "primitives/reduce.h"
#include "primitives/scan.h"
#include "primitives/serial_pool.h"
#include "primitives/shared_array.h"

namespace procpar {
namespace {

using mpi::testing_util::world_rank;
using mpi::testing_util::world_size;

int world_rank_task() { return world_rank(); }
std::int64_t square(std::int64_t x) { return x * x; }
int sleep_then_return(int milliseconds) {
  std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds));
  return milliseconds;
}
int fail_on_odd(int x) {
  if (x % 2 != 0) throw std::out_of_range("odd: " + std::to_string(x));
  return x;
}
std::size_t byte_count(const std::vector<std::uint8_t>& bytes) { return bytes.size(); }

std::size_t expected_workers() { return world_size() == 1 ? 1 : world_size() - 1; }

static_assert(Pool<MpiPool>, "MpiPool offers the whole pool interface (pool.h)");
static_assert(Transport<MpiTransport>);

TEST(MpiPoolFunction, OffsetsRoundTripInThisProcess) {
  for (const auto f : {reinterpret_cast<std::uintptr_t>(&square),
                       reinterpret_cast<std::uintptr_t>(&mpi_pool_test::polynomial),
                       reinterpret_cast<std::uintptr_t>(+[](int x) { return x + 1; })}) {
    EXPECT_EQ(mpi::function_at(mpi::function_offset(f)), f);
  }
  // Two functions keep their distance whatever the load address.
  EXPECT_EQ(mpi::function_offset(reinterpret_cast<std::uintptr_t>(&square)) -
                mpi::function_offset(reinterpret_cast<std::uintptr_t>(&world_rank_task)),
            static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(&square) -
                                      reinterpret_cast<std::uintptr_t>(&world_rank_task)));
}

TEST(MpiPoolFunction, AFunctionOfASharedLibraryIsRefusedNamingIt) {
  void* const toupper_in_libc = dlsym(RTLD_DEFAULT, "toupper");
  ASSERT_NE(toupper_in_libc, nullptr);
  try {
    mpi::function_offset(reinterpret_cast<std::uintptr_t>(toupper_in_libc));
    ADD_FAILURE() << "a libc function was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("libc"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("not in the main executable"), std::string::npos);
  }
}

TEST(MpiPoolFunction, AnOffsetOutsideTheExecutableIsRefused) {
  EXPECT_THROW(mpi::function_at(std::int64_t{1} << 46), std::runtime_error);
}

TEST(MpiPool, RanksOtherThanZeroServeAndThenRefuseToSubmit) {
  MpiPool pool(MPI_COMM_WORLD);
  EXPECT_EQ(pool.is_driver(), world_rank() == 0);
  if (pool.is_driver()) {
    EXPECT_EQ(pool.workers(), expected_workers());
    return;
  }
  EXPECT_THROW(pool.workers(), std::logic_error);
  EXPECT_THROW(pool.apply(square, std::int64_t{2}), std::logic_error);
  EXPECT_THROW(pool.close(), std::logic_error);
}

TEST(MpiPool, OptionsItCannotHonourAreRefusedOnEveryRank) {
  const std::size_t workers = expected_workers();
  EXPECT_THROW(MpiPool(PoolOptions{.workers = workers + 1}), std::invalid_argument);
  EXPECT_THROW(MpiPool(PoolOptions{.workers = 0}), std::invalid_argument);
  EXPECT_THROW(MpiPool(PoolOptions{.workers = workers, .maxtasksperchild = 10}),
               std::invalid_argument);
  EXPECT_THROW(
      MpiPool(PoolOptions{.workers = workers, .task_time_limit = std::chrono::seconds(1)}),
      std::invalid_argument);
  EXPECT_THROW(MpiPool(PoolOptions{.workers = workers, .initializer = Initializer(+[] {})}),
               std::invalid_argument);
  try {
    MpiPool pool(PoolOptions{.workers = workers + 1});
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("mpirun -np"), std::string::npos) << error.what();
  }
  MpiPool pool(PoolOptions{.workers = workers});  // the right count: a pool over the world
  if (pool.is_driver()) EXPECT_EQ(pool.apply(square, std::int64_t{5}), 25);
}

TEST(MpiPool, TasksRunOnTheServersOrOnRankZeroAlone) {
  MpiPool pool(MPI_COMM_WORLD);
  if (!pool.is_driver()) return;
  const std::vector<int> ranks = pool.map(
      +[](const int&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return world_rank();
      },
      std::vector<int>(60, 0), 1);
  const std::set<int> seen(ranks.begin(), ranks.end());
  if (world_size() == 1) {
    EXPECT_EQ(seen, std::set<int>{0});
  } else {
    EXPECT_EQ(seen.count(0), 0u) << "rank 0 only drives when there are servers";
    for (const int rank : seen) EXPECT_LT(rank, world_size());
    EXPECT_NE(pool.apply(world_rank_task), 0);
  }
}

TEST(MpiPool, OneRankRunsEachTaskBeforeTheSubmissionReturns) {
  MpiPool pool(MPI_COMM_WORLD);
  if (!pool.is_driver() || world_size() != 1) return;
  auto result = pool.apply_async(square, std::int64_t{9});
  EXPECT_TRUE(result.ready());
  EXPECT_EQ(result.value(), 81);
}

TEST(MpiPool, ATaskFromAnotherTranslationUnit) {
  MpiPool pool(MPI_COMM_WORLD);
  if (!pool.is_driver()) return;
  const std::string tagged = pool.apply(mpi_pool_test::tag_with_rank, "hello");
  if (world_size() == 1) {
    EXPECT_EQ(tagged, "rank 0: hello");
  } else {
    EXPECT_EQ(tagged.rfind("rank ", 0), 0u) << tagged;
    EXPECT_NE(tagged, "rank 0: hello");
    EXPECT_EQ(tagged.substr(tagged.find(':')), ": hello");
  }
  std::vector<std::int64_t> xs(1000);
  std::iota(xs.begin(), xs.end(), -500);
  const std::vector<std::int64_t> ys = pool.map(mpi_pool_test::polynomial, xs, 7);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    ASSERT_EQ(ys[i], 3 * xs[i] * xs[i] - 2 * xs[i] + 7) << xs[i];
  }
}

TEST(MpiPool, ALibraryFunctionIsRefusedWhenSubmitted) {
  MpiPool pool(MPI_COMM_WORLD);
  if (!pool.is_driver()) return;
  using Fn = int (*)(int);
  const auto toupper_in_libc = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "toupper"));
  ASSERT_NE(toupper_in_libc, nullptr);
  EXPECT_THROW(pool.apply(toupper_in_libc, 'a'), std::invalid_argument);
  EXPECT_THROW(pool.map(toupper_in_libc, std::vector<int>{'a', 'b'}), std::invalid_argument);
  EXPECT_EQ(pool.apply(+[](int c) { return c - 'a' + 'A'; }, 'a'), 'A');  // the pool goes on
}

TEST(MpiPool, LargeArgumentsAndResultsTravel) {
  MpiPool pool(MPI_COMM_WORLD);
  if (!pool.is_driver()) return;
  const std::vector<std::uint8_t> bytes(std::size_t{24} << 20, 7);  // MPI's rendezvous protocol
  EXPECT_EQ(pool.apply(byte_count, bytes), bytes.size());
  const std::vector<int> counted =
      pool.apply(+[](int n) { return std::vector<int>(static_cast<std::size_t>(n), n); }, 3 << 20);
  EXPECT_EQ(counted.size(), std::size_t{3} << 20);
}

TEST(MpiPool, TerminateFailsUnfinishedResultsAtOnce) {
  MpiPool pool(MPI_COMM_WORLD);
  if (!pool.is_driver() || world_size() == 1) return;  // one rank: every task is done already
  std::vector<AsyncResult<int>> results;
  for (int i = 0; i < 3 * world_size(); ++i) {
    results.push_back(pool.apply_async(sleep_then_return, 1000));
  }
  auto mapped = pool.map_async(sleep_then_return, std::vector<int>(20, 1000), 1);
  const auto start = std::chrono::steady_clock::now();
  pool.terminate();
  for (auto& result : results) EXPECT_THROW(result.get(), PoolTerminated);
  EXPECT_THROW(mapped.get(), PoolTerminated);
  // Well before the running tasks could have finished.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  EXPECT_THROW(pool.apply(square, std::int64_t{1}), PoolClosed);
  pool.join();  // waits for the tasks the servers were running
}

TEST(MpiPool, CallbacksRunOnRankZeroAndJoinWaitsForThem) {
  MpiPool pool(MPI_COMM_WORLD);
  if (!pool.is_driver()) return;
  std::atomic<std::int64_t> sum{0};
  std::atomic<int> errors{0};
  for (std::int64_t i = 0; i < 40; ++i) {
    pool.apply_async(Callbacks<std::int64_t>{.callback = [&](const std::int64_t& v) { sum += v; }},
                     square, i);
  }
  pool.map_async(Callbacks<std::vector<int>>{.error_callback =
                                                 [&](const std::exception& e) {
                                                   if (dynamic_cast<const TaskError*>(&e)) ++errors;
                                                 }},
                 fail_on_odd, std::vector<int>{2, 4, 5}, 1);
  pool.close();
  pool.join();
  EXPECT_EQ(sum.load(), 39 * 40 * 79 / 6);
  EXPECT_EQ(errors.load(), 1);
}

TEST(MpiPool, WaitingWithATimeout) {
  MpiPool pool(MPI_COMM_WORLD);
  if (!pool.is_driver() || world_size() == 1) return;
  auto slow = pool.apply_async(sleep_then_return, 400);
  EXPECT_THROW(slow.get(std::chrono::milliseconds(20)), TimeoutError);
  EXPECT_FALSE(slow.wait_for(std::chrono::milliseconds(10)));
  EXPECT_EQ(slow.get(std::chrono::seconds(20)), 400);
  EXPECT_TRUE(slow.successful());
}

// The pool-based primitives of primitives/algorithms on MpiPool against SerialPool with as many
// workers (the same partition, so the same grouping and the same bits). The arrays are
// RawArrays of rank 0: servers reach them through /proc, so this holds on one machine only.
TEST(MpiPool, PrimitivesGiveTheSerialResults) {
  MpiPool pool(MPI_COMM_WORLD);
  if (!pool.is_driver()) return;
  SerialPool serial(pool.workers());
  for (const std::size_t n : mpi::testing_util::kSizes) {
    SCOPED_TRACE("n = " + std::to_string(n));
    RawArray<std::int64_t> ints = mpi::testing_util::whole<std::int64_t>(n, mpi::testing_util::int_at);
    RawArray<double> doubles =
        mpi::testing_util::whole<double>(n, mpi::testing_util::double_at);
    RawArray<double> other = mpi::testing_util::whole<double>(
        n, [](std::size_t i) { return mpi::testing_util::double_at(i + 11); });

    EXPECT_EQ(reduce_partitioned<std::plus<>>(pool, ints.span(), std::int64_t{0}),
              reduce_partitioned<std::plus<>>(serial, ints.span(), std::int64_t{0}));
    EXPECT_EQ(reduce_partitioned<std::plus<>>(pool, doubles.span(), 0.0),
              reduce_partitioned<std::plus<>>(serial, doubles.span(), 0.0));
    EXPECT_EQ(dot(pool, doubles.span(), other.span()), dot(serial, doubles.span(), other.span()));

    RawArray<std::int64_t> scanned(n), scanned_serially(n);
    EXPECT_EQ(scan_two_pass<InclusiveScan<std::plus<>>>(pool, ints.span(), scanned.span(),
                                                        std::int64_t{0}),
              scan_two_pass<InclusiveScan<std::plus<>>>(serial, ints.span(),
                                                        scanned_serially.span(), std::int64_t{0}));
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(scanned.span()[i], scanned_serially.span()[i]);

    RawArray<std::uint8_t> keep = mpi::testing_util::whole<std::uint8_t>(
        n, [](std::size_t i) { return static_cast<std::uint8_t>(i % 3 == 0); });
    RawArray<std::int64_t> packed(n), packed_serially(n);
    const std::size_t kept = pack(pool, ints.span(), keep.span(), packed.span());
    ASSERT_EQ(kept, pack(serial, ints.span(), keep.span(), packed_serially.span()));
    for (std::size_t i = 0; i < kept; ++i) ASSERT_EQ(packed.span()[i], packed_serially.span()[i]);

    struct Triple {
      std::int64_t operator()(std::int64_t x) const { return 3 * x; }
    };
    RawArray<std::int64_t> mapped(n);
    map<Triple>(pool, ints.span(), mapped.span());
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(mapped.span()[i], 3 * ints.span()[i]);
  }
}

}  // namespace
}  // namespace procpar
