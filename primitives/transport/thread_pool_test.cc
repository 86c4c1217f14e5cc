#include "primitives/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "primitives/pool_contract.h"

namespace procpar {
namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(Thread, PoolContract, ThreadPool);
}  // namespace contract

namespace {

using namespace std::chrono_literals;

std::atomic<int> arrived{0};
std::atomic<bool> release{false};

// Returns once `n` tasks are inside it at the same time: proves the workers run in parallel.
int rendezvous(int n) {
  arrived.fetch_add(1);
  while (arrived.load() < n) std::this_thread::yield();
  return n;
}

std::atomic<int> started{0};

int block_until_released(int x) {
  started.fetch_add(1);
  while (!release.load()) std::this_thread::sleep_for(1ms);
  return x;
}

TEST(ThreadPool, WorkersRunTasksAtTheSameTime) {
  contract::Watchdog watchdog(60);
  ThreadPool pool(3);
  arrived = 0;
  EXPECT_EQ(pool.map(rendezvous, std::vector<int>(3, 3), 1), std::vector<int>(3, 3));
}

TEST(ThreadPool, ValueOfARunningTaskIsNotReady) {
  contract::Watchdog watchdog(60);
  ThreadPool pool(1);
  release = false;
  auto result = pool.apply_async(block_until_released, 4);
  EXPECT_FALSE(result.ready());
  EXPECT_THROW(result.value(), NotReady);
  EXPECT_FALSE(result.wait_for(5ms));
  release = true;
  EXPECT_EQ(result.get(), 4);
}

TEST(ThreadPool, TerminateFailsUnstartedTasksAndLetsTheRunningOneFinish) {
  contract::Watchdog watchdog(60);
  ThreadPool pool(1);
  release = false;
  started = 0;
  auto running = pool.apply_async(block_until_released, 1);
  while (started.load() == 0) std::this_thread::yield();  // the worker is running it
  auto queued = pool.apply_async(block_until_released, 2);
  auto mapped = pool.map_async(block_until_released, std::vector<int>(10, 3), 1);
  auto stream = pool.imap(block_until_released, std::vector<int>(5, 4));
  pool.terminate();
  EXPECT_THROW(queued.get(), PoolTerminated);
  EXPECT_THROW(mapped.get(), PoolTerminated);
  EXPECT_THROW(*stream.begin(), PoolTerminated);
  EXPECT_THROW(pool.apply_async(block_until_released, 5), PoolClosed);
  release = true;
  EXPECT_EQ(running.get(), 1);
  pool.join();
}

TEST(ThreadPool, DestructorWithQueuedWorkDoesNotHang) {
  contract::Watchdog watchdog(60);
  release = true;
  AsyncResult<std::vector<int>> mapped = [] {
    ThreadPool pool(2);
    return pool.map_async(block_until_released, std::vector<int>(10000, 1), 1);
  }();
  // Either finished before the pool went away or failed with PoolTerminated: never pending.
  EXPECT_TRUE(mapped.ready());
  try {
    EXPECT_EQ(mapped.get(), std::vector<int>(10000, 1));
  } catch (const PoolTerminated&) {
  }
}

TEST(ThreadPool, ZeroWorkersIsRefused) { EXPECT_THROW(ThreadPool(0), std::invalid_argument); }

}  // namespace
}  // namespace procpar
