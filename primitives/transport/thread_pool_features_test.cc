// ThreadPool's options, callbacks, get(timeout) and successful(): the shared feature contract,
// and what threads do with the options they cannot honour.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "primitives/pool_features_contract.h"
#include "primitives/thread_pool.h"

namespace procpar {
namespace features {
INSTANTIATE_TYPED_TEST_SUITE_P(Thread, PoolFeatures, ThreadPool);
INSTANTIATE_TYPED_TEST_SUITE_P(Thread, ConcurrentPoolFeatures, ThreadPool);
}  // namespace features

namespace {

using namespace std::chrono_literals;

std::mutex initialized_mutex;
std::set<std::thread::id> initialized_threads;
void note_thread(int) {
  std::lock_guard lock(initialized_mutex);
  initialized_threads.insert(std::this_thread::get_id());
}

TEST(ThreadPoolOptions, TheInitializerRunsOnceInEveryWorkerThread) {
  features::Watchdog watchdog(60);
  initialized_threads.clear();
  ThreadPool pool(PoolOptions{.workers = 3, .initializer = Initializer(note_thread, 0)});
  std::lock_guard lock(initialized_mutex);
  EXPECT_EQ(initialized_threads.size(), 3u);  // the constructor waited for all three
  EXPECT_EQ(initialized_threads.count(std::this_thread::get_id()), 0u);
}

// A thread cannot be killed, nor does replacing it free what a task leaked: both are refused
// at construction rather than half-honoured.
TEST(ThreadPoolOptions, TimeLimitAndMaxTasksPerChildAreRefused) {
  try {
    ThreadPool pool(PoolOptions{.workers = 2, .task_time_limit = 100ms});
    ADD_FAILURE() << "a time limit was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("task_time_limit"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("ProcessPool"), std::string::npos);
  }
  try {
    ThreadPool pool(PoolOptions{.workers = 2, .maxtasksperchild = 10});
    ADD_FAILURE() << "maxtasksperchild was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("maxtasksperchild"), std::string::npos);
  }
}

}  // namespace
}  // namespace procpar
