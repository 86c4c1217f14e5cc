// The seed's claim (process-based-parallelism.md, "Reduction"):
//
//   "Should you do the log(P) depth solution where each processor adds the adjacent elements of
//    the array together until only one element remains? Or should the work be cut up into the
//    largest possible serial chunks to be processed sequentially. The flat approach with each
//    of the p processors conquering n/p of the work performs better as the size of the
//    partitions increases. [...] The reduction tree [...] pays a large penalty for forming these
//    fine grained tasks. [...] [The partitioned algorithm] provides a significant speedup over
//    both the serial version and the reduction tree versions."
//
// A sum of n doubles (std::plus<>) in a RawArray, by:
//   serial/serial                  reduce_serial in the caller
//   tree/{process,thread}          reduce_tree: a pool task per pair (small n only: it is slow)
//   partitioned/{process,thread}   reduce_partitioned: one piece per worker
//   reduce/tbb                     oneTBB parallel_reduce, reduce_serial as its body
//   reduce/openmp                  `omp parallel`: one piece per thread, summed by the serial
//                                  kernel the pools run (as the OpenMP scans and pack are)
//   reduce/stdpar                  std::reduce(std::execution::par)
//   reduce_unseq/stdpar            std::reduce(std::execution::par_unseq)
//   read/openmp                    read bandwidth at the largest n (bandwidth_limits.h)
// Arguments n, p; counters bytes_per_second (input bytes read) and tasks (pool tasks per call).
// Every result is checked against a long double sum within the floating-point error bound.
#include <omp.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <execution>
#include <functional>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "experiments/bandwidth_limits.h"
#include "experiments/bulk_support.h"
#include "experiments/experiment_main.h"
#include "experiments/profile.h"
#include "experiments/sweep.h"
#include "primitives/process_pool.h"
#include "primitives/reduce.h"
#include "primitives/shared_array.h"
#include "primitives/thread_pool.h"

namespace procpar::experiments {
namespace {

struct Inputs {
  explicit Inputs(std::size_t n) : values(n) {
    fill_random(values, 42);
    for (const double x : values) exact += x;  // all positive: sum |x| = sum x
  }
  RawArray<double> values;
  long double exact = 0;
};

// A sum of n values in [0, 1) in any grouping is within (n - 1) u sum |x| of the exact sum.
void check(benchmark::State& state, double got, const Inputs& inputs) {
  const long double bound =
      static_cast<long double>(inputs.values.size()) * 0x1p-53L * inputs.exact + 1e-300L;
  if (std::fabs(static_cast<long double>(got) - inputs.exact) > bound) {
    state.SkipWithError(("sum " + std::to_string(got) + " is off the exact " +
                         std::to_string(static_cast<double>(inputs.exact)) + " by more than the "
                         "error bound").c_str());
  }
}

void finish(benchmark::State& state, std::int64_t n, std::int64_t tasks) {
  state.SetBytesProcessed(state.iterations() * n * static_cast<std::int64_t>(sizeof(double)));
  state.counters["tasks"] = static_cast<double>(tasks);
}

// One contiguous piece per thread, each summed by reduce_serial (the kernel the pools' workers
// run on their pieces; oneTBB's body too), the partial sums added in thread order. The OpenMP
// scans and pack are written the same way, so that OpenMP and the pools differ only in how pieces are handed out,
// which is what the grain (n_1/2) measures. `omp parallel for simd reduction(+)`, the peer
// before, keeps one vector accumulator whose add latency bounds it below this kernel's rate in
// cache, which gave OpenMP a lower best rate and so a smaller n_1/2 for a slower loop.
double openmp_sum(const double* x, std::size_t n, int threads) {
  std::vector<double> partial(static_cast<std::size_t>(threads), 0.0);
#pragma omp parallel num_threads(threads)
  {
    const std::size_t t = static_cast<std::size_t>(omp_get_thread_num());
    const std::size_t count = static_cast<std::size_t>(omp_get_num_threads());
    const std::size_t begin = n * t / count, end = n * (t + 1) / count;
    partial[t] = reduce_serial<std::plus<>>(std::span<const double>(x + begin, end - begin), 0.0);
  }
  return reduce_serial<std::plus<>>(std::span<const double>(partial), 0.0);
}

void BM_Serial(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const Inputs& inputs = inputs_of<Inputs>(n);
  const std::span<const double> values(inputs.values.data(), inputs.values.size());
  double sum = 0;
  for (auto _ : state) {
    sum = reduce_serial<std::plus<>>(values, 0.0);
    benchmark::DoNotOptimize(sum);
  }
  check(state, sum, inputs);
  finish(state, n, 0);
}

template <class P>
void BM_Tree(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const Inputs& inputs = inputs_of<Inputs>(n);
  P& pool = pool_of<P>(state.range(1));
  double sum = reduce_tree<std::plus<>>(pool, inputs.values.span(), 0.0);  // warm-up
  for (auto _ : state) {
    sum = reduce_tree<std::plus<>>(pool, inputs.values.span(), 0.0);
    benchmark::DoNotOptimize(sum);
  }
  check(state, sum, inputs);
  finish(state, n, std::max<std::int64_t>(n - 1, 0));
}

template <class P>
void BM_Partitioned(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const std::int64_t p = state.range(1);
  const Inputs& inputs = inputs_of<Inputs>(n);
  P& pool = pool_of<P>(p);
  double sum = reduce_partitioned<std::plus<>>(pool, inputs.values.span(), 0.0);  // warm-up
  for (auto _ : state) {
    sum = reduce_partitioned<std::plus<>>(pool, inputs.values.span(), 0.0);
    benchmark::DoNotOptimize(sum);
  }
  check(state, sum, inputs);
  finish(state, n, std::min(n, p));
}

void BM_Tbb(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const Inputs& inputs = inputs_of<Inputs>(n);
  TbbThreads tbb_threads(state.range(1));
  const double* x = inputs.values.data();
  const auto sum_all = [x, n] {
    return tbb::parallel_reduce(
        tbb::blocked_range<std::size_t>(0, static_cast<std::size_t>(n)), 0.0,
        [x](const tbb::blocked_range<std::size_t>& r, double acc) {
          return acc + reduce_serial<std::plus<>>(std::span<const double>(x + r.begin(), r.size()),
                                                  0.0);
        },
        std::plus<>());
  };
  double sum = tbb_threads.run(sum_all);
  for (auto _ : state) {
    sum = tbb_threads.run(sum_all);
    benchmark::DoNotOptimize(sum);
  }
  check(state, sum, inputs);
  finish(state, n, 0);
}

void BM_OpenMp(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const Inputs& inputs = inputs_of<Inputs>(n);
  const int threads = static_cast<int>(state.range(1));
  double sum = openmp_sum(inputs.values.data(), static_cast<std::size_t>(n), threads);
  for (auto _ : state) {
    sum = openmp_sum(inputs.values.data(), static_cast<std::size_t>(n), threads);
    benchmark::DoNotOptimize(sum);
  }
  check(state, sum, inputs);
  finish(state, n, 0);
}

template <const auto& kPolicy>
void BM_StdPar(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const Inputs& inputs = inputs_of<Inputs>(n);
  TbbThreads tbb_threads(state.range(1));
  const double* x = inputs.values.data();
  const auto sum_all = [x, n] { return std::reduce(kPolicy, x, x + n, 0.0); };
  double sum = tbb_threads.run(sum_all);
  for (auto _ : state) {
    sum = tbb_threads.run(sum_all);
    benchmark::DoNotOptimize(sum);
  }
  check(state, sum, inputs);
  finish(state, n, 0);
}

std::vector<std::int64_t> sizes() {
  return is_quick() ? powers_of_two(10, 22, 12) : powers_of_two(10, 25, 3);
}

// The tree costs a pool task per element (a few microseconds each here): up to 2^16 elements,
// where CPython's pool takes seconds, a call takes a fraction of a second.
bool tree_size(std::int64_t n) { return n <= (is_quick() ? 1 << 10 : 1 << 16); }

void register_benchmarks() {
  // The size is the outer loop so that each input is built once (inputs_of).
  for (const SizePlan& size : with_grain_sizes(sizes())) {
    const std::int64_t n = size.n;
    const Sweep serial = {{"n", {n}}};
    const Sweep parallel = {{"n", {n}}, {"p", size.workers}};
    register_sweep("serial/serial", BM_Serial, serial);
    if (tree_size(n) && !size.grain_only) {
      register_sweep("tree/process", BM_Tree<ProcessPool>, parallel);
      register_sweep("tree/thread", BM_Tree<ThreadPool>, parallel);
    }
    register_sweep("partitioned/process", BM_Partitioned<ProcessPool>, parallel);
    register_sweep("partitioned/thread", BM_Partitioned<ThreadPool>, parallel);
    register_sweep("reduce/tbb", BM_Tbb, parallel);
    register_sweep("reduce/openmp", BM_OpenMp, parallel);
    register_sweep("reduce/stdpar", BM_StdPar<std::execution::par>, parallel);
    register_sweep("reduce_unseq/stdpar", BM_StdPar<std::execution::par_unseq>, parallel);
  }
  // The bandwidth the primitive is judged against at its largest n, measured beside it.
  register_bandwidth_limit(Traffic::kRead, with_grain_sizes(sizes()).back().n, worker_counts());
}

}  // namespace
}  // namespace procpar::experiments

int main(int argc, char** argv) {
  procpar::experiments::keep_freed_memory();
  return procpar::experiments::run_experiment(argc, argv, "reduce_tree_vs_partitioned",
                                               procpar::experiments::register_benchmarks);
}
