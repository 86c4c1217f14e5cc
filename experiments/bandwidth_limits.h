// Read and copy bandwidth, the limits a bulk primitive's speed at large n is judged against
// (issue 15), as benchmarks an experiment registers beside its own:
//
//   read/openmp   a vectorised OpenMP sum of n doubles (arguments n, p; bytes_per_second counts
//                 the 8 n bytes read)
//   copy/openmp   an OpenMP copy of n doubles into a second array, ordinary stores as in STREAM's
//                 Copy (arguments n, p; bytes_per_second counts 16 n bytes, read plus written)
//
// machine_limits measures both in the run's first minute; a bulk experiment measures the one its
// primitive's traffic is judged against at its largest n, its repetitions interleaved with the
// primitive's, so that the primitive and its limit see the same machine: this host's memory
// bandwidth has been seen to move by a factor of two within an hour.
//
// The arrays are RawArrays (the shared memory the pools' primitives use), written before timing
// so that first touch (10-20 us per page on these machines) is not what is measured.
#ifndef PROCPAR_EXPERIMENTS_BANDWIDTH_LIMITS_H_
#define PROCPAR_EXPERIMENTS_BANDWIDTH_LIMITS_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "experiments/bulk_support.h"
#include "experiments/sweep.h"
#include "primitives/shared_array.h"

namespace procpar::experiments {
namespace bandwidth_detail {

struct Arrays {
  explicit Arrays(std::size_t n) : source(n), target(n) {
    fill_random(source, 7);
    fill_random(target, 8);  // written once so that the copy's stores find their pages mapped
    for (const double x : source) exact_sum += x;
  }
  RawArray<double> source, target;
  long double exact_sum = 0;
};

// Plain functions over local pointers: gcc turns `omp simd` over pointers captured by reference
// in a lambda into gathers (../shared/notes/machine-performance.md).
inline double openmp_sum(const double* x, std::size_t n, int threads) {
  double sum = 0;
#pragma omp parallel for simd reduction(+ : sum) num_threads(threads) schedule(static)
  for (std::size_t i = 0; i < n; ++i) sum += x[i];
  return sum;
}

inline void openmp_copy(const double* from, double* to, std::size_t n, int threads) {
#pragma omp parallel for simd num_threads(threads) schedule(static)
  for (std::size_t i = 0; i < n; ++i) to[i] = from[i];
}

inline void BM_Read(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const int p = static_cast<int>(state.range(1));
  const Arrays& arrays = inputs_of<Arrays>(n);
  const double* x = arrays.source.data();
  double sum = openmp_sum(x, static_cast<std::size_t>(n), p);
  for (auto _ : state) {
    sum = openmp_sum(x, static_cast<std::size_t>(n), p);
    benchmark::DoNotOptimize(sum);
  }
  // Values in [0, 1): any grouping is within (n - 1) u of the exact sum, relative.
  const long double bound = static_cast<long double>(n) * 0x1p-53L * arrays.exact_sum + 1e-300L;
  if (std::fabs(static_cast<long double>(sum) - arrays.exact_sum) > bound) {
    state.SkipWithError(("sum " + std::to_string(sum) + " is not the exact " +
                         std::to_string(static_cast<double>(arrays.exact_sum))).c_str());
    return;
  }
  state.SetBytesProcessed(state.iterations() * n * static_cast<std::int64_t>(sizeof(double)));
}

inline void BM_Copy(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const int p = static_cast<int>(state.range(1));
  Arrays& arrays = inputs_of<Arrays>(n);
  const double* from = arrays.source.data();
  double* to = arrays.target.data();
  openmp_copy(from, to, static_cast<std::size_t>(n), p);
  for (auto _ : state) {
    openmp_copy(from, to, static_cast<std::size_t>(n), p);
    benchmark::ClobberMemory();
  }
  if (std::memcmp(from, to, static_cast<std::size_t>(n) * sizeof(double)) != 0) {
    state.SkipWithError("the copy differs from its source");
    return;
  }
  state.SetBytesProcessed(state.iterations() * n * static_cast<std::int64_t>(2 * sizeof(double)));
}

}  // namespace bandwidth_detail

// Which limit a primitive's traffic is judged against: reading alone (reduce, dot), or reading
// one array and writing another (scan, pack).
enum class Traffic { kRead, kCopy };

// Registers read/openmp or copy/openmp at size n for each worker count.
inline void register_bandwidth_limit(Traffic traffic, std::int64_t n,
                                     const std::vector<std::int64_t>& workers) {
  const Sweep sweep = {{"n", {n}}, {"p", workers}};
  if (traffic == Traffic::kRead) {
    register_sweep("read/openmp", bandwidth_detail::BM_Read, sweep);
  } else {
    register_sweep("copy/openmp", bandwidth_detail::BM_Copy, sweep);
  }
}

}  // namespace procpar::experiments

#endif  // PROCPAR_EXPERIMENTS_BANDWIDTH_LIMITS_H_
