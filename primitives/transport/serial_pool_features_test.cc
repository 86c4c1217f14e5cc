// SerialPool's options, callbacks and successful(): the shared feature contract, and where
// serial callbacks run (inline, before the submission returns).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "primitives/pool_features_contract.h"
#include "primitives/serial_pool.h"

namespace procpar {
namespace features {
INSTANTIATE_TYPED_TEST_SUITE_P(Serial, PoolFeatures, SerialPool);
// SerialPool runs every task before the submission returns: nothing to time out or wait for.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ConcurrentPoolFeatures);
}  // namespace features

namespace {

using namespace std::chrono_literals;

int initializer_calls = 0;
void count_call(int) { ++initializer_calls; }

TEST(SerialPoolOptions, TheInitializerRunsOnceInTheConstructingThread) {
  initializer_calls = 0;
  SerialPool pool(PoolOptions{.workers = 4, .initializer = Initializer(count_call, 0)});
  EXPECT_EQ(initializer_calls, 1);
  EXPECT_EQ(pool.workers(), 4u);
}

TEST(SerialPoolOptions, CallbacksRunBeforeTheSubmissionReturns) {
  SerialPool pool;
  std::thread::id ran_in;
  std::int64_t seen = 0;
  auto result = pool.apply_async(Callbacks<std::int64_t>{.callback =
                                                             [&](const std::int64_t& v) {
                                                               seen = v;
                                                               ran_in = std::this_thread::get_id();
                                                             }},
                                 features::square, std::int64_t{6});
  EXPECT_EQ(seen, 36);
  EXPECT_EQ(ran_in, std::this_thread::get_id());
  EXPECT_TRUE(result.successful());
}

TEST(SerialPoolOptions, TimeLimitAndMaxTasksPerChildAreRefused) {
  EXPECT_THROW(SerialPool(PoolOptions{.workers = 1, .task_time_limit = 1s}),
               std::invalid_argument);
  EXPECT_THROW(SerialPool(PoolOptions{.workers = 1, .maxtasksperchild = 1}),
               std::invalid_argument);
}

}  // namespace
}  // namespace procpar
