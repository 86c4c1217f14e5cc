// The seed's inner product (process-based-parallelism.md, "Inner Product"):
//
//   "This problem is interesting because we increase the flop to mop ratio. This should be
//    helpful for achieving scalability."
//
// Dot and partitioned reduce side by side on the same n doubles: the dot reads two arrays and
// does two flops (a multiply and an add) per element pair, the reduce reads one array and does
// one flop per element, so both do one flop per 8 bytes read and both are memory bound on large
// n. Does the dot scale better? Peers in the same run: OpenBLAS cblas_ddot with one thread and
// with p threads, and OpenMP for both operations (`omp parallel`, one piece per thread computed
// by the serial kernel the pools run, as reduce_tree_vs_partitioned's OpenMP peer).
//
// Benchmarks: {dot,reduce}/serial/n, {dot,reduce}/{process,thread,openmp}/n/p,
// dot/openblas_serial/n, dot/openblas/n/p; read/openmp/n/p, read bandwidth at the largest n
// (bandwidth_limits.h).
// Counters: bytes_per_second (bytes read), items_per_second (elements of one input), flops.
#include <cblas.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "experiments/bandwidth_limits.h"
#include "experiments/bulk_support.h"
#include "experiments/experiment_main.h"
#include "experiments/profile.h"
#include "primitives/dot.h"
#include "primitives/process_pool.h"
#include "primitives/reduce.h"
#include "primitives/shared_array.h"
#include "primitives/thread_pool.h"

namespace procpar::experiments {
namespace {

// The inputs of the size being measured: two arrays in shared memory, written (so every page is
// touched before timing) and their exact dot and sum for checking each backend's answer.
struct Inputs {
  explicit Inputs(std::size_t n) : x(n), y(n) {
    std::mt19937_64 rng(n);
    std::uniform_real_distribution<double> value(-1, 1);
    long double dot = 0, sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = value(rng);
      y[i] = value(rng);
      dot += static_cast<long double>(x[i]) * y[i];
      sum += x[i];
      dot_magnitude += std::fabs(x[i] * y[i]);
      sum_magnitude += std::fabs(x[i]);
    }
    exact_dot = static_cast<double>(dot);
    exact_sum = static_cast<double>(sum);
  }
  RawArray<double> x, y;
  double exact_dot = 0, exact_sum = 0, dot_magnitude = 0, sum_magnitude = 0;
};

// Refuses a wrong answer: beyond gamma(n + 1) * magnitude (with slack for the reference).
bool check(benchmark::State& state, double got, double exact, double magnitude, std::size_t n) {
  const double u = 0x1p-53, m = static_cast<double>(n + 1);
  if (std::fabs(got - exact) <= 2 * m * u * magnitude + 1e-300) return true;
  state.SkipWithError(("result " + std::to_string(got) + " is not " + std::to_string(exact)).c_str());
  return false;
}

enum class Op { kDot, kReduce };

void set_counters(benchmark::State& state, Op op, std::size_t n) {
  const auto elements = static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n);
  state.SetItemsProcessed(elements);
  state.SetBytesProcessed(elements * (op == Op::kDot ? 16 : 8));
  state.counters["flops"] = benchmark::Counter(static_cast<double>(elements) * (op == Op::kDot ? 2 : 1),
                                               benchmark::Counter::kIsRate);
}

// Runs `compute` (returns the dot or the sum) under the timer and checks its answer each time.
template <class Compute>
void run(benchmark::State& state, Op op, std::size_t n, Compute compute) {
  Inputs& in = inputs_of<Inputs>(static_cast<std::int64_t>(n));
  const double exact = op == Op::kDot ? in.exact_dot : in.exact_sum;
  const double magnitude = op == Op::kDot ? in.dot_magnitude : in.sum_magnitude;
  // Warm-up, untimed: a pool's workers map the arrays the first time a task touches them.
  for (int call = 0; call < 2; ++call) {
    if (!check(state, compute(in), exact, magnitude, n)) return;
  }
  for (auto _ : state) {
    const double result = compute(in);
    benchmark::DoNotOptimize(result);
    if (!check(state, result, exact, magnitude, n)) return;
  }
  set_counters(state, op, n);
}

void serial(benchmark::State& state, Op op) {
  const auto n = static_cast<std::size_t>(state.range(0));
  run(state, op, n, [op](Inputs& in) {
    return op == Op::kDot ? dot_serial(in.x.data(), in.y.data(), in.x.size())
                          : fold<std::plus<>>(in.x.data(), in.x.size());
  });
}

template <class PoolType>
void on_pool(benchmark::State& state, Op op) {
  const auto n = static_cast<std::size_t>(state.range(0));
  PoolType& pool = pool_of<PoolType>(state.range(1));
  run(state, op, n, [&pool, op](Inputs& in) {
    return op == Op::kDot ? dot(pool, in.x.span(), in.y.span())
                          : reduce_partitioned<std::plus<>>(pool, in.x.span(), 0.0);
  });
}

void openmp(benchmark::State& state, Op op) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const int p = static_cast<int>(state.range(1));
  run(state, op, n, [op, p, n](Inputs& in) {
    const double* x = in.x.data();
    const double* y = in.y.data();
    std::vector<double> partial(static_cast<std::size_t>(p), 0.0);
#pragma omp parallel num_threads(p)
    {
      const std::size_t t = static_cast<std::size_t>(omp_get_thread_num());
      const std::size_t count = static_cast<std::size_t>(omp_get_num_threads());
      const std::size_t begin = n * t / count, end = n * (t + 1) / count;
      partial[t] = op == Op::kDot ? dot_serial(x + begin, y + begin, end - begin)
                                  : reduce_serial<std::plus<>>(
                                        std::span<const double>(x + begin, end - begin), 0.0);
    }
    return reduce_serial<std::plus<>>(std::span<const double>(partial), 0.0);
  });
}

void openblas(benchmark::State& state, int threads) {
  const auto n = static_cast<std::size_t>(state.range(0));
  openblas_set_num_threads(threads);
  run(state, Op::kDot, n, [n](Inputs& in) {
    return cblas_ddot(static_cast<blasint>(n), in.x.data(), 1, in.y.data(), 1);
  });
}

std::vector<std::int64_t> sizes() {
  return is_quick() ? powers_of_two(16, 20, 4) : std::vector<std::int64_t>{1 << 16, 1 << 20, 1 << 23, 1 << 25};
}

void register_benchmarks() {
  const std::vector<std::pair<const char*, Op>> ops = {{"dot", Op::kDot}, {"reduce", Op::kReduce}};
  for (const SizePlan& size : with_grain_sizes(sizes())) {
    const std::int64_t n = size.n;
    for (const auto& [name, op] : ops) {
      if (size.grain_only && op == Op::kReduce) continue;  // reduce's grain: its own experiment
      const std::string variant = name;
      benchmark::RegisterBenchmark((variant + "/serial").c_str(), serial, op)
          ->ArgNames({"n"})->Args({n})->UseRealTime();
      for (std::int64_t p : size.workers) {
        benchmark::RegisterBenchmark((variant + "/process").c_str(), on_pool<ProcessPool>, op)
            ->ArgNames({"n", "p"})->Args({n, p})->UseRealTime();
        benchmark::RegisterBenchmark((variant + "/thread").c_str(), on_pool<ThreadPool>, op)
            ->ArgNames({"n", "p"})->Args({n, p})->UseRealTime();
        benchmark::RegisterBenchmark((variant + "/openmp").c_str(), openmp, op)
            ->ArgNames({"n", "p"})->Args({n, p})->UseRealTime();
      }
    }
    benchmark::RegisterBenchmark("dot/openblas_serial", openblas, 1)
        ->ArgNames({"n"})->Args({n})->UseRealTime();
    for (std::int64_t p : size.workers) {
      benchmark::RegisterBenchmark("dot/openblas", [](benchmark::State& state) {
        openblas(state, static_cast<int>(state.range(1)));
      })->ArgNames({"n", "p"})->Args({n, p})->UseRealTime();
    }
  }
  // The bandwidth the primitive is judged against at its largest n, measured beside it.
  register_bandwidth_limit(Traffic::kRead, with_grain_sizes(sizes()).back().n, worker_counts());
}

}  // namespace
}  // namespace procpar::experiments

int main(int argc, char** argv) {
  procpar::experiments::keep_freed_memory();
  return procpar::experiments::run_experiment(argc, argv, "dot_flop_mop",
                                               procpar::experiments::register_benchmarks);
}
