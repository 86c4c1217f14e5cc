// Issue 11's additions to the pool interface, as typed tests every pool passes: PoolOptions'
// initializer, callbacks and error callbacks, get(timeout) and successful(). Each pool's
// features test instantiates them:
//   INSTANTIATE_TYPED_TEST_SUITE_P(Thread, PoolFeatures, ThreadPool);
//   INSTANTIATE_TYPED_TEST_SUITE_P(Thread, ConcurrentPoolFeatures, ThreadPool);  // not serial
// What only one pool does (time limits, maxtasksperchild) is tested in that pool's file.
#ifndef PROCPAR_PRIMITIVES_POOL_FEATURES_CONTRACT_H_
#define PROCPAR_PRIMITIVES_POOL_FEATURES_CONTRACT_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "primitives/async_result.h"
#include "primitives/pool_options.h"
#include "primitives/watchdog.h"

namespace procpar::features {

using namespace std::chrono_literals;
using Watchdog = procpar::testing::Watchdog;

// Set by the initializer in the thread that runs the tasks (a worker process's only thread, a
// worker thread, or SerialPool's caller); 0 where no initializer ran.
inline thread_local int marker = 0;
inline void set_marker(int value) { marker = value; }
inline int read_marker(int) { return marker; }
inline void refuse_to_start(int) { throw std::runtime_error("no database"); }

inline std::int64_t square(std::int64_t x) { return x * x; }
inline int fail_on_13(int x) {
  if (x == 13) throw std::invalid_argument("thirteen is unlucky");
  return x + 1;
}
inline void check_positive(int x) {
  if (x <= 0) throw std::domain_error("not positive: " + std::to_string(x));
}
inline double add(double a, int b) { return a + b; }
inline int sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

// Waits (at most 20 s) until `done()`: callbacks run after the result is ready, so a test that
// looks for a callback's effect before join() must wait for it.
template <class Done>
bool eventually(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// What the callbacks of a test saw, written from the callback thread.
struct Seen {
  std::mutex mutex;
  std::vector<std::int64_t> values;
  std::vector<std::string> errors;
  std::atomic<int> calls{0};

  void value(std::int64_t v) {
    std::lock_guard lock(mutex);
    values.push_back(v);
    calls.fetch_add(1);
  }
  void error(const std::exception& e) {
    std::lock_guard lock(mutex);
    errors.push_back(e.what());
    calls.fetch_add(1);
  }
};

template <class P>
class PoolFeatures : public ::testing::Test {
 protected:
  Watchdog watchdog_{60};
};

TYPED_TEST_SUITE_P(PoolFeatures);

TYPED_TEST_P(PoolFeatures, TheInitializerRunsWhereTheTasksRun) {
  marker = 0;
  TypeParam pool(PoolOptions{.workers = 2, .initializer = Initializer(set_marker, 42)});
  EXPECT_EQ(pool.workers(), 2u);
  EXPECT_EQ(pool.map(read_marker, std::vector<int>(64, 0), 1), std::vector<int>(64, 42));
  EXPECT_EQ(pool.apply(read_marker, 0), 42);
}

TYPED_TEST_P(PoolFeatures, AThrowingInitializerFailsTheConstructor) {
  try {
    TypeParam pool(PoolOptions{.workers = 2, .initializer = Initializer(refuse_to_start, 1)});
    ADD_FAILURE() << "the constructor returned";
  } catch (const InitializerError& error) {
    EXPECT_EQ(error.type_name(), "std::runtime_error");
    EXPECT_EQ(error.message(), "no database");
    EXPECT_NE(std::string(error.what()).find("no database"), std::string::npos);
  }
}

TYPED_TEST_P(PoolFeatures, OptionsWithoutExtrasBehaveAsTheWorkerCount) {
  TypeParam pool(PoolOptions{.workers = 3});
  EXPECT_EQ(pool.workers(), 3u);
  EXPECT_EQ(pool.apply(square, std::int64_t{9}), 81);
  EXPECT_THROW(TypeParam(PoolOptions{.workers = 0}), std::invalid_argument);
  EXPECT_THROW(TypeParam(PoolOptions{.workers = 1, .task_time_limit = -1ms}),
               std::invalid_argument);
}

TYPED_TEST_P(PoolFeatures, CallbacksReceiveValuesAndErrors) {
  Seen seen;
  TypeParam pool(2);
  const Callbacks<std::int64_t> on_square{
      .callback = [&](const std::int64_t& v) { seen.value(v); },
      .error_callback = [&](const std::exception& e) { seen.error(e); }};
  for (std::int64_t i = 0; i < 20; ++i) pool.apply_async(on_square, square, i);
  auto failed = pool.apply_async(
      Callbacks<int>{.callback = [&](const int& v) { seen.value(v); },
                     .error_callback = [&](const std::exception& e) { seen.error(e); }},
      fail_on_13, 13);
  std::vector<std::vector<int>> mapped;
  std::vector<std::vector<double>> starmapped;
  std::atomic<int> voids{0};
  pool.map_async(Callbacks<std::vector<int>>{.callback =
                                                 [&](const std::vector<int>& v) {
                                                   std::lock_guard lock(seen.mutex);
                                                   mapped.push_back(v);
                                                 }},
                 fail_on_13, std::vector<int>{1, 2, 3}, 1);
  pool.starmap_async(Callbacks<std::vector<double>>{.callback =
                                                        [&](const std::vector<double>& v) {
                                                          std::lock_guard lock(seen.mutex);
                                                          starmapped.push_back(v);
                                                        }},
                     add, std::vector<std::tuple<double, int>>{{0.5, 1}, {1.5, 2}});
  pool.apply_async(Callbacks<void>{.callback = [&] { voids.fetch_add(1); }}, check_positive, 1);
  pool.apply_async(Callbacks<void>{.error_callback =
                                       [&](const std::exception& e) {
                                         if (dynamic_cast<const TaskError*>(&e) != nullptr) {
                                           voids.fetch_add(10);
                                         }
                                       }},
                   check_positive, -1);
  pool.map_async(Callbacks<std::vector<int>>{.error_callback = [&](const std::exception& e) {
                   seen.error(e);
                 }},
                 fail_on_13, std::vector<int>{12, 13, 14}, 1);
  EXPECT_THROW(failed.get(), TaskError);
  pool.close();
  pool.join();  // returns once every callback has run
  std::sort(seen.values.begin(), seen.values.end());
  std::vector<std::int64_t> squares;
  for (std::int64_t i = 0; i < 20; ++i) squares.push_back(i * i);
  EXPECT_EQ(seen.values, squares);
  ASSERT_EQ(seen.errors.size(), 2u);
  for (const std::string& what : seen.errors) {
    EXPECT_NE(what.find("thirteen is unlucky"), std::string::npos) << what;
  }
  EXPECT_EQ(mapped, (std::vector<std::vector<int>>{{2, 3, 4}}));
  EXPECT_EQ(starmapped, (std::vector<std::vector<double>>{{1.5, 3.5}}));
  EXPECT_EQ(voids.load(), 11);
}

TYPED_TEST_P(PoolFeatures, AThrowingCallbackIsReportedAndThePoolGoesOn) {
  TypeParam pool(2);
  std::atomic<int> calls{0};
  const Callbacks<std::int64_t> throwing{.callback = [&](const std::int64_t&) {
    calls.fetch_add(1);
    throw std::logic_error("callback bug");
  }};
  ::testing::internal::CaptureStderr();
  pool.apply_async(throwing, square, std::int64_t{2});
  ASSERT_TRUE(eventually([&] { return calls.load() == 1; }));
  pool.apply_async(throwing, square, std::int64_t{3});  // the callbacks still run
  ASSERT_TRUE(eventually([&] { return calls.load() == 2; }));
  EXPECT_EQ(pool.apply(square, std::int64_t{4}), 16);  // and so do tasks
  pool.close();
  pool.join();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("callback raised std::logic_error: callback bug"), std::string::npos) << err;
}

TYPED_TEST_P(PoolFeatures, ACallbackMayUseThePool) {
  TypeParam pool(2);
  std::atomic<std::int64_t> nested{0};
  std::atomic<int> nested_callbacks{0};
  pool.apply_async(Callbacks<std::int64_t>{.callback =
                                               [&](const std::int64_t& v) {
                                                 // A blocking call and a submission with a
                                                 // callback of its own, from a callback.
                                                 nested.store(pool.apply(square, v));
                                                 pool.apply_async(
                                                     Callbacks<std::int64_t>{
                                                         .callback =
                                                             [&](const std::int64_t&) {
                                                               nested_callbacks.fetch_add(1);
                                                             }},
                                                     square, v);
                                               }},
                   square, std::int64_t{3});
  ASSERT_TRUE(eventually([&] { return nested_callbacks.load() == 1; }));
  EXPECT_EQ(nested.load(), 81);
}

TYPED_TEST_P(PoolFeatures, SuccessfulAndGetWithATimeoutOnFinishedResults) {
  TypeParam pool(2);
  auto good = pool.apply_async(square, std::int64_t{5});
  auto bad = pool.apply_async(fail_on_13, 13);
  auto mapped = pool.map_async(fail_on_13, std::vector<int>{1, 2}, 1);
  EXPECT_EQ(good.get(10s), 25);
  EXPECT_THROW(bad.get(10s), TaskError);
  EXPECT_EQ(mapped.get(10s), (std::vector<int>{2, 3}));
  EXPECT_TRUE(good.successful());
  EXPECT_FALSE(bad.successful());
  EXPECT_TRUE(mapped.successful());
  EXPECT_EQ(good.get(0s), 25);  // ready: no wait at all
}

REGISTER_TYPED_TEST_SUITE_P(PoolFeatures, TheInitializerRunsWhereTheTasksRun,
                            AThrowingInitializerFailsTheConstructor,
                            OptionsWithoutExtrasBehaveAsTheWorkerCount,
                            CallbacksReceiveValuesAndErrors,
                            AThrowingCallbackIsReportedAndThePoolGoesOn, ACallbackMayUseThePool,
                            SuccessfulAndGetWithATimeoutOnFinishedResults);

// Pools whose tasks run while the caller goes on (not SerialPool, which runs them inline).
template <class P>
class ConcurrentPoolFeatures : public ::testing::Test {
 protected:
  Watchdog watchdog_{60};
};

TYPED_TEST_SUITE_P(ConcurrentPoolFeatures);

TYPED_TEST_P(ConcurrentPoolFeatures, GetWithATimeoutThrowsTimeoutErrorAndTheTaskGoesOn) {
  TypeParam pool(1);
  auto slow = pool.apply_async(sleep_ms, 400);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(slow.get(20ms), TimeoutError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 350ms);
  EXPECT_THROW(slow.successful(), NotReady);  // Python raises ValueError
  auto mapped = pool.map_async(sleep_ms, std::vector<int>{100, 100}, 1);
  EXPECT_THROW(mapped.get(1ms), TimeoutError);
  EXPECT_EQ(slow.get(20s), 400);  // the timeout did not cancel it
  EXPECT_TRUE(slow.successful());
  EXPECT_EQ(mapped.get(20s), (std::vector<int>{100, 100}));
}

TYPED_TEST_P(ConcurrentPoolFeatures, JoinWaitsForEveryCallback) {
  std::atomic<int> calls{0};
  {
    TypeParam pool(2);
    const Callbacks<int> slow_callback{.callback = [&](const int&) {
      std::this_thread::sleep_for(2ms);
      calls.fetch_add(1);
    }};
    for (int i = 0; i < 50; ++i) pool.apply_async(slow_callback, sleep_ms, 0);
    pool.close();
    pool.join();
    EXPECT_EQ(calls.load(), 50);
  }
  // terminate(): every unfinished result fails with PoolTerminated, and its error_callback runs.
  std::atomic<int> terminated{0};
  {
    TypeParam pool(1);
    const Callbacks<int> on_error{.error_callback = [&](const std::exception& e) {
      if (dynamic_cast<const PoolTerminated*>(&e) != nullptr) terminated.fetch_add(1);
    }};
    pool.apply_async(sleep_ms, 200);
    for (int i = 0; i < 10; ++i) pool.apply_async(on_error, sleep_ms, 200);
    pool.terminate();
    pool.join();
    EXPECT_EQ(terminated.load(), 10);
  }
}

REGISTER_TYPED_TEST_SUITE_P(ConcurrentPoolFeatures,
                            GetWithATimeoutThrowsTimeoutErrorAndTheTaskGoesOn,
                            JoinWaitsForEveryCallback);

}  // namespace procpar::features

#endif  // PROCPAR_PRIMITIVES_POOL_FEATURES_CONTRACT_H_
