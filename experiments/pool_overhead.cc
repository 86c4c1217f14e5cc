// The seed (process-based-parallelism.md, "Using the module" and "Map"):
//
//   "Because of the overhead of spawning OS processes or pthreads, the library provides a Pool
//    class which encapsulates some state about a collection of worker processes."
//   "What is the overhead of the dynamic scheduler? How does chunk size affect the performance"
//
// The cost of a task, on a trivial function (x -> x * x on 64-bit integers), so that the time
// is the pool's own:
//   apply/<backend>        n round trips one after another: apply_async(f, i).get(), i < n
//                          (the latency of one task); n tasks per batch, p = the cores.
//   apply_async/<backend>  n apply_async submitted at once, then every get() (the throughput of
//                          single-task submissions).
//   map/<backend>          pool.map(f, items, chunksize) over n items, p workers, chunksize
//                          1, 2, 4, ..., 1024 and Python's default ceil(n / (4 p)) (recorded as
//                          its value).
// Backends serial (SerialPool: the same calls made inline), thread (ThreadPool), process
// (ProcessPool). `seconds` is the whole batch. The CPython reference
// (python/pool_overhead.py) measures multiprocessing.Pool (fork) on the same work.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "experiments/experiment_main.h"
#include "experiments/profile.h"
#include "primitives/pool.h"
#include "primitives/process_pool.h"
#include "primitives/serial_pool.h"
#include "primitives/thread_pool.h"

namespace procpar::experiments {
namespace {

std::int64_t square(std::int64_t x) { return x * x; }

std::int64_t sum_of_squares(std::int64_t n) { return (n - 1) * n * (2 * n - 1) / 6; }

std::int64_t apply_tasks() { return is_quick() ? 256 : 2048; }
std::int64_t map_items() { return is_quick() ? std::int64_t{1} << 12 : std::int64_t{1} << 15; }

std::vector<std::int64_t> chunksizes(std::int64_t n, std::int64_t p) {
  std::vector<std::int64_t> sizes = powers_of_two(0, 10, is_quick() ? 2 : 1);
  const auto python_default =
      static_cast<std::int64_t>(default_chunksize(static_cast<std::size_t>(n),
                                                  static_cast<std::size_t>(p)));
  if (std::find(sizes.begin(), sizes.end(), python_default) == sizes.end()) {
    sizes.push_back(python_default);
  }
  return sizes;
}

template <class PoolType>
void BM_Apply(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  PoolType pool(static_cast<std::size_t>(state.range(1)));
  std::int64_t total = 0;
  for (std::int64_t i = 0; i < n; ++i) total += pool.apply_async(square, i).get();  // warm up
  for (auto _ : state) {
    total = 0;
    for (std::int64_t i = 0; i < n; ++i) total += pool.apply_async(square, i).get();
    benchmark::DoNotOptimize(total);
  }
  if (total != sum_of_squares(n)) state.SkipWithError("apply: wrong results");
  state.SetItemsProcessed(state.iterations() * n);
}

template <class PoolType>
void BM_ApplyAsync(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  PoolType pool(static_cast<std::size_t>(state.range(1)));
  std::vector<AsyncResult<std::int64_t>> results;
  results.reserve(static_cast<std::size_t>(n));
  std::int64_t total = 0;
  for (auto _ : state) {
    results.clear();
    for (std::int64_t i = 0; i < n; ++i) results.push_back(pool.apply_async(square, i));
    total = 0;
    for (const auto& result : results) total += result.get();
    benchmark::DoNotOptimize(total);
  }
  if (total != sum_of_squares(n)) state.SkipWithError("apply_async: wrong results");
  state.SetItemsProcessed(state.iterations() * n);
}

template <class PoolType>
void BM_Map(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const auto chunksize = static_cast<std::size_t>(state.range(2));
  PoolType pool(static_cast<std::size_t>(state.range(1)));
  std::vector<std::int64_t> items(static_cast<std::size_t>(n));
  std::iota(items.begin(), items.end(), 0);
  std::vector<std::int64_t> squares = pool.map(square, items, chunksize);  // warm up
  for (auto _ : state) {
    squares = pool.map(square, items, chunksize);
    benchmark::DoNotOptimize(squares.data());
  }
  for (std::int64_t i = 0; i < n; ++i) {
    if (squares[static_cast<std::size_t>(i)] != i * i) {
      state.SkipWithError("map: wrong results");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["chunks"] = static_cast<double>((n + state.range(2) - 1) / state.range(2));
}

// apply and apply_async at one worker count (`apply_p`), map at every one of `map_p`.
template <class PoolType>
void register_backend(const std::string& backend, std::int64_t apply_p,
                      const std::vector<std::int64_t>& map_p) {
  benchmark::RegisterBenchmark(("apply/" + backend).c_str(), BM_Apply<PoolType>)
      ->ArgNames({"n", "p"})
      ->Args({apply_tasks(), apply_p})
      ->UseRealTime();
  benchmark::RegisterBenchmark(("apply_async/" + backend).c_str(), BM_ApplyAsync<PoolType>)
      ->ArgNames({"n", "p"})
      ->Args({apply_tasks(), apply_p})
      ->UseRealTime();
  auto* map = benchmark::RegisterBenchmark(("map/" + backend).c_str(), BM_Map<PoolType>)
                  ->ArgNames({"n", "p", "chunksize"})
                  ->UseRealTime();
  for (std::int64_t p : map_p) {
    for (std::int64_t chunksize : chunksizes(map_items(), p)) {
      map->Args({map_items(), p, chunksize});
    }
  }
}

void register_benchmarks() {
  register_backend<SerialPool>("serial", 1, {1});
  register_backend<ThreadPool>("thread", machine_cores(), worker_counts());
  register_backend<ProcessPool>("process", machine_cores(), worker_counts());
}

}  // namespace
}  // namespace procpar::experiments

int main(int argc, char** argv) {
  return procpar::experiments::run_experiment(argc, argv, "pool_overhead",
                                               procpar::experiments::register_benchmarks);
}
