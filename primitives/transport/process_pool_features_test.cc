// ProcessPool's options (initializer, maxtasksperchild, task_time_limit), callbacks,
// get(timeout) and successful(): the shared feature contract, and what only processes do.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "primitives/pool_features_contract.h"
#include "primitives/process_pool.h"
#include "primitives/shared_array.h"

namespace procpar {
namespace features {
INSTANTIATE_TYPED_TEST_SUITE_P(Process, PoolFeatures, ProcessPool);
INSTANTIATE_TYPED_TEST_SUITE_P(Process, ConcurrentPoolFeatures, ProcessPool);
}  // namespace features

namespace {

using namespace std::chrono_literals;
using features::Watchdog;

int worker_pid(int) { return static_cast<int>(getpid()); }
int pid_after_sleep(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return static_cast<int>(getpid());
}
int square_int(int x) { return x * x; }
void spin_forever(int) {
  for (;;) {
  }
}

// Counts the starts of workers in shared memory: the number of initializer runs.
int count_start(RawSpan<std::int32_t> starts) {
  return std::atomic_ref<std::int32_t>(starts.data()[0]).fetch_add(1) + 1;
}
void count_start_and_mark(RawSpan<std::int32_t> starts) {
  count_start(starts);
  features::set_marker(7);
}
// Succeeds for the first `good` starts of the pool's workers, then throws.
void fail_after(RawSpan<std::int32_t> starts, int good) {
  if (count_start(starts) > good) throw std::runtime_error("out of licences");
}
void die_in_initializer(int) { kill(getpid(), SIGKILL); }

std::int32_t starts_of(const RawArray<std::int32_t>& starts) {
  return std::atomic_ref<std::int32_t>(starts.span().data()[0]).load();
}

// ---- initializer ------------------------------------------------------------------------------

TEST(ProcessPoolInitializer, RunsOnceInEveryWorkerBeforeTheConstructorReturns) {
  Watchdog watchdog(60);
  RawArray<std::int32_t> starts(1);
  features::marker = 0;
  ProcessPool pool(
      PoolOptions{.workers = 3, .initializer = Initializer(count_start_and_mark, starts.span())});
  EXPECT_EQ(starts_of(starts), 3);  // every worker has run it: the constructor waited
  EXPECT_EQ(pool.map(features::read_marker, std::vector<int>(100, 0), 1),
            std::vector<int>(100, 7));
  EXPECT_EQ(features::marker, 0);  // it ran in the workers, not in the parent
  EXPECT_EQ(starts_of(starts), 3);
}

TEST(ProcessPoolInitializer, AWorkerDyingInItFailsTheConstructorWithoutForkingAgain) {
  Watchdog watchdog(60);
  try {
    ProcessPool pool(PoolOptions{.workers = 2, .initializer = Initializer(die_in_initializer, 0)});
    ADD_FAILURE() << "the constructor returned";
  } catch (const InitializerError& error) {
    EXPECT_EQ(error.type_name(), "procpar::WorkerDied");
    EXPECT_NE(error.message().find("killed by signal 9"), std::string::npos) << error.what();
  }
}

TEST(ProcessPoolInitializer, AFailingReplacementFailsWaitingWorkInsteadOfForkLooping) {
  Watchdog watchdog(60);
  RawArray<std::int32_t> starts(1);
  // Two workers start; each exits after one task; every replacement's initializer throws.
  ProcessPool pool(PoolOptions{.workers = 2,
                               .initializer = Initializer(fail_after, starts.span(), 2),
                               .maxtasksperchild = 1});
  std::vector<AsyncResult<int>> results;
  for (int i = 0; i < 20; ++i) results.push_back(pool.apply_async(pid_after_sleep, 20));
  int succeeded = 0;
  int refused = 0;
  for (auto& result : results) {
    try {
      result.get(20s);
      ++succeeded;
    } catch (const InitializerError& error) {
      EXPECT_EQ(error.message(), "out of licences");
      ++refused;
    }
  }
  // The two first workers ran one task each; nothing else could run.
  EXPECT_EQ(succeeded, 2);
  EXPECT_EQ(refused, 18);
  EXPECT_THROW(pool.apply(square_int, 2), InitializerError);  // the pool is broken for good
  std::this_thread::sleep_for(100ms);
  // No fork loop: each of the two workers is replaced at most once (both may have exited before
  // the first replacement's failure arrived), and none after the failure is known.
  EXPECT_GE(starts_of(starts), 3);
  EXPECT_LE(starts_of(starts), 4);
  std::this_thread::sleep_for(200ms);
  EXPECT_LE(starts_of(starts), 4);
}

TEST(ProcessPoolInitializer, HugeMessagesAreCut) {
  Watchdog watchdog(60);
  try {
    ProcessPool pool(PoolOptions{
        .workers = 1,
        .initializer = Initializer(
            +[](std::size_t n) { throw std::runtime_error(std::string(n, 'e')); },
            std::size_t{40} << 20)});
    ADD_FAILURE() << "the constructor returned";
  } catch (const InitializerError& error) {
    EXPECT_LE(error.message().size(), ProcessPool::kMaxResultBytes / 2);
    EXPECT_NE(error.message().find("[cut: the message took 41943040 bytes"), std::string::npos);
  }
}

// ---- maxtasksperchild -------------------------------------------------------------------------

TEST(ProcessPoolMaxTasksPerChild, WorkersAreReplacedAfterThatManyTasksAndNoResultIsLost) {
  Watchdog watchdog(60);
  ProcessPool pool(PoolOptions{.workers = 2, .maxtasksperchild = 3});
  std::map<int, int> tasks_per_pid;
  for (int i = 0; i < 30; ++i) ++tasks_per_pid[pool.apply(worker_pid, i)];
  EXPECT_GE(tasks_per_pid.size(), 10u);  // 30 tasks, at most 3 per worker
  for (const auto& [pid, tasks] : tasks_per_pid) {
    EXPECT_LE(tasks, 3) << "worker " << pid;
    EXPECT_NE(pid, getpid());
  }
  // A chunk of a map is one task (as in Python): 40 items in chunks of 4 are 10 tasks.
  const std::vector<int> pids = pool.map(worker_pid, std::vector<int>(40, 0), 4);
  for (std::size_t chunk = 0; chunk < 10; ++chunk) ++tasks_per_pid[pids[4 * chunk]];
  EXPECT_GE(tasks_per_pid.size(), 14u);
  for (const auto& [pid, tasks] : tasks_per_pid) EXPECT_LE(tasks, 3) << "worker " << pid;
  std::vector<int> items(1000);
  std::iota(items.begin(), items.end(), 0);
  std::vector<int> expected;
  for (int x : items) expected.push_back(x * x);
  EXPECT_EQ(pool.map(square_int, items, 1), expected);  // 1000 tasks, ~333 replacements
  EXPECT_EQ(pool.workers(), 2u);
}

TEST(ProcessPoolMaxTasksPerChild, EveryReplacementRunsTheInitializer) {
  Watchdog watchdog(60);
  RawArray<std::int32_t> starts(1);
  ProcessPool pool(PoolOptions{.workers = 2,
                               .initializer = Initializer(count_start_and_mark, starts.span()),
                               .maxtasksperchild = 2});
  EXPECT_EQ(pool.map(features::read_marker, std::vector<int>(40, 0), 1), std::vector<int>(40, 7));
  pool.close();
  pool.join();
  EXPECT_GE(starts_of(starts), 20);  // 40 tasks, 2 per worker
  EXPECT_LE(starts_of(starts), 22);  // the last replacements, forked before join
}

// ---- task_time_limit --------------------------------------------------------------------------

TEST(ProcessPoolTimeLimit, ALateTaskIsKilledWhileTheOthersRunOn) {
  Watchdog watchdog(60);
  ProcessPool pool(PoolOptions{.workers = 2, .task_time_limit = 300ms});
  const auto start = std::chrono::steady_clock::now();
  auto late = pool.apply_async(spin_forever, 0);
  auto also_late = pool.apply_async(pid_after_sleep, 60000);
  // Meanwhile the other worker (and the replacements) run many tasks within the limit.
  std::vector<int> items(200);
  std::iota(items.begin(), items.end(), 0);
  std::vector<int> expected;
  for (int x : items) expected.push_back(x * x);
  std::vector<AsyncResult<int>> quick;
  for (int i = 0; i < 20; ++i) quick.push_back(pool.apply_async(pid_after_sleep, 50));
  EXPECT_EQ(pool.map(square_int, items, 1), expected);
  for (auto& result : quick) EXPECT_GT(result.get(20s), 0);
  try {
    late.get(20s);
    ADD_FAILURE() << "the task past its limit succeeded";
  } catch (const TaskTimeout& error) {
    EXPECT_NE(std::string(error.what()).find("task_time_limit of 300 ms"), std::string::npos)
        << error.what();
  }
  EXPECT_THROW(also_late.get(20s), TaskTimeout);
  EXPECT_FALSE(also_late.successful());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  // Both killed workers were replaced: the pool has two workers again.
  const std::vector<int> after = pool.map(pid_after_sleep, std::vector<int>(40, 5), 1);
  const std::set<int> now(after.begin(), after.end());
  EXPECT_EQ(now.size(), 2u);
  EXPECT_EQ(pool.apply(square_int, 12), 144);
}

TEST(ProcessPoolTimeLimit, AppliesToEachChunkAndOnlyItFails) {
  Watchdog watchdog(60);
  ProcessPool pool(PoolOptions{.workers = 2, .task_time_limit = 250ms});
  const std::vector<int> sleeps{10, 10, 5000, 10, 10, 10};
  // A map fails as a whole with its failed chunk's error; imap fails that item alone.
  EXPECT_THROW(pool.map(features::sleep_ms, sleeps, 1), TaskTimeout);
  auto stream = pool.imap(features::sleep_ms, sleeps, 1);
  std::size_t index = 0;
  for (auto it = stream.begin(); it != stream.end(); ++it, ++index) {
    if (sleeps[index] > 250) {
      EXPECT_THROW(*it, TaskTimeout);
    } else {
      EXPECT_EQ(*it, sleeps[index]);
    }
  }
  EXPECT_EQ(index, sleeps.size());
  // Tasks within the limit are never hit, however many: the timer is per task, not per worker.
  EXPECT_EQ(pool.map(features::sleep_ms, std::vector<int>(100, 5), 1), std::vector<int>(100, 5));
}

TEST(ProcessPoolTimeLimit, ANegativeLimitIsRefused) {
  EXPECT_THROW(ProcessPool(PoolOptions{.workers = 1, .task_time_limit = -5ms}),
               std::invalid_argument);
}

}  // namespace
}  // namespace procpar
