// The semantics every pool shares (docs/design.md), as typed tests. Each pool's test file
// instantiates them:  INSTANTIATE_TYPED_TEST_SUITE_P(Thread, PoolContract, ThreadPool);
//
// Every test runs under a watchdog: a pool that hangs fails the test instead of stalling the
// suite.
#ifndef PROCPAR_PRIMITIVES_POOL_CONTRACT_H_
#define PROCPAR_PRIMITIVES_POOL_CONTRACT_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "primitives/async_result.h"
#include "primitives/pool.h"
#include "primitives/watchdog.h"

// Outside any anonymous namespace so that its demangled name is predictable.
struct ContractError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace procpar::contract {

using Watchdog = procpar::testing::Watchdog;

inline std::int64_t square(std::int64_t x) { return x * x; }
inline std::string describe(int x, const std::string& unit) { return std::to_string(x) + unit; }
inline std::vector<int> count_up(int n) {
  std::vector<int> values(static_cast<std::size_t>(n));
  std::iota(values.begin(), values.end(), 0);
  return values;
}
inline int fail_on_13(int x) {
  if (x == 13) throw std::invalid_argument("thirteen is unlucky");
  return x + 1;
}
inline int throw_custom(int) { throw ContractError("custom failure"); }
inline int throw_int(int) { throw 7; }
inline void check_positive(int x) {
  if (x <= 0) throw std::domain_error("not positive: " + std::to_string(x));
}
inline double add3(double a, int b, std::int64_t c) {
  return a + static_cast<double>(b) + static_cast<double>(c);
}

template <class P>
class PoolContract : public ::testing::Test {
 protected:
  Watchdog watchdog_{60};
};

TYPED_TEST_SUITE_P(PoolContract);

TYPED_TEST_P(PoolContract, ModelsThePoolConcept) {
  static_assert(Pool<TypeParam>);
  TypeParam pool(3);
  EXPECT_EQ(pool.workers(), 3u);
}

TYPED_TEST_P(PoolContract, ApplyReturnsTheValue) {
  TypeParam pool(2);
  EXPECT_EQ(pool.apply(square, std::int64_t{12}), 144);
  EXPECT_EQ(pool.apply(describe, 5, "kg"), "5kg");  // arguments convert to parameter types
  EXPECT_EQ(pool.apply(count_up, 4), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(pool.apply([](int a, int b) { return a * b; }, 6, 7), 42);  // captureless lambda
  pool.apply(check_positive, 1);                                        // void result
}

TYPED_TEST_P(PoolContract, ApplyAsyncResultsAreReadableManyTimes) {
  TypeParam pool(2);
  std::vector<AsyncResult<std::int64_t>> results;
  for (std::int64_t i = 0; i < 50; ++i) results.push_back(pool.apply_async(square, i));
  for (std::int64_t i = 0; i < 50; ++i) {
    AsyncResult<std::int64_t> copy = results[static_cast<std::size_t>(i)];
    EXPECT_EQ(copy.get(), i * i);
    EXPECT_TRUE(copy.ready());
    EXPECT_TRUE(copy.wait_for(std::chrono::seconds(0)));
    EXPECT_EQ(results[static_cast<std::size_t>(i)].value(), i * i);
  }
  auto done = pool.apply_async(check_positive, 3);
  done.wait();
  EXPECT_NO_THROW(done.get());
}

TYPED_TEST_P(PoolContract, MapKeepsOrderAtEveryChunksize) {
  TypeParam pool(2);
  std::vector<std::int64_t> items(1000);
  std::iota(items.begin(), items.end(), -500);
  std::vector<std::int64_t> expected;
  for (std::int64_t x : items) expected.push_back(x * x);
  for (std::size_t chunksize : {0, 1, 7, 64, 999, 1000, 5000}) {
    EXPECT_EQ(pool.map(square, items, chunksize), expected) << "chunksize " << chunksize;
    EXPECT_EQ(pool.map_async(square, items, chunksize).get(), expected)
        << "chunksize " << chunksize;
  }
}

TYPED_TEST_P(PoolContract, MapOfNothingIsEmpty) {
  TypeParam pool(2);
  const std::vector<std::int64_t> none;
  EXPECT_TRUE(pool.map(square, none).empty());
  EXPECT_TRUE(pool.map(square, none, 1).empty());
  EXPECT_TRUE(pool.map_async(square, none).get().empty());
  const auto stream = pool.imap(square, none);
  EXPECT_EQ(stream.begin(), stream.end());
  const std::vector<std::tuple<double, int, std::int64_t>> no_tuples;
  EXPECT_TRUE(pool.starmap(add3, no_tuples).empty());
}

TYPED_TEST_P(PoolContract, MapCarriesStringsAndVectors) {
  TypeParam pool(2);
  const std::vector<int> sizes{0, 3, 1, 5};
  const std::vector<std::vector<int>> expected{{}, {0, 1, 2}, {0}, {0, 1, 2, 3, 4}};
  EXPECT_EQ(pool.map(count_up, sizes, 1), expected);
  const std::vector<std::string> words{"alpha", "", "gamma"};
  EXPECT_EQ(pool.map([](const std::string& w) { return w.size(); }, words),
            (std::vector<std::size_t>{5, 0, 5}));
  EXPECT_EQ(pool.map([](int x) { return x % 2 == 0; }, std::vector<int>{1, 2, 4}),
            (std::vector<bool>{false, true, true}));
}

TYPED_TEST_P(PoolContract, StarmapUnpacksTuples) {
  TypeParam pool(2);
  std::vector<std::tuple<double, int, std::int64_t>> items;
  std::vector<double> expected;
  for (int i = 0; i < 100; ++i) {
    items.emplace_back(0.5 * i, i, std::int64_t{1000} * i);
    expected.push_back(0.5 * i + i + 1000.0 * i);
  }
  EXPECT_EQ(pool.starmap(add3, items), expected);
  EXPECT_EQ(pool.starmap_async(add3, items, 3).get(), expected);
}

TYPED_TEST_P(PoolContract, ImapIsOrderedAndImapUnorderedIsAPermutation) {
  TypeParam pool(2);
  std::vector<std::int64_t> items(300);
  std::iota(items.begin(), items.end(), 0);
  const std::vector<std::int64_t> expected = pool.map(square, items);
  for (std::size_t chunksize : {1, 4, 1000}) {
    std::vector<std::int64_t> ordered;
    for (std::int64_t value : pool.imap(square, items, chunksize)) ordered.push_back(value);
    EXPECT_EQ(ordered, expected) << "chunksize " << chunksize;
    std::vector<std::int64_t> unordered;
    for (std::int64_t value : pool.imap_unordered(square, items, chunksize)) {
      unordered.push_back(value);
    }
    std::sort(unordered.begin(), unordered.end());
    EXPECT_EQ(unordered, expected) << "chunksize " << chunksize;
  }
}

TYPED_TEST_P(PoolContract, TaskExceptionsKeepTypeAndMessage) {
  TypeParam pool(2);
  try {
    pool.apply(fail_on_13, 13);
    ADD_FAILURE() << "no exception";
  } catch (const TaskError& error) {
    EXPECT_EQ(error.type_name(), "std::invalid_argument");
    EXPECT_EQ(error.message(), "thirteen is unlucky");
    EXPECT_NE(std::string(error.what()).find("std::invalid_argument"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("thirteen is unlucky"), std::string::npos);
  }
  try {
    pool.apply_async(throw_custom, 0).get();
    ADD_FAILURE() << "no exception";
  } catch (const TaskError& error) {
    EXPECT_EQ(error.type_name(), "ContractError");
    EXPECT_EQ(error.message(), "custom failure");
  }
  try {
    pool.apply(throw_int, 0);
    ADD_FAILURE() << "no exception";
  } catch (const TaskError& error) {
    EXPECT_EQ(error.type_name(), "int");
  }
  try {
    pool.apply(check_positive, -2);
    ADD_FAILURE() << "no exception";
  } catch (const TaskError& error) {
    EXPECT_EQ(error.type_name(), "std::domain_error");
    EXPECT_EQ(error.message(), "not positive: -2");
  }
}

TYPED_TEST_P(PoolContract, AFailingItemFailsTheMapAndThePoolGoesOn) {
  TypeParam pool(2);
  std::vector<int> items(40);
  std::iota(items.begin(), items.end(), 0);
  for (std::size_t chunksize : {0, 1, 5}) {
    EXPECT_THROW(pool.map(fail_on_13, items, chunksize), TaskError);
    auto async = pool.map_async(fail_on_13, items, chunksize);
    async.wait();
    EXPECT_THROW(async.get(), TaskError);
    EXPECT_THROW(async.value(), TaskError);
  }
  std::vector<int> expected_after;
  for (int x : items) expected_after.push_back(x + 1);
  items[13] = 100;
  expected_after[13] = 101;
  EXPECT_EQ(pool.map(fail_on_13, items), expected_after);
}

TYPED_TEST_P(PoolContract, ImapRaisesAtTheFailedItemOnly) {
  TypeParam pool(2);
  std::vector<int> items(20);
  std::iota(items.begin(), items.end(), 0);
  auto stream = pool.imap(fail_on_13, items);
  int index = 0;
  for (auto it = stream.begin(); it != stream.end(); ++it, ++index) {
    if (index == 13) {
      EXPECT_THROW(*it, TaskError);
    } else {
      EXPECT_EQ(*it, index + 1);
    }
  }
  EXPECT_EQ(index, 20);
}

TYPED_TEST_P(PoolContract, CloseRefusesNewTasksAndJoinFinishesSubmittedOnes) {
  TypeParam pool(2);
  EXPECT_THROW(pool.join(), std::logic_error);  // as Python: join() needs close() first
  std::vector<AsyncResult<std::int64_t>> results;
  for (std::int64_t i = 0; i < 20; ++i) results.push_back(pool.apply_async(square, i));
  auto mapped = pool.map_async(square, std::vector<std::int64_t>(100, 3), 1);
  pool.close();
  EXPECT_THROW(pool.apply_async(square, 1), PoolClosed);
  EXPECT_THROW(pool.map(square, std::vector<std::int64_t>{1}), PoolClosed);
  pool.join();
  for (std::int64_t i = 0; i < 20; ++i) {
    EXPECT_TRUE(results[static_cast<std::size_t>(i)].ready());
    EXPECT_EQ(results[static_cast<std::size_t>(i)].value(), i * i);
  }
  EXPECT_EQ(mapped.value(), std::vector<std::int64_t>(100, 9));
}

TYPED_TEST_P(PoolContract, HundredThousandTasks) {
  TypeParam pool(2);
  std::vector<std::int64_t> items(100000);
  std::iota(items.begin(), items.end(), 0);
  const std::vector<std::int64_t> squares = pool.map(square, items, 1);
  ASSERT_EQ(squares.size(), items.size());
  for (std::size_t i = 0; i < items.size(); i += 997) EXPECT_EQ(squares[i], items[i] * items[i]);
  EXPECT_EQ(std::accumulate(squares.begin(), squares.end(), std::int64_t{0}),
            std::int64_t{99999} * 100000 * 199999 / 6);
}

REGISTER_TYPED_TEST_SUITE_P(PoolContract, ModelsThePoolConcept, ApplyReturnsTheValue,
                            ApplyAsyncResultsAreReadableManyTimes, MapKeepsOrderAtEveryChunksize,
                            MapOfNothingIsEmpty, MapCarriesStringsAndVectors, StarmapUnpacksTuples,
                            ImapIsOrderedAndImapUnorderedIsAPermutation,
                            TaskExceptionsKeepTypeAndMessage,
                            AFailingItemFailsTheMapAndThePoolGoesOn, ImapRaisesAtTheFailedItemOnly,
                            CloseRefusesNewTasksAndJoinFinishesSubmittedOnes, HundredThousandTasks);

}  // namespace procpar::contract

#endif  // PROCPAR_PRIMITIVES_POOL_CONTRACT_H_
