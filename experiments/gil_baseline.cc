// The seed's starting point (process-based-parallelism.md, introduction):
//
//   "Python has a Global Interpreter Lock (GIL) which prevents multiple threads from using the
//    interpreter at the same time. [...] This GIL prevents multicore performance increases using
//    one python interpreter. [...] Multiprocessing [...] uses multiple operating system (OS)
//    level processes to run multiple interpreters that can now work in parallel. Each process
//    has its own GIL which eliminates contention." (citing Beazley, Understanding the Python
//    GIL, PyCon 2010)
//
// One CPU-bound kernel, a fixed total of n loop iterations split evenly among p workers, run
// serially, on our ThreadPool, on our ProcessPool, and on ThreadPool threads that must hold a
// model of the GIL to run (gil_thread). The CPython reference (python/gil_baseline.py) runs the
// same kernel, with the same result, on CPython's threads and processes.
//
// Benchmarks: loop/serial/n, loop/{thread,process}/n/p, loop/gil_thread/n/p/switch_us.
// Counters: items_per_second (loop iterations), forced_switches (gil_thread: times per call
// the holder was made to let go of the lock).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "experiments/model_gil.h"
#include "experiments/experiment_main.h"
#include "experiments/profile.h"
#include "primitives/process_pool.h"
#include "primitives/thread_pool.h"

namespace procpar::experiments {
namespace {

// The kernel: sum over i in [begin, end) of the low 32 bits of i * 2654435761 (Knuth's
// multiplicative hash). Pure integer arithmetic, no memory traffic; the sum does not depend on
// how the range is split, so every backend's answer is checked against the serial one.
struct Range {
  std::uint64_t begin;
  std::uint64_t end;
};

std::uint64_t loop(Range range) {
  std::uint64_t total = 0;
  for (std::uint64_t i = range.begin; i < range.end; ++i) {
    total += static_cast<std::uint32_t>(i * 2654435761u);
  }
  return total;
}

std::vector<Range> split(std::uint64_t n, std::uint64_t parts) {
  std::vector<Range> ranges;
  for (std::uint64_t i = 0; i < parts; ++i) ranges.push_back({n * i / parts, n * (i + 1) / parts});
  return ranges;
}

// Iterations between two looks at the drop request: about a microsecond of work, as CPython
// looks between bytecodes of a loop body.
constexpr std::uint64_t kCheckEvery = 4096;

struct GilTask {
  ModelGil* gil;  // threads only: the pool's workers share the caller's address space
  Range range;
};

std::uint64_t loop_under_gil(GilTask task) {
  task.gil->acquire();
  std::uint64_t total = 0;
  for (std::uint64_t begin = task.range.begin; begin < task.range.end; begin += kCheckEvery) {
    total += loop({begin, std::min(begin + kCheckEvery, task.range.end)});
    task.gil->yield_if_requested();
  }
  task.gil->release();
  return total;
}

std::uint64_t sum(const std::vector<std::uint64_t>& parts) {
  std::uint64_t total = 0;
  for (std::uint64_t part : parts) total += part;
  return total;
}

bool check(benchmark::State& state, std::uint64_t got, std::uint64_t expected) {
  if (got == expected) return true;
  state.SkipWithError(("wrong sum " + std::to_string(got) + ", expected " +
                       std::to_string(expected)).c_str());
  return false;
}

void BM_Serial(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  const std::uint64_t expected = loop({0, n});
  for (auto _ : state) {
    const std::uint64_t total = loop({0, n});
    benchmark::DoNotOptimize(total);
    if (!check(state, total, expected)) return;
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

template <class PoolType>
void BM_Pool(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  const auto p = static_cast<std::uint64_t>(state.range(1));
  const std::uint64_t expected = loop({0, n});
  const std::vector<Range> ranges = split(n, p);
  PoolType pool(p);
  for (auto _ : state) {
    const std::uint64_t total = sum(pool.map(&loop, ranges, 1));
    benchmark::DoNotOptimize(total);
    if (!check(state, total, expected)) return;
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_GilThread(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  const auto p = static_cast<std::uint64_t>(state.range(1));
  const std::uint64_t expected = loop({0, n});
  ModelGil gil{std::chrono::microseconds(state.range(2))};
  std::vector<GilTask> tasks;
  for (const Range& range : split(n, p)) tasks.push_back({&gil, range});
  ThreadPool pool(p);
  const std::uint64_t switches_before = gil.forced_switches();
  for (auto _ : state) {
    const std::uint64_t total = sum(pool.map(&loop_under_gil, tasks, 1));
    benchmark::DoNotOptimize(total);
    if (!check(state, total, expected)) return;
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["forced_switches"] = benchmark::Counter(
      static_cast<double>(gil.forced_switches() - switches_before),
      benchmark::Counter::kAvgIterations);
}

// Sizes: C++ runs the kernel at well under a nanosecond per iteration, CPython at tens of
// nanoseconds; the smaller sizes are those the CPython reference measures too.
std::vector<std::int64_t> sizes() {
  return is_quick() ? powers_of_two(24, 30, 6) : powers_of_two(20, 32, 2);
}

// CPython 3's default switch interval (sys.getswitchinterval() is 0.005 s): the model takes
// any interval, the suite measures the one Python programs run with.
std::vector<std::int64_t> switch_intervals_us() { return {5000}; }

void register_benchmarks() {
  benchmark::RegisterBenchmark("loop/serial", BM_Serial)
      ->ArgNames({"n"})
      ->ArgsProduct({sizes()})
      ->UseRealTime();
  benchmark::RegisterBenchmark("loop/thread", BM_Pool<ThreadPool>)
      ->ArgNames({"n", "p"})
      ->ArgsProduct({sizes(), worker_counts()})
      ->UseRealTime();
  benchmark::RegisterBenchmark("loop/process", BM_Pool<ProcessPool>)
      ->ArgNames({"n", "p"})
      ->ArgsProduct({sizes(), worker_counts()})
      ->UseRealTime();
  benchmark::RegisterBenchmark("loop/gil_thread", BM_GilThread)
      ->ArgNames({"n", "p", "switch_us"})
      ->ArgsProduct({sizes(), worker_counts(), switch_intervals_us()})
      ->UseRealTime();
}

}  // namespace
}  // namespace procpar::experiments

int main(int argc, char** argv) {
  return procpar::experiments::run_experiment(argc, argv, "gil_baseline",
                                               procpar::experiments::register_benchmarks);
}
