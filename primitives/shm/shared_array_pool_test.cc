// Shared arrays used through a ProcessPool: views as task arguments, arrays created after the
// pool's workers were forked, a worker killed while it holds a SharedArray's lock, and workers
// letting go of freed arrays.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/async_result.h"
#include "primitives/process_pool.h"
#include "primitives/shared_array.h"

namespace procpar {
namespace {

constexpr unsigned kTestSeconds = 60;

void on_alarm(int) {
  static const char message[] = "watchdog: time limit exceeded, failing instead of hanging\n";
  [[maybe_unused]] ssize_t ignored = write(STDERR_FILENO, message, sizeof(message) - 1);
  _exit(124);
}

class SharedArrayOnProcessPool : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGALRM, on_alarm);
    alarm(kTestSeconds);
  }
  void TearDown() override { alarm(0); }
};

std::size_t open_descriptors() {
  std::size_t count = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir) != nullptr) ++count;
    closedir(dir);
  }
  return count;
}

// Mappings of array segments in the calling process (each memfd is named "procpar_array").
int array_mappings() {
  std::ifstream maps("/proc/self/maps");
  int count = 0;
  for (std::string line; std::getline(maps, line);) {
    if (line.find("memfd:procpar_array") != std::string::npos) ++count;
  }
  return count;
}

// Mappings of array segments, and descriptors of them, in process `pid`.
int array_mappings_and_descriptors_of(pid_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  std::ifstream maps(proc + "/maps");
  int count = 0;
  for (std::string line; std::getline(maps, line);) {
    if (line.find("memfd:procpar_array") != std::string::npos) ++count;
  }
  if (DIR* dir = opendir((proc + "/fd").c_str())) {
    while (dirent* entry = readdir(dir)) {
      char target[256] = {};
      const std::string link = proc + "/fd/" + entry->d_name;
      if (readlink(link.c_str(), target, sizeof target - 1) > 0 &&
          std::string(target).find("memfd:procpar_array") != std::string::npos) {
        ++count;
      }
    }
    closedir(dir);
  }
  return count;
}

int mappings_in_worker(int) { return array_mappings(); }

int mappings_after_release(int) {
  release_freed_arrays();
  return array_mappings();
}

// Writes x[i] = 3 * i + offset over its part and returns the worker's pid.
std::int64_t fill_part(RawSpan<std::int64_t> part, std::int64_t first_index) {
  std::int64_t* const x = part.data();
  for (std::size_t i = 0; i < part.size(); ++i) {
    x[i] = 3 * (first_index + static_cast<std::int64_t>(i));
  }
  return getpid();
}

std::int64_t add_many(SharedSpan<std::int64_t> counter, int times) {
  for (int i = 0; i < times; ++i) counter.add(0, 1);
  return getpid();
}

std::vector<std::tuple<RawSpan<std::int64_t>, std::int64_t>> parts_of(
    const RawArray<std::int64_t>& array, std::size_t parts) {
  std::vector<std::tuple<RawSpan<std::int64_t>, std::int64_t>> items;
  const std::size_t n = array.size();
  for (std::size_t k = 0; k < parts; ++k) {
    const std::size_t begin = n * k / parts;
    const std::size_t end = n * (k + 1) / parts;
    items.emplace_back(array.span().subspan(begin, end - begin),
                       static_cast<std::int64_t>(begin));
  }
  return items;
}

void expect_filled(const RawArray<std::int64_t>& array) {
  for (std::size_t i = 0; i < array.size(); ++i) {
    ASSERT_EQ(array[i], 3 * static_cast<std::int64_t>(i)) << "at " << i;
  }
}

TEST_F(SharedArrayOnProcessPool, ViewsAsTaskArgumentsOfArraysMadeBeforeThePool) {
  RawArray<std::int64_t> a(100000);
  ProcessPool pool(2);
  const std::vector<std::int64_t> pids = pool.starmap(&fill_part, parts_of(a, 16), 1);
  expect_filled(a);
  for (std::int64_t pid : pids) EXPECT_NE(pid, getpid());  // the workers did the writing
}

TEST_F(SharedArrayOnProcessPool, ArraysMadeAfterThePoolAreVisibleToItsWorkers) {
  ProcessPool pool(2);
  pool.map(&mappings_in_worker, std::vector<int>{0, 1});  // the workers are up
  for (int round = 0; round < 3; ++round) {
    RawArray<std::int64_t> a(50000 + round);
    pool.starmap(&fill_part, parts_of(a, 8), 1);
    expect_filled(a);
    SharedArray<std::int64_t> counter(1);
    pool.starmap(&add_many, std::vector<std::tuple<SharedSpan<std::int64_t>, int>>(
                                8, {counter.span(), 1000}));
    EXPECT_EQ(counter.span().load(0), 8000);
  }
}

// Locks the array, half-writes a two-element update, and dies holding the lock.
int die_holding_the_lock(SharedSpan<std::int64_t> pair) {
  auto guard = pair.lock();
  guard[0] += 1;
  raise(SIGKILL);
  guard[1] += 1;
  return 0;
}

TEST_F(SharedArrayOnProcessPool, WorkerKilledHoldingTheLockIsReplacedAndTheArrayStaysUsable) {
  ProcessPool pool(2);
  SharedArray<std::int64_t> pair(2);
  const SharedSpan<std::int64_t> w = pair.span();
  AsyncResult<int> dead = pool.apply_async(&die_holding_the_lock, w);
  EXPECT_THROW(dead.get(), WorkerDied);

  // The next lockers, in the workers (one of them the replacement), take the lock over.
  const std::vector<std::int64_t> pids = pool.starmap(
      &add_many, std::vector<std::tuple<SharedSpan<std::int64_t>, int>>(8, {w, 500}), 1);
  EXPECT_EQ(w.load(0), 1 + 8 * 500);  // the dead worker's half-written update is still there
  EXPECT_EQ(w.load(1), 0);
  EXPECT_EQ(pair.lock_recoveries(), 1u);
  EXPECT_EQ(std::set<std::int64_t>(pids.begin(), pids.end()).count(getpid()), 0u);
}

TEST_F(SharedArrayOnProcessPool, WorkersLetGoOfFreedArraysAndNothingLeaks) {
  const std::size_t descriptors_before = open_descriptors();
  {
    auto before_pool = std::make_unique<RawArray<std::int64_t>>(20000);
    ProcessPool pool(2);
    auto after_pool = std::make_unique<RawArray<std::int64_t>>(20000);
    pool.starmap(&fill_part, parts_of(*before_pool, 8), 1);
    pool.starmap(&fill_part, parts_of(*after_pool, 8), 1);
    expect_filled(*after_pool);
    for (int mappings : pool.map(&mappings_in_worker, std::vector<int>(8, 0), 1)) {
      EXPECT_GE(mappings, 1);  // at least the inherited one
    }
    before_pool.reset();
    after_pool.reset();
    // A worker lets go of the array it mapped through /proc and of the one it inherited.
    for (int mappings : pool.map(&mappings_after_release, std::vector<int>(8, 0), 1)) {
      EXPECT_EQ(mappings, 0);
    }
  }
  EXPECT_EQ(open_descriptors(), descriptors_before);
  EXPECT_EQ(array_mappings(), 0);
}

// The descriptors a task opened for itself (in a worker, kept between tasks).
std::vector<int> task_files;

// Closes every descriptor above stderr (the inherited descriptors of arrays among them) and
// opens files of its own, which get the freed numbers.
int reopen_descriptors(int count) {
  for (int fd = 3; fd < 4096; ++fd) ::close(fd);
  for (int i = 0; i < count; ++i) task_files.push_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
  return static_cast<int>(task_files.size());
}

int task_files_still_open(int) {
  release_freed_arrays();
  int open_files = 0;
  for (const int fd : task_files) open_files += fcntl(fd, F_GETFD) != -1 ? 1 : 0;
  return open_files;
}

// A worker lets go of an inherited array by closing its descriptor; if a task closed that
// descriptor and the number now names a file of the task's, that file must stay open.
TEST_F(SharedArrayOnProcessPool, LettingGoOfAnArrayNeverClosesADescriptorATaskReused) {
  std::vector<std::unique_ptr<RawArray<std::int64_t>>> inherited;
  for (int i = 0; i < 8; ++i) inherited.push_back(std::make_unique<RawArray<std::int64_t>>(64));
  ProcessPool pool(1);
  for (const auto& array : inherited) pool.starmap(&fill_part, parts_of(*array, 1), 1);
  ASSERT_EQ(pool.apply(&reopen_descriptors, 64), 64);
  inherited.clear();
  EXPECT_EQ(pool.apply(&task_files_still_open, 0), 64);
}

// Touches every element and returns the worker's pid (after a pause, so that every worker of
// the pool gets some of the tasks).
std::int64_t touch_all(RawSpan<std::int64_t> array, int pause_ms) {
  std::int64_t* const x = array.data();
  for (std::size_t i = 0; i < array.size(); i += 512) x[i] += 1;
  usleep(static_cast<useconds_t>(pause_ms) * 1000);
  return getpid();
}

// Idle workers must not keep freed arrays' memory alive until they next run a task: the
// pool's workers are checked from outside (/proc/<pid>/maps and fd) while no task runs.
TEST_F(SharedArrayOnProcessPool, IdleWorkersLetGoOfFreedArraysWithoutAnotherTask) {
  auto before_pool = std::make_unique<RawArray<std::int64_t>>(std::size_t{4} << 20);  // 32 MiB
  ProcessPool pool(2);
  auto after_pool = std::make_unique<RawArray<std::int64_t>>(std::size_t{4} << 20);
  std::vector<std::unique_ptr<RawArray<std::int64_t>>> small;
  for (int i = 0; i < 100; ++i) small.push_back(std::make_unique<RawArray<std::int64_t>>(64));
  std::set<std::int64_t> workers;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (workers.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::vector<std::tuple<RawSpan<std::int64_t>, int>> items;
    for (int i = 0; i < 4; ++i) {
      items.emplace_back(before_pool->span(), 20);
      items.emplace_back(after_pool->span(), 20);
    }
    for (const auto& array : small) items.emplace_back(array->span(), 0);
    for (const auto& array : small) items.emplace_back(array->span(), 0);
    for (const std::int64_t pid : pool.starmap(&touch_all, items, 1)) workers.insert(pid);
  }
  ASSERT_EQ(workers.size(), 2u) << "both workers should have touched the arrays";
  for (const std::int64_t pid : workers) {
    EXPECT_GE(array_mappings_and_descriptors_of(static_cast<pid_t>(pid)), 2)
        << "worker " << pid << " holds no array: the test would prove nothing";
  }
  before_pool.reset();
  after_pool.reset();
  small.clear();
  // No task runs from here on: the workers are idle.
  const auto bound = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (const std::int64_t pid : workers) {
    int held = array_mappings_and_descriptors_of(static_cast<pid_t>(pid));
    while (held != 0 && std::chrono::steady_clock::now() < bound) {
      usleep(10000);
      held = array_mappings_and_descriptors_of(static_cast<pid_t>(pid));
    }
    EXPECT_EQ(held, 0) << "idle worker " << pid
                       << " still maps (or holds descriptors of) freed arrays after 5 s";
  }
}

}  // namespace
}  // namespace procpar
