// The seed's claim (process-based-parallelism.md, "Map"):
//
//   "What is the overhead of the dynamic scheduler? How does chunk size affect the performance?
//    I seem to have found that log(N) provides a good chunk size."
//
// out[i] = f(in[i]) over n doubles in RawArrays, for a cheap f (one multiply-add: memory bound)
// and an expensive one (a dependent chain of up to 2048 multiply-adds, its length set by the
// element: uneven work, about 1.2 us per element on average here), by:
//   map/serial                   a loop in the caller
//   map/{process,thread}         map<F>: chunks of `chunksize` elements as pool tasks carrying
//                                RawSpan views
//   pool_map/{process,thread}    Pool::map over a std::vector of the values, as Python's
//                                Pool.map does: every element is copied into the task and back
//                                (cheap function only, p = 2)
// The function is the name's component function:cheap or function:expensive (a string column
// of the tidy CSV). The chunk sizes swept for each (n, p): 1, 2, 4, ... up to n/p, and the
// seed's candidates floor(log2 n), sqrt n, n/(4p) (Python's default) and n/p, leaving out
// those that would make more than kMaxTasks tasks per call (a process-pool task costs
// microseconds: such a call would take seconds). Arguments n, p, chunksize; counters
// items_per_second and tasks (tasks per call).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "benchmark/benchmark.h"
#include "experiments/bulk_support.h"
#include "experiments/experiment_main.h"
#include "experiments/profile.h"
#include "primitives/map.h"
#include "primitives/process_pool.h"
#include "primitives/shared_array.h"
#include "primitives/thread_pool.h"

namespace procpar::experiments {
namespace {

struct Cheap {
  double operator()(double x) const { return 1.5 * x + 0.25; }
};

struct Expensive {
  double operator()(double x) const {
    const int steps = 1 + static_cast<int>(x * 2047);  // x in [0, 1)
    double y = x;
    for (int i = 0; i < steps; ++i) y = y * 0.9999 + 0.0001;
    return y;
  }
};

// A value task for Pool::map (the Python way): the element travels in the message.
template <class F>
double apply_to_value(double x) {
  return F{}(x);
}

constexpr std::int64_t kMaxTasks = std::int64_t{1} << 16;

struct Inputs {
  explicit Inputs(std::size_t n) : values(n), out(n) { fill_random(values, 3); }

  // The serial results of F, computed on first use (the expensive F takes a while).
  template <class F>
  const std::vector<double>& expected() {
    std::vector<double>& results = std::is_same_v<F, Cheap> ? cheap : expensive;
    if (results.empty()) {
      for (const double x : values) results.push_back(F{}(x));
    }
    return results;
  }

  RawArray<double> values;
  RawArray<double> out;
  std::vector<double> cheap, expensive;
};

template <class F>
void check(benchmark::State& state, Inputs& inputs, const double* out) {
  const std::vector<double>& want = inputs.expected<F>();
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (out[i] != want[i]) {
      state.SkipWithError(("out[" + std::to_string(i) + "] is wrong").c_str());
      return;
    }
  }
}

void finish(benchmark::State& state, std::int64_t n, std::int64_t tasks) {
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["tasks"] = static_cast<double>(tasks);
}

void poison(Inputs& inputs) {
  for (double& y : inputs.out) y = -1;
}

template <class F>
void serial_map(const double* x, double* y, std::size_t n) {
  const F f{};
  for (std::size_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

template <class F>
void BM_Serial(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Inputs& inputs = inputs_of<Inputs>(n);
  poison(inputs);
  for (auto _ : state) {
    serial_map<F>(inputs.values.data(), inputs.out.data(), inputs.values.size());
    benchmark::ClobberMemory();
  }
  check<F>(state, inputs, inputs.out.data());
  finish(state, n, 0);
}

template <class F, class P>
void BM_Map(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const std::int64_t chunksize = state.range(2);
  Inputs& inputs = inputs_of<Inputs>(n);
  P& pool = pool_of<P>(state.range(1));
  poison(inputs);
  map<F>(pool, inputs.values.span(), inputs.out.span(), static_cast<std::size_t>(chunksize));
  for (auto _ : state) {
    map<F>(pool, inputs.values.span(), inputs.out.span(), static_cast<std::size_t>(chunksize));
    benchmark::ClobberMemory();
  }
  check<F>(state, inputs, inputs.out.data());
  finish(state, n, (n + chunksize - 1) / chunksize);
}

template <class F, class P>
void BM_PoolMap(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const std::int64_t chunksize = state.range(2);
  Inputs& inputs = inputs_of<Inputs>(n);
  P& pool = pool_of<P>(state.range(1));
  const std::vector<double> items(inputs.values.begin(), inputs.values.end());
  std::vector<double> results =
      pool.map(&apply_to_value<F>, items, static_cast<std::size_t>(chunksize));
  for (auto _ : state) {
    results = pool.map(&apply_to_value<F>, items, static_cast<std::size_t>(chunksize));
    benchmark::DoNotOptimize(results.data());
  }
  check<F>(state, inputs, results.data());
  finish(state, n, (n + chunksize - 1) / chunksize);
}

// 1, 2, 4, ... up to n/p (1, 4, 16, ... in the quick profile), plus floor(log2 n), sqrt n,
// n/(4p) and n/p; none making over kMaxTasks tasks.
std::vector<std::int64_t> chunk_sizes(std::int64_t n, std::int64_t p) {
  std::set<std::int64_t> sizes;
  const std::int64_t step = is_quick() ? 4 : 2;
  for (std::int64_t c = 1; c <= n / p; c *= step) sizes.insert(c);
  sizes.insert(static_cast<std::int64_t>(std::floor(std::log2(static_cast<double>(n)))));
  sizes.insert(static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(n)))));
  sizes.insert((n + 4 * p - 1) / (4 * p));
  sizes.insert((n + p - 1) / p);
  std::vector<std::int64_t> kept;
  for (const std::int64_t c : sizes) {
    if ((n + c - 1) / c <= kMaxTasks) kept.push_back(c);
  }
  return kept;
}

// Sizes that are not powers of two, so that log2 n, sqrt n and n/(4p) fall between the powers.
std::int64_t cheap_size() { return is_quick() ? 100'000 : 1'000'000; }
std::int64_t expensive_size() { return is_quick() ? 4'000 : 20'000; }
std::int64_t pool_map_size() { return is_quick() ? 20'000 : 100'000; }

template <class F>
void register_map(const char* function, std::int64_t n) {
  const std::string suffix = std::string("/function:") + function;
  benchmark::RegisterBenchmark(("map/serial" + suffix).c_str(), BM_Serial<F>)
      ->ArgNames({"n"})
      ->Args({n})
      ->UseRealTime();
  auto* process =
      benchmark::RegisterBenchmark(("map/process" + suffix).c_str(), BM_Map<F, ProcessPool>);
  auto* thread =
      benchmark::RegisterBenchmark(("map/thread" + suffix).c_str(), BM_Map<F, ThreadPool>);
  for (auto* b : {process, thread}) {
    b->ArgNames({"n", "p", "chunksize"})->UseRealTime();
    for (const std::int64_t p : worker_counts()) {
      for (const std::int64_t c : chunk_sizes(n, p)) b->Args({n, p, c});
    }
  }
}

void register_benchmarks() {
  // The size is the outer loop so that each input is built once (inputs_of).
  register_map<Cheap>("cheap", cheap_size());
  register_map<Expensive>("expensive", expensive_size());
  const std::int64_t n = pool_map_size();
  const std::int64_t p = std::min<std::int64_t>(2, machine_cores());
  auto* process = benchmark::RegisterBenchmark("pool_map/process/function:cheap",
                                               BM_PoolMap<Cheap, ProcessPool>);
  auto* thread = benchmark::RegisterBenchmark("pool_map/thread/function:cheap",
                                              BM_PoolMap<Cheap, ThreadPool>);
  for (auto* b : {process, thread}) {
    b->ArgNames({"n", "p", "chunksize"})->UseRealTime();
    for (const std::int64_t c : chunk_sizes(n, p)) b->Args({n, p, c});
  }
}

}  // namespace
}  // namespace procpar::experiments

int main(int argc, char** argv) {
  procpar::experiments::keep_freed_memory();
  return procpar::experiments::run_experiment(argc, argv, "map_chunksize",
                                               procpar::experiments::register_benchmarks);
}
