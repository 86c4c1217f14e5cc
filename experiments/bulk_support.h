// What the bulk-data experiments share: pools and inputs kept alive across benchmarks, and the
// peers' thread counts.
//
// Pools and inputs are made once and reused because on these machines both are expensive to
// make (a fork per worker; a first touch of 10-20 us per page of fresh memory, and a worker's
// first access to an array maps all of it): their cost is not what the experiments measure.
#ifndef PROCPAR_EXPERIMENTS_BULK_SUPPORT_H_
#define PROCPAR_EXPERIMENTS_BULK_SUPPORT_H_

#include <malloc.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <tuple>
#include <utility>

#include "primitives/shared_array.h"

namespace procpar::experiments {

// glibc gives freed blocks of 128 KiB and more back to the kernel (the threshold adapts up to
// 32 MiB), so the next allocation of that size touches fresh pages again: 10-20 us per page on
// these machines, which would dominate per-call temporaries of a few MiB (the task list of a
// map with 50,000 chunks, a result vector). Keeping freed memory in the heap measures the
// algorithms rather than the hypervisor's page faults. Call it first thing in main().
inline void keep_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // the largest glibc accepts
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

// One pool of each kind and size for the whole run.
template <class P>
P& pool_of(std::int64_t workers) {
  static std::map<std::int64_t, std::unique_ptr<P>> pools;
  std::unique_ptr<P>& pool = pools[workers];
  if (!pool) pool = std::make_unique<P>(static_cast<std::size_t>(workers));
  return *pool;
}

// The inputs of one problem (a size, a shape: `Inputs` is constructible from `key...`), made the
// first time a benchmark asks for them and kept for the whole run. The runner interleaves the
// repetitions of all benchmarks at random (so that a slow minute of the machine spreads over
// every configuration instead of falling on one), so every problem's inputs are alive at once:
// a few GiB at most, for the full profile's largest experiment.
template <class Inputs, class... Key>
Inputs& inputs_of(Key... key) {
  static std::map<std::tuple<Key...>, std::unique_ptr<Inputs>> made;
  std::unique_ptr<Inputs>& inputs = made[std::tuple<Key...>(key...)];
  if (!inputs) inputs = std::make_unique<Inputs>(static_cast<std::size_t>(key)...);
  return *inputs;
}

// Uniform doubles in [0, 1), the same for every run.
inline void fill_random(RawArray<double>& array, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (double& x : array) x = uniform(rng);
}

// oneTBB (and std::execution::par, which libstdc++ runs on oneTBB) with exactly p threads,
// p above the core count included: the global limit is raised to p and the work runs in an
// arena of p slots.
class TbbThreads {
 public:
  explicit TbbThreads(std::int64_t p)
      : limit_(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(p)),
        arena_(static_cast<int>(p)) {}

  template <class F>
  auto run(F&& f) {
    return arena_.execute(std::forward<F>(f));
  }

 private:
  tbb::global_control limit_;
  tbb::task_arena arena_;
};

}  // namespace procpar::experiments

#endif  // PROCPAR_EXPERIMENTS_BULK_SUPPORT_H_
