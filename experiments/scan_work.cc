// The seed's claim (process-based-parallelism.md, "Scans"):
//
//   "This second pass means that the algorithm has a factor of 2 more work than the serial
//    algorithm which means that scalability is decreased by that same factor of 2."
//
// Work, counted rather than timed: every call of the scan's operator (a + b on doubles) adds one
// to a counter in shared memory, so the count is the same whoever runs the call (the caller, a
// thread, a forked worker). At p = 1 the two-pass scan has no second pass (one piece), so the
// claim can only be seen at p >= 2, where the count is deterministic: it depends on n and on
// the partition into p pieces, not on timing.
//   serial/serial                          InclusiveScan in the caller (the serial algorithm)
//   two_pass/{serial_pool,process}         scan_two_pass
//   reduce_then_scan/{serial_pool,process} scan_reduce_then_scan
//   single_pass/serial_pool                scan_single_pass
// serial_pool is SerialPool(p): it runs every task in the caller but reports p workers, so the
// algorithms cut the data exactly as for p workers. The process pool's counts must equal it
// (analysis checks this); the single-pass scan is counted on SerialPool only, because on real
// workers a block may be folded twice when its owner is slow, which makes its count depend on
// timing.
// Arguments n, p; counters calls (operator calls of one scan) and calls_per_element. One
// iteration per repetition: the count does not need more. The output is checked against a
// serial scan, as in scan_two_pass.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "experiments/bulk_support.h"
#include "experiments/experiment_main.h"
#include "experiments/profile.h"
#include "primitives/process_pool.h"
#include "primitives/scan.h"
#include "primitives/serial_pool.h"
#include "primitives/shared_array.h"

namespace procpar::experiments {
namespace {

// The counter lives in a RawArray made in main(), before any pool forks its workers, so that
// every worker's copy of this pointer addresses the same shared memory.
std::uint64_t* operator_calls = nullptr;

struct CountingPlus {
  double operator()(double a, double b) const {
    std::atomic_ref<std::uint64_t>(*operator_calls).fetch_add(1, std::memory_order_relaxed);
    return a + b;
  }
};

using Scan = InclusiveScan<CountingPlus>;

std::uint64_t take_calls() {
  return std::atomic_ref<std::uint64_t>(*operator_calls).exchange(0, std::memory_order_relaxed);
}

struct Inputs {
  explicit Inputs(std::size_t n) : values(n), out(n), reference(n) {
    fill_random(values, 7);
    double acc = 0;
    for (std::size_t i = 0; i < n; ++i) reference[i] = acc += values[i];
  }
  RawArray<double> values;
  RawArray<double> out;
  std::vector<double> reference;
};

// out[i] and the reference both sum i + 1 values in [0, 1) in some grouping: they differ by at
// most twice i u ref[i] (plus a hair).
void check_scan(benchmark::State& state, const Inputs& inputs) {
  for (std::size_t i = 0; i < inputs.values.size(); ++i) {
    const double bound = 2.01 * static_cast<double>(i + 1) * 0x1p-53 * inputs.reference[i];
    if (!(std::fabs(inputs.out[i] - inputs.reference[i]) <= bound)) {
      state.SkipWithError(("out[" + std::to_string(i) + "] = " + std::to_string(inputs.out[i]) +
                           " but the serial scan gives " + std::to_string(inputs.reference[i]))
                              .c_str());
      return;
    }
  }
}

void report(benchmark::State& state, const Inputs& inputs, std::uint64_t calls) {
  check_scan(state, inputs);
  state.counters["calls"] = static_cast<double>(calls);
  state.counters["calls_per_element"] =
      static_cast<double>(calls) / static_cast<double>(inputs.values.size());
}

void BM_Serial(benchmark::State& state) {
  Inputs& inputs = inputs_of<Inputs>(state.range(0));
  std::uint64_t calls = 0;
  for (auto _ : state) {
    take_calls();
    Scan{}(inputs.values.data(), inputs.values.size(), inputs.out.data(), 0.0);
    calls = take_calls();
  }
  report(state, inputs, calls);
}

template <class P, double (*kScan)(P&, RawSpan<double>, RawSpan<double>, double)>
void BM_PoolScan(benchmark::State& state) {
  Inputs& inputs = inputs_of<Inputs>(state.range(0));
  P& pool = pool_of<P>(state.range(1));
  std::uint64_t calls = 0;
  for (auto _ : state) {
    take_calls();
    kScan(pool, inputs.values.span(), inputs.out.span(), 0.0);
    calls = take_calls();
  }
  report(state, inputs, calls);
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

void register_benchmarks() {
  // Fixed worker counts (not the machine's): a count does not depend on the cores.
  const std::vector<std::int64_t> workers = {1, 2, 4, 8};
  for (const std::int64_t n : is_quick() ? powers_of_two(16, 16) : powers_of_two(16, 20, 4)) {
    benchmark::RegisterBenchmark("serial/serial", BM_Serial)
        ->UseRealTime()->Iterations(1)->ArgNames({"n"})->Args({n});
    const auto add = [n, &workers](const char* name, auto* function) {
      auto* b = benchmark::RegisterBenchmark(name, function)->UseRealTime()->Iterations(1);
      b->ArgNames({"n", "p"});
      for (const std::int64_t p : workers) b->Args({n, p});
    };
    add("two_pass/serial_pool", BM_PoolScan<SerialPool, two_pass<SerialPool>>);
    add("two_pass/process", BM_PoolScan<ProcessPool, two_pass<ProcessPool>>);
    add("reduce_then_scan/serial_pool",
        BM_PoolScan<SerialPool, reduce_then_scan<SerialPool>>);
    add("reduce_then_scan/process", BM_PoolScan<ProcessPool, reduce_then_scan<ProcessPool>>);
    add("single_pass/serial_pool", BM_PoolScan<SerialPool, single_pass<SerialPool>>);
  }
}

}  // namespace
}  // namespace procpar::experiments

int main(int argc, char** argv) {
  procpar::experiments::keep_freed_memory();
  procpar::RawArray<std::uint64_t> calls(1);
  procpar::experiments::operator_calls = calls.data();
  return procpar::experiments::run_experiment(argc, argv, "scan_work",
                                               procpar::experiments::register_benchmarks);
}
