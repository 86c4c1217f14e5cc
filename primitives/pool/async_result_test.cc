#include "primitives/async_result.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace procpar {
namespace {

using namespace std::chrono_literals;

template <class T>
std::pair<std::shared_ptr<async_detail::State<T>>, AsyncResult<T>> make_result() {
  auto state = std::make_shared<async_detail::State<T>>();
  return {state, AsyncResult<T>(state)};
}

TEST(AsyncResult, UnfinishedResultCannotBeRead) {
  auto [state, result] = make_result<int>();
  EXPECT_FALSE(result.ready());
  EXPECT_THROW(result.value(), NotReady);
  EXPECT_FALSE(result.wait_for(1ms));
  try {
    result.value();
  } catch (const NotReady& error) {
    EXPECT_NE(std::string(error.what()).find("not ready"), std::string::npos);
  }
}

TEST(AsyncResult, ValueIsReadableManyTimesThroughEveryCopy) {
  auto [state, result] = make_result<std::string>();
  AsyncResult<std::string> copy = result;
  EXPECT_TRUE(state->set_value("done"));
  EXPECT_FALSE(state->set_value("again"));  // the first completion wins
  EXPECT_TRUE(copy.ready());
  EXPECT_EQ(result.get(), "done");
  EXPECT_EQ(result.get(), "done");
  EXPECT_EQ(copy.value(), "done");
  EXPECT_TRUE(copy.wait_for(0s));
}

TEST(AsyncResult, ErrorIsRethrownByGetAndValue) {
  auto [state, result] = make_result<int>();
  state->set_error(async_detail::Failure::task("std::out_of_range", "index 9"));
  EXPECT_TRUE(result.ready());
  EXPECT_THROW(result.get(), TaskError);
  try {
    result.value();
    FAIL() << "no error";
  } catch (const TaskError& error) {
    EXPECT_EQ(error.type_name(), "std::out_of_range");
    EXPECT_EQ(error.message(), "index 9");
    EXPECT_STREQ(error.what(), "task raised std::out_of_range: index 9");
  }
}

TEST(AsyncResult, VoidResult) {
  auto [state, result] = make_result<void>();
  EXPECT_THROW(result.value(), NotReady);
  state->set_value({});
  EXPECT_NO_THROW(result.get());
}

TEST(AsyncResult, WaiterSleepingPastTheSpinIsWoken) {
  auto [state, result] = make_result<int>();
  std::thread setter([state = state] {
    std::this_thread::sleep_for(20ms);  // longer than the spin: the waiter is asleep by then
    state->set_value(5);
  });
  EXPECT_EQ(result.get(), 5);
  setter.join();
}

TEST(AsyncResult, WaitForTimesOutThenSucceeds) {
  auto [state, result] = make_result<int>();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(result.wait_for(30ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  std::thread setter([state = state] { state->set_value(1); });
  EXPECT_TRUE(result.wait_for(10s));
  setter.join();
}

TEST(AsyncResult, ManyWaitersAllWake) {
  auto [state, result] = make_result<int>();
  std::vector<std::thread> waiters;
  std::vector<int> seen(4, 0);
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&seen, i, result = result] { seen[i] = result.get(); });
  }
  std::this_thread::sleep_for(5ms);
  state->set_value(11);
  for (auto& waiter : waiters) waiter.join();
  EXPECT_EQ(seen, std::vector<int>(4, 11));
}

TEST(TaskErrorFromException, NamesStandardCustomAndNonStandardTypes) {
  try {
    throw std::length_error("too long");
  } catch (...) {
    const TaskError error = task_error_from_current_exception();
    EXPECT_EQ(error.type_name(), "std::length_error");
    EXPECT_EQ(error.message(), "too long");
  }
  try {
    throw 3.5;
  } catch (...) {
    EXPECT_EQ(task_error_from_current_exception().type_name(), "double");
  }
  try {
    throw TaskError("inner::Type", "from a nested task");
  } catch (...) {
    EXPECT_EQ(task_error_from_current_exception().type_name(), "inner::Type");
  }
}

TEST(WorkerDied, NamesTheSignalOrTheExitStatus) {
  const WorkerDied killed(1234, SIGKILL);  // a wait status for "killed by SIGKILL"
  EXPECT_EQ(killed.signal(), SIGKILL);
  EXPECT_EQ(killed.exit_status(), -1);
  EXPECT_NE(std::string(killed.what()).find("SIGKILL"), std::string::npos) << killed.what();
  EXPECT_NE(std::string(killed.what()).find("1234"), std::string::npos);
  const WorkerDied exited(99, 3 << 8);  // "exited with status 3"
  EXPECT_EQ(exited.signal(), 0);
  EXPECT_EQ(exited.exit_status(), 3);
  EXPECT_NE(std::string(exited.what()).find("exited with status 3"), std::string::npos);
  const WorkerDied segv(5, SIGSEGV);
  EXPECT_NE(std::string(segv.what()).find("SIGSEGV"), std::string::npos) << segv.what();
}

TEST(ImapResult, OrderedWaitsForEachIndexUnorderedFollowsArrival) {
  auto state = std::make_shared<async_detail::StreamState<int>>(4, nullptr);
  ImapResult<int> ordered(state, false);
  ImapResult<int> unordered(state, true);
  state->set_values(2, {20, 30});
  auto it = unordered.begin();
  EXPECT_EQ(*it, 20);
  ++it;
  EXPECT_EQ(*it, 30);
  std::thread late([state = state] {
    std::this_thread::sleep_for(5ms);
    state->set_error(0, 1, async_detail::Failure::task("E", "first failed"));
    state->set_values(1, {10});
  });
  auto first = ordered.begin();
  EXPECT_THROW(*first, TaskError);  // blocks until index 0 arrives, then rethrows its error
  ++first;
  EXPECT_EQ(*first, 10);
  late.join();
  ++it;
  EXPECT_THROW(*it, TaskError);  // third to arrive: index 0
  EXPECT_EQ(ordered.size(), 4u);
}

TEST(ImapResult, TerminationFailsOnlyWhatHasNotArrived) {
  auto state = std::make_shared<async_detail::StreamState<int>>(3, nullptr);
  ImapResult<int> ordered(state, false);
  state->set_values(0, {1});
  state->fail_unfinished(async_detail::Failure::terminated());
  state->set_values(1, {2});  // a chunk that finishes after termination changes nothing
  auto it = ordered.begin();
  EXPECT_EQ(*it, 1);
  ++it;
  EXPECT_THROW(*it, PoolTerminated);
}

}  // namespace
}  // namespace procpar
