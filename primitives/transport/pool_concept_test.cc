// Every pool models the Pool concept (pool.h), and the concept asks for the whole interface:
// checked at compile time, then used at run time through a function constrained by it alone.
#include <cstddef>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "primitives/pool.h"
#include "primitives/process_pool.h"
#include "primitives/serial_pool.h"
#include "primitives/thread_pool.h"
#include "primitives/watchdog.h"

namespace procpar {
namespace {

static_assert(Pool<ProcessPool>);
static_assert(Pool<ThreadPool>);
static_assert(Pool<SerialPool>);

// The concept the algorithms once had (workers and map) no longer suffices: the algorithms
// call starmap, users call the rest.
struct MapOnly {
  std::size_t workers() const { return 1; }
  std::vector<int> map(int (*f)(int), const std::vector<int>& items, std::size_t) {
    std::vector<int> out;
    for (int x : items) out.push_back(f(x));
    return out;
  }
};
static_assert(!Pool<MapOnly>);

// A pool that lacks only imap_unordered is not a Pool either.
struct WithoutImapUnordered : SerialPool {
  template <class F, class T>
  void imap_unordered(F, const std::vector<T>&, std::size_t) = delete;
};
static_assert(!Pool<WithoutImapUnordered>);

int twice(int x) { return 2 * x; }
int add(int a, int b) { return a + b; }

int sum(const std::vector<int>& values) {
  int total = 0;
  for (int y : values) total += y;
  return total;
}

// Uses every member the concept names, and nothing else.
template <Pool P>
int use_every_member(P& pool) {
  const std::vector<int> items{1, 2, 3};                          // twice: 2 + 4 + 6 = 12
  const std::vector<std::tuple<int, int>> pairs{{1, 10}, {2, 20}};  // add: 11 + 22 = 33
  int total = pool.apply(twice, 1);
  total += pool.apply_async(twice, 2).get();
  total += pool.apply_async(Callbacks<int>{}, twice, 3).get();
  total += sum(pool.map(twice, items, 1));
  total += sum(pool.map_async(twice, items, 2).get());
  total += sum(pool.map_async(Callbacks<std::vector<int>>{}, twice, items, 0).get());
  total += sum(pool.starmap(add, pairs, 1));
  total += sum(pool.starmap_async(add, pairs, 1).get());
  total += sum(pool.starmap_async(Callbacks<std::vector<int>>{}, add, pairs, 1).get());
  for (int y : pool.imap(twice, items, 1)) total += y;
  for (int y : pool.imap_unordered(twice, items, 2)) total += y;
  total += static_cast<int>(pool.workers());
  pool.close();
  pool.join();
  pool.terminate();
  return total;
}

// apply: 2 + 4 + 6; three maps, three starmaps, two imaps; two workers.
constexpr int kEveryMemberTotal = 2 + 4 + 6 + 12 * 3 + 33 * 3 + 12 * 2 + 2;

template <class P>
class PoolConcept : public ::testing::Test {
 protected:
  testing::Watchdog watchdog_{60};
};
using Pools = ::testing::Types<ProcessPool, ThreadPool, SerialPool>;
TYPED_TEST_SUITE(PoolConcept, Pools);

TYPED_TEST(PoolConcept, AFunctionConstrainedByTheConceptAloneRunsOnEveryPool) {
  TypeParam pool(2);
  EXPECT_EQ(use_every_member(pool), kEveryMemberTotal);
}

}  // namespace
}  // namespace procpar
