// The seed's claim (process-based-parallelism.md, "Pack"):
//
//   "The pack operation uses the primitive scan in order to identify the final indices of the
//    data in the packed output. Since we are using a partitioned approach we do not need the
//    indices to be propagated this saves the second pass over the data that we make in the
//    general scan."
//
// Keep the doubles whose byte flag is set (keep_pct percent of them, at random), in order, from
// one RawArray into another, by:
//   serial/serial                pack's branchless serial kernel over the whole input, in the caller
//   copy_if/serial               std::copy_if (a branch per element)
//   scan_pack/{process,thread}   pack: one round over blocks (single_pass.h), each block's
//                                flags counted, its offset the scan of the counts before it
//                                (looked back), its kept elements written branchless while
//                                its flags are in cache
//   copy_if/stdpar               std::copy_if(std::execution::par)
//   scan_pack/openmp             the seed's partitioned algorithm hand-written in OpenMP: count
//                                per thread, a barrier, each thread's offset from the counts
//                                before it, one branchless write pass
//   copy/openmp                  copy bandwidth at the largest n (bandwidth_limits.h; no keep_pct)
// Arguments n, p, keep_pct; counter bytes_per_second counts the input and flags read once and
// the kept elements written (9 n + 8 kept bytes).
// Every output is checked: the number kept and an order-sensitive hash of the kept values.
#include <omp.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <execution>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "experiments/bandwidth_limits.h"
#include "experiments/bulk_support.h"
#include "experiments/experiment_main.h"
#include "experiments/profile.h"
#include "experiments/sweep.h"
#include "primitives/pack.h"
#include "primitives/process_pool.h"
#include "primitives/shared_array.h"
#include "primitives/thread_pool.h"

namespace procpar::experiments {
namespace {

std::vector<std::int64_t> keep_percentages() {
  return is_quick() ? std::vector<std::int64_t>{50} : std::vector<std::int64_t>{1, 10, 50, 90};
}

// An order-sensitive hash of a sequence of doubles: any lost, extra or reordered value shows.
std::uint64_t hash_of(const double* values, std::size_t n) {
  std::uint64_t hash = 14695981039346656037ull;
  for (std::size_t i = 0; i < n; ++i) hash = (hash ^ std::bit_cast<std::uint64_t>(values[i])) * 1099511628211ull;
  return hash;
}

struct Expected {
  std::size_t kept = 0;
  std::uint64_t hash = 0;
};

struct Inputs {
  explicit Inputs(std::size_t n) : values(n), out(n) {
    fill_random(values, 11);
    for (double& y : out) y = 0;  // touched before timing
    std::mt19937_64 rng(12);
    std::uniform_int_distribution<int> percent(0, 99);
    for (const std::int64_t keep : keep_percentages()) {
      RawArray<std::uint8_t>& f = flags.emplace_back(n);
      std::vector<double> kept;
      for (std::size_t i = 0; i < n; ++i) {
        f[i] = percent(rng) < keep ? 1 : 0;
        if (f[i] != 0) kept.push_back(values[i]);
      }
      expected.push_back({kept.size(), hash_of(kept.data(), kept.size())});
    }
  }
  std::size_t index_of(std::int64_t keep_pct) const {
    const std::vector<std::int64_t> all = keep_percentages();
    return static_cast<std::size_t>(std::find(all.begin(), all.end(), keep_pct) - all.begin());
  }
  RawArray<double> values;
  RawArray<double> out;
  std::vector<RawArray<std::uint8_t>> flags;  // one per keep percentage
  std::vector<Expected> expected;
};

// Runs `pack_all` (returns the number kept) once untimed, then timed; checks the last output.
// The arguments are n, keep_pct for serial variants and n, p, keep_pct for parallel ones.
template <class PackAll>
void run(benchmark::State& state, bool with_p, PackAll pack_all) {
  Inputs& inputs = inputs_of<Inputs>(state.range(0));
  const std::size_t which = inputs.index_of(state.range(with_p ? 2 : 1));
  const Expected& expected = inputs.expected[which];
  const RawArray<std::uint8_t>& flags = inputs.flags[which];
  for (double& y : inputs.out) y = -1;  // a variant that writes nothing fails the check
  std::size_t kept = pack_all(inputs, flags);
  for (auto _ : state) {
    kept = pack_all(inputs, flags);
    benchmark::DoNotOptimize(kept);
    benchmark::ClobberMemory();
  }
  if (kept != expected.kept || hash_of(inputs.out.data(), kept) != expected.hash) {
    state.SkipWithError(("kept " + std::to_string(kept) + " elements, expected " +
                         std::to_string(expected.kept) + ", or not the right ones in order")
                            .c_str());
  }
  const auto n = static_cast<std::int64_t>(inputs.values.size());
  state.SetBytesProcessed(state.iterations() * (9 * n + 8 * static_cast<std::int64_t>(kept)));
}

// The serial reference and the OpenMP peer run pack's own serial kernels (pack_detail:
// branchless, with AVX2 where the CPU has it), so that they differ from the pools only in who
// schedules the work, as the scans' and reduce's peers do.
using pack_detail::count_flags;
using pack_detail::write_kept;

// One branchless pass over the whole input: its room is the whole output.
std::size_t branchless(const double* x, const std::uint8_t* flags, std::size_t n, double* y) {
  return write_kept(x, flags, n, y, n);
}

std::size_t openmp_pack(const double* x, const std::uint8_t* flags, std::size_t n, double* y,
                        int threads) {
  std::vector<std::size_t> counts(static_cast<std::size_t>(threads));
  std::size_t kept = 0;
#pragma omp parallel num_threads(threads)
  {
    const std::size_t t = static_cast<std::size_t>(omp_get_thread_num());
    const std::size_t count = static_cast<std::size_t>(omp_get_num_threads());
    const std::size_t begin = n * t / count, end = n * (t + 1) / count;
    counts[t] = count_flags(flags + begin, end - begin);
#pragma omp barrier
    std::size_t offset = 0;
    for (std::size_t j = 0; j < t; ++j) offset += counts[j];
    if (t + 1 == count) kept = offset + counts[t];
    write_kept(x + begin, flags + begin, end - begin, y + offset, counts[t]);
  }
  return kept;
}

void BM_CopyIfSerial(benchmark::State& state) {
  run(state, false, [](Inputs& in, const RawArray<std::uint8_t>& flags) {
    const double* x = in.values.data();
    const std::uint8_t* f = flags.data();
    // std::copy_if hands the predicate a reference to the element itself, so its index is
    // its distance from x (the check above would catch a copy).
    double* end = std::copy_if(x, x + in.values.size(), in.out.data(),
                               [x, f](const double& v) { return f[&v - x] != 0; });
    return static_cast<std::size_t>(end - in.out.data());
  });
}

void BM_BranchlessSerial(benchmark::State& state) {
  run(state, false, [](Inputs& in, const RawArray<std::uint8_t>& flags) {
    return branchless(in.values.data(), flags.data(), in.values.size(), in.out.data());
  });
}

template <class P>
void BM_Pack(benchmark::State& state) {
  P& pool = pool_of<P>(state.range(1));
  run(state, true, [&pool](Inputs& in, const RawArray<std::uint8_t>& flags) {
    return pack(pool, in.values.span(), flags.span(), in.out.span());
  });
}

void BM_CopyIfStdPar(benchmark::State& state) {
  TbbThreads tbb_threads(state.range(1));
  run(state, true, [&tbb_threads](Inputs& in, const RawArray<std::uint8_t>& flags) {
    const double* x = in.values.data();
    const std::uint8_t* f = flags.data();
    double* y = in.out.data();
    const std::size_t n = in.values.size();
    return tbb_threads.run([x, f, y, n] {
      double* end = std::copy_if(std::execution::par, x, x + n, y,
                                 [x, f](const double& v) { return f[&v - x] != 0; });
      return static_cast<std::size_t>(end - y);
    });
  });
}

void BM_OpenMp(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(1));
  run(state, true, [threads](Inputs& in, const RawArray<std::uint8_t>& flags) {
    return openmp_pack(in.values.data(), flags.data(), in.values.size(), in.out.data(), threads);
  });
}

std::vector<std::int64_t> sizes() {
  return is_quick() ? powers_of_two(12, 22, 10) : powers_of_two(13, 25, 4);
}

void register_benchmarks() {
  // The size is the outer loop so that each input is built once (inputs_of).
  for (const SizePlan& size : with_grain_sizes(sizes())) {
    const std::int64_t n = size.n;
    // The grain is read at the goals' half of the elements kept.
    const std::vector<std::int64_t> keeps =
        size.grain_only ? std::vector<std::int64_t>{50} : keep_percentages();
    const Sweep serial = {{"n", {n}}, {"keep_pct", keeps}};
    const Sweep parallel = {{"n", {n}}, {"p", size.workers}, {"keep_pct", keeps}};
    register_sweep("serial/serial", BM_BranchlessSerial, serial);
    if (!size.grain_only) register_sweep("copy_if/serial", BM_CopyIfSerial, serial);
    register_sweep("scan_pack/process", BM_Pack<ProcessPool>, parallel);
    register_sweep("scan_pack/thread", BM_Pack<ThreadPool>, parallel);
    register_sweep("copy_if/stdpar", BM_CopyIfStdPar, parallel);
    register_sweep("scan_pack/openmp", BM_OpenMp, parallel);
  }
  // The bandwidth the primitive is judged against at its largest n, measured beside it.
  register_bandwidth_limit(Traffic::kCopy, with_grain_sizes(sizes()).back().n, worker_counts());
}

}  // namespace
}  // namespace procpar::experiments

int main(int argc, char** argv) {
  procpar::experiments::keep_freed_memory();
  return procpar::experiments::run_experiment(argc, argv, "pack",
                                               procpar::experiments::register_benchmarks);
}
