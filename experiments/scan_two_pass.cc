// The seed's claim (process-based-parallelism.md, "Scans"):
//
//   "As expected the scalability of this scan is approximately a factor of two worse than the
//    partitioned reducer. This is expected because there is a second pass over the data in
//    order to propagate the updates. This second pass means that the algorithm has a factor of
//    2 more work than the serial algorithm which means that scalability is decreased by that
//    same factor of 2."
//
// An inclusive prefix sum of n doubles (std::plus<>) from one RawArray into another, by:
//   serial/serial                       InclusiveScan in the caller
//   serial_reduce/serial                reduce_serial in the caller (the reduction's reference)
//   two_pass/{process,thread}           scan_two_pass: the seed's algorithm (4n memory traffic)
//   reduce_then_scan/{process,thread}   scan_reduce_then_scan (3n memory traffic)
//   single_pass/{process,thread}        scan_single_pass: reduce-then-scan per cached block (2n)
//   partitioned/{process,thread}        reduce_partitioned of the same input: the seed's yardstick
//   scan/tbb                            oneTBB parallel_scan
//   scan/stdpar                         std::inclusive_scan(std::execution::par)
//   two_pass/openmp                     the two-pass scan hand-written in OpenMP
//   reduce_then_scan/openmp             reduce-then-scan hand-written in OpenMP
//   copy/openmp                         copy bandwidth at the largest n (bandwidth_limits.h)
// The oneTBB bodies and the OpenMP scans run the same serial kernels as the pools (fold and
// InclusiveScan), so that they differ from the pools only in who schedules the pieces.
// Arguments n, p; counter bytes_per_second counts the input read and the output written once
// (16 bytes per element) for the scans, the input once (8 bytes) for the reduction.
// Every scan's output is checked element by element against a serial scan, within the bound.
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_scan.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <execution>
#include <functional>
#include <limits>
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
#include "primitives/scan.h"
#include "primitives/shared_array.h"
#include "primitives/thread_pool.h"

namespace procpar::experiments {
namespace {

using Scan = InclusiveScan<std::plus<>>;

struct Inputs {
  explicit Inputs(std::size_t n) : values(n), out(n), reference(n) {
    fill_random(values, 7);
    Scan{}(values.data(), n, reference.data(), 0.0);
    for (double& y : out) y = 1.0;  // touched before timing
  }
  RawArray<double> values;
  RawArray<double> out;
  std::vector<double> reference;
};

// Before a variant runs, its output is poisoned, so a variant that writes nothing fails.
void poison(Inputs& inputs) {
  for (double& y : inputs.out) y = std::numeric_limits<double>::quiet_NaN();
}

// out[i] and the reference both sum i + 1 values in [0, 1) in some grouping: each is within
// i u ref[i] (plus a hair) of the exact prefix, so they differ by at most twice that.
void check_scan(benchmark::State& state, const Inputs& inputs) {
  const std::size_t n = inputs.values.size();
  for (std::size_t i = 0; i < n; ++i) {
    const double bound = 2.01 * static_cast<double>(i + 1) * 0x1p-53 * inputs.reference[i];
    if (!(std::fabs(inputs.out[i] - inputs.reference[i]) <= bound)) {
      state.SkipWithError(("out[" + std::to_string(i) + "] = " + std::to_string(inputs.out[i]) +
                           " but the serial scan gives " + std::to_string(inputs.reference[i]))
                              .c_str());
      return;
    }
  }
}

void finish_scan(benchmark::State& state, const Inputs& inputs) {
  check_scan(state, inputs);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(inputs.values.size()) *
                          2 * static_cast<std::int64_t>(sizeof(double)));
}

// The hand-written OpenMP scans: one contiguous piece per thread, the loops plain functions over
// local pointers so that gcc vectorises them (see shared/notes/machine-performance.md).
void add_offset(double* y, std::size_t n, double offset) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) y[i] += offset;
}

void openmp_two_pass(const double* x, double* y, std::size_t n, int threads) {
  std::vector<double> totals(static_cast<std::size_t>(threads));
#pragma omp parallel num_threads(threads)
  {
    const std::size_t t = static_cast<std::size_t>(omp_get_thread_num());
    const std::size_t count = static_cast<std::size_t>(omp_get_num_threads());
    const std::size_t begin = n * t / count, end = n * (t + 1) / count;
    totals[t] = Scan{}(x + begin, end - begin, y + begin, 0.0);
#pragma omp barrier
    double offset = 0;
    for (std::size_t j = 0; j < t; ++j) offset += totals[j];
    if (t > 0) add_offset(y + begin, end - begin, offset);
  }
}

void openmp_reduce_then_scan(const double* x, double* y, std::size_t n, int threads) {
  std::vector<double> totals(static_cast<std::size_t>(threads));
#pragma omp parallel num_threads(threads)
  {
    const std::size_t t = static_cast<std::size_t>(omp_get_thread_num());
    const std::size_t count = static_cast<std::size_t>(omp_get_num_threads());
    const std::size_t begin = n * t / count, end = n * (t + 1) / count;
    totals[t] = end > begin ? fold<std::plus<>>(x + begin, end - begin) : 0.0;
#pragma omp barrier
    double offset = 0;
    for (std::size_t j = 0; j < t; ++j) offset += totals[j];
    Scan{}(x + begin, end - begin, y + begin, offset);
  }
}

void BM_Serial(benchmark::State& state) {
  Inputs& inputs = inputs_of<Inputs>(state.range(0));
  poison(inputs);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        Scan{}(inputs.values.data(), inputs.values.size(), inputs.out.data(), 0.0));
    benchmark::ClobberMemory();
  }
  finish_scan(state, inputs);
}

template <class P, double (*kScan)(P&, RawSpan<double>, RawSpan<double>, double)>
void BM_PoolScan(benchmark::State& state) {
  Inputs& inputs = inputs_of<Inputs>(state.range(0));
  P& pool = pool_of<P>(state.range(1));
  poison(inputs);
  kScan(pool, inputs.values.span(), inputs.out.span(), 0.0);  // warm-up
  for (auto _ : state) {
    benchmark::DoNotOptimize(kScan(pool, inputs.values.span(), inputs.out.span(), 0.0));
    benchmark::ClobberMemory();
  }
  finish_scan(state, inputs);
}

// The reductions' checks and counters: the sum against the serial scan's total.
void finish_reduce(benchmark::State& state, const Inputs& inputs, double sum) {
  const double expected = inputs.reference.back();
  const double bound = 2.01 * static_cast<double>(inputs.values.size()) * 0x1p-53 * expected;
  if (!(std::fabs(sum - expected) <= bound)) {
    state.SkipWithError("the sum is off the serial scan's total");
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(inputs.values.size()) *
                          static_cast<std::int64_t>(sizeof(double)));
}

void BM_SerialReduce(benchmark::State& state) {
  Inputs& inputs = inputs_of<Inputs>(state.range(0));
  const std::span<const double> values(inputs.values.data(), inputs.values.size());
  double sum = 0;
  for (auto _ : state) {
    sum = reduce_serial<std::plus<>>(values, 0.0);
    benchmark::DoNotOptimize(sum);
  }
  finish_reduce(state, inputs, sum);
}

template <class P>
void BM_Partitioned(benchmark::State& state) {
  Inputs& inputs = inputs_of<Inputs>(state.range(0));
  P& pool = pool_of<P>(state.range(1));
  double sum = reduce_partitioned<std::plus<>>(pool, inputs.values.span(), 0.0);
  for (auto _ : state) {
    sum = reduce_partitioned<std::plus<>>(pool, inputs.values.span(), 0.0);
    benchmark::DoNotOptimize(sum);
  }
  finish_reduce(state, inputs, sum);
}

void BM_Tbb(benchmark::State& state) {
  Inputs& inputs = inputs_of<Inputs>(state.range(0));
  TbbThreads tbb_threads(state.range(1));
  poison(inputs);
  const double* x = inputs.values.data();
  double* y = inputs.out.data();
  const std::size_t n = inputs.values.size();
  const auto scan_all = [x, y, n] {
    return tbb::parallel_scan(
        tbb::blocked_range<std::size_t>(0, n), 0.0,
        [x, y](const tbb::blocked_range<std::size_t>& r, double sum, bool is_final_scan) {
          if (!is_final_scan) return sum + fold<std::plus<>>(x + r.begin(), r.size());
          return Scan{}(x + r.begin(), r.size(), y + r.begin(), sum);
        },
        std::plus<>());
  };
  tbb_threads.run(scan_all);
  for (auto _ : state) {
    benchmark::DoNotOptimize(tbb_threads.run(scan_all));
    benchmark::ClobberMemory();
  }
  finish_scan(state, inputs);
}

void BM_StdPar(benchmark::State& state) {
  Inputs& inputs = inputs_of<Inputs>(state.range(0));
  TbbThreads tbb_threads(state.range(1));
  poison(inputs);
  const double* x = inputs.values.data();
  double* y = inputs.out.data();
  const std::size_t n = inputs.values.size();
  const auto scan_all = [x, y, n] { return std::inclusive_scan(std::execution::par, x, x + n, y); };
  tbb_threads.run(scan_all);
  for (auto _ : state) {
    benchmark::DoNotOptimize(tbb_threads.run(scan_all));
    benchmark::ClobberMemory();
  }
  finish_scan(state, inputs);
}

template <void (*kScan)(const double*, double*, std::size_t, int)>
void BM_OpenMp(benchmark::State& state) {
  Inputs& inputs = inputs_of<Inputs>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  poison(inputs);
  kScan(inputs.values.data(), inputs.out.data(), inputs.values.size(), threads);
  for (auto _ : state) {
    kScan(inputs.values.data(), inputs.out.data(), inputs.values.size(), threads);
    benchmark::ClobberMemory();
  }
  finish_scan(state, inputs);
}

template <class P>
double two_pass(P& pool, RawSpan<double> in, RawSpan<double> out, double identity) {
  return scan_two_pass<Scan>(pool, in, out, identity);
}
template <class P>
double reduce_then_scan(P& pool, RawSpan<double> in, RawSpan<double> out, double identity) {
  return scan_reduce_then_scan<Scan>(pool, in, out, identity);
}
template <class P>
double single_pass(P& pool, RawSpan<double> in, RawSpan<double> out, double identity) {
  return scan_single_pass<Scan>(pool, in, out, identity);
}

std::vector<std::int64_t> sizes() {
  return is_quick() ? powers_of_two(12, 22, 10) : powers_of_two(10, 25, 3);
}

void register_benchmarks() {
  // The size is the outer loop so that each input is built once (inputs_of).
  for (const SizePlan& size : with_grain_sizes(sizes())) {
    const std::int64_t n = size.n;
    const Sweep serial = {{"n", {n}}};
    const Sweep parallel = {{"n", {n}}, {"p", size.workers}};
    register_sweep("serial/serial", BM_Serial, serial);
    register_sweep("serial_reduce/serial", BM_SerialReduce, serial);
    register_sweep("two_pass/process", BM_PoolScan<ProcessPool, two_pass<ProcessPool>>, parallel);
    register_sweep("two_pass/thread", BM_PoolScan<ThreadPool, two_pass<ThreadPool>>, parallel);
    register_sweep("reduce_then_scan/process",
                   BM_PoolScan<ProcessPool, reduce_then_scan<ProcessPool>>, parallel);
    register_sweep("reduce_then_scan/thread",
                   BM_PoolScan<ThreadPool, reduce_then_scan<ThreadPool>>, parallel);
    register_sweep("single_pass/process", BM_PoolScan<ProcessPool, single_pass<ProcessPool>>,
                   parallel);
    register_sweep("single_pass/thread", BM_PoolScan<ThreadPool, single_pass<ThreadPool>>,
                   parallel);
    register_sweep("partitioned/process", BM_Partitioned<ProcessPool>, parallel);
    register_sweep("partitioned/thread", BM_Partitioned<ThreadPool>, parallel);
    register_sweep("scan/tbb", BM_Tbb, parallel);
    register_sweep("scan/stdpar", BM_StdPar, parallel);
    register_sweep("two_pass/openmp", BM_OpenMp<openmp_two_pass>, parallel);
    register_sweep("reduce_then_scan/openmp", BM_OpenMp<openmp_reduce_then_scan>, parallel);
  }
  // The bandwidth the primitive is judged against at its largest n, measured beside it.
  register_bandwidth_limit(Traffic::kCopy, with_grain_sizes(sizes()).back().n, worker_counts());
}

}  // namespace
}  // namespace procpar::experiments

int main(int argc, char** argv) {
  procpar::experiments::keep_freed_memory();
  return procpar::experiments::run_experiment(argc, argv, "scan_two_pass",
                                               procpar::experiments::register_benchmarks);
}
