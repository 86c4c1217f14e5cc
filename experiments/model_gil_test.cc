#include "experiments/model_gil.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace procpar::experiments {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// `threads` threads each work for `work` of wall time, holding the model GIL, looking for a
// drop request every few microseconds. Records the most threads ever inside at once and the
// order in which threads ran.
struct Outcome {
  int most_inside = 0;
  std::vector<int> turns;  // the thread that did each slice of work, in order
  std::uint64_t forced_switches = 0;
};

Outcome contend(int threads, microseconds interval, milliseconds work) {
  ModelGil gil(interval);
  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  std::mutex turns_mutex;
  Outcome outcome;
  auto enter = [&] {
    const int now = inside.fetch_add(1) + 1;
    int seen = most_inside.load();
    while (now > seen && !most_inside.compare_exchange_weak(seen, now)) {
    }
  };
  std::vector<std::thread> pool;
  for (int id = 0; id < threads; ++id) {
    pool.emplace_back([&, id] {
      gil.acquire();
      enter();
      // `work` of this thread's own running time: time waiting for the lock does not count.
      steady_clock::duration left = work;
      while (left > steady_clock::duration::zero()) {
        {
          std::lock_guard lock(turns_mutex);
          if (outcome.turns.empty() || outcome.turns.back() != id) outcome.turns.push_back(id);
        }
        const auto start = steady_clock::now();
        while (steady_clock::now() < start + microseconds(20)) {
        }
        left -= steady_clock::now() - start;
        inside.fetch_sub(1);
        gil.yield_if_requested();
        enter();
      }
      inside.fetch_sub(1);
      gil.release();
    });
  }
  for (std::thread& t : pool) t.join();
  outcome.most_inside = most_inside.load();
  outcome.forced_switches = gil.forced_switches();
  return outcome;
}

TEST(ModelGil, OneThreadRunsAloneAndIsNeverAskedToLetGo) {
  const Outcome outcome = contend(1, milliseconds(1), milliseconds(20));
  EXPECT_EQ(outcome.most_inside, 1);
  EXPECT_EQ(outcome.forced_switches, 0u);
}

TEST(ModelGil, ThreadsNeverRunTogether) {
  const Outcome outcome = contend(3, microseconds(200), milliseconds(20));
  EXPECT_EQ(outcome.most_inside, 1);
}

TEST(ModelGil, HolderIsMadeToLetGoAfterASwitchInterval) {
  // Two threads, 100 ms of work each, 1 ms interval: on an idle machine the lock changes hands
  // about a hundred times; a loaded one delays the waiter's wake-ups, so the bound is loose.
  // Without forced switching the first thread would finish before the second began.
  const Outcome outcome = contend(2, milliseconds(1), milliseconds(100));
  EXPECT_EQ(outcome.most_inside, 1);
  EXPECT_GE(outcome.forced_switches, 2u);
  // A forced switch hands the lock to the other thread: the threads took turns.
  EXPECT_GE(outcome.turns.size(), 3u);
}

TEST(ModelGil, ALongIntervalLetsTheHolderFinishFirst) {
  // Work shorter than the interval: the waiter never asks, each thread runs in one turn.
  const Outcome outcome = contend(2, milliseconds(500), milliseconds(10));
  EXPECT_EQ(outcome.forced_switches, 0u);
  EXPECT_EQ(outcome.turns.size(), 2u);
}

}  // namespace
}  // namespace procpar::experiments
