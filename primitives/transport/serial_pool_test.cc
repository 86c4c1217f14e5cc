#include "primitives/serial_pool.h"

#include <gtest/gtest.h>

#include <vector>

#include "primitives/pool_contract.h"

namespace procpar {
namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(Serial, PoolContract, SerialPool);
}  // namespace contract

namespace {

int calls = 0;
int count_call(int x) {
  ++calls;
  return x;
}

TEST(SerialPool, RunsEveryTaskInlineInOrder) {
  SerialPool pool(4);
  EXPECT_EQ(pool.workers(), 4u);
  calls = 0;
  auto result = pool.apply_async(count_call, 1);
  EXPECT_EQ(calls, 1);  // already run: the caller is the worker
  EXPECT_TRUE(result.ready());
  EXPECT_EQ(pool.map(count_call, std::vector<int>{1, 2, 3}), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(calls, 4);
}

TEST(SerialPool, DefaultsToOneWorker) { EXPECT_EQ(SerialPool().workers(), 1u); }

TEST(SerialPool, ZeroWorkersIsRefused) { EXPECT_THROW(SerialPool(0), std::invalid_argument); }

}  // namespace
}  // namespace procpar
