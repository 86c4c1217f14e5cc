// The seed's note (process-based-parallelism.md, "Notes"):
//
//   "Compare the performance of a multiprocessing.Array and multiprocessing.RawArray.
//    Arrays have a lock that makes writes atomic."
//
// Work: n read-modify-write increments (a[i] += 1) of 64-bit integers, split evenly among the
// workers, in one of three patterns:
//   disjoint     each worker increments its own contiguous range of an n-element array: the
//                data are not shared, but a SharedArray's one lock still is;
//   interleaved  worker k increments elements k, k + p, k + 2p, ...: neighbours share cache lines;
//   same         every worker increments the same 8 elements: true contention.
// and one of five ways to access the array:
//   raw            RawArray, a plain load and store per increment: concurrent increments may be
//                  lost (as multiprocessing.RawArray);
//   atomic         RawArray, one hardware atomic add per increment (what C++ offers instead of a
//                  lock; CPython has no counterpart);
//   locked         SharedArray, SharedSpan::add: one lock acquisition per increment, exact
//                  (Python: with a.get_lock(): a.get_obj()[i] += 1);
//   locked_access  SharedArray, store(i, load(i) + 1): the load and the store each take the
//                  lock, the increment as a whole does not, so increments may be lost although
//                  "writes are atomic" (Python: a[i] += 1 on a multiprocessing.Array);
//   locked_block   SharedArray, the lock held once around the worker's whole loop, exact.
// Variants are <access>_<pattern>; backends serial (the caller's own loop), thread (ThreadPool)
// and process (ProcessPool), p workers each taking one task. The CPython reference
// (python/shared_array_lock.py) measures multiprocessing.Array and RawArray the same way.
//
// Each increment is a separate memory access (relaxed std::atomic_ref loads and stores), as in
// Python: the compiler may not fuse a worker's increments of one element or vectorise them.
// Arrays are allocated, touched and mapped by every worker before timing. The arrays are not
// reset between iterations; at the end the total tells how many increments were lost
// (counter lost_fraction), and an exact access that lost any fails the benchmark.
#include <atomic>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "experiments/experiment_main.h"
#include "experiments/profile.h"
#include "primitives/process_pool.h"
#include "primitives/shared_array.h"
#include "primitives/thread_pool.h"

namespace procpar::experiments {
namespace {

constexpr std::uint64_t kFewCells = 8;

enum class Pattern : std::int32_t { kDisjoint, kInterleaved, kSame };
enum class Access : std::int32_t { kRaw, kAtomic, kLocked, kLockedAccess, kLockedBlock };

constexpr Pattern kPatterns[] = {Pattern::kDisjoint, Pattern::kInterleaved, Pattern::kSame};
constexpr Access kAccesses[] = {Access::kRaw, Access::kAtomic, Access::kLocked,
                                Access::kLockedAccess, Access::kLockedBlock};

const char* name(Pattern pattern) {
  switch (pattern) {
    case Pattern::kDisjoint: return "disjoint";
    case Pattern::kInterleaved: return "interleaved";
    case Pattern::kSame: return "same";
  }
  return "?";
}

const char* name(Access access) {
  switch (access) {
    case Access::kRaw: return "raw";
    case Access::kAtomic: return "atomic";
    case Access::kLocked: return "locked";
    case Access::kLockedAccess: return "locked_access";
    case Access::kLockedBlock: return "locked_block";
  }
  return "?";
}

bool is_locked(Access access) {
  return access == Access::kLocked || access == Access::kLockedAccess ||
         access == Access::kLockedBlock;
}

bool is_exact(Access access) {
  return access == Access::kAtomic || access == Access::kLocked || access == Access::kLockedBlock;
}

// One worker's share of the increments. Trivially copyable: a task argument.
struct Increments {
  RawSpan<std::int64_t> raw;        // raw, atomic
  SharedSpan<std::int64_t> shared;  // the locked accesses
  Access access;
  Pattern pattern;
  std::uint64_t n;
  std::uint64_t worker;
  std::uint64_t workers;
};

// Calls visit(i) for each element the worker increments, in order.
template <class Visit>
void for_each_element(const Increments& task, Visit visit) {
  const std::uint64_t begin = task.n * task.worker / task.workers;
  const std::uint64_t end = task.n * (task.worker + 1) / task.workers;
  switch (task.pattern) {
    case Pattern::kDisjoint:
      for (std::uint64_t i = begin; i < end; ++i) visit(i);
      break;
    case Pattern::kInterleaved:
      for (std::uint64_t i = task.worker; i < task.n; i += task.workers) visit(i);
      break;
    case Pattern::kSame:
      for (std::uint64_t j = begin; j < end; ++j) visit(j % kFewCells);
      break;
  }
}

void plain_increment(std::int64_t& element) {
  std::atomic_ref<std::int64_t> cell(element);
  cell.store(cell.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// The task: returns the number of increments it made.
std::uint64_t increment(Increments task) {
  std::uint64_t made = 0;
  switch (task.access) {
    case Access::kRaw: {
      std::int64_t* const data = task.raw.data();
      for_each_element(task, [&](std::uint64_t i) { plain_increment(data[i]); ++made; });
      break;
    }
    case Access::kAtomic: {
      std::int64_t* const data = task.raw.data();
      for_each_element(task, [&](std::uint64_t i) {
        std::atomic_ref<std::int64_t>(data[i]).fetch_add(1, std::memory_order_relaxed);
        ++made;
      });
      break;
    }
    case Access::kLocked: {
      const SharedSpan<std::int64_t> shared = task.shared;
      for_each_element(task, [&](std::uint64_t i) { shared.add(i, 1); ++made; });
      break;
    }
    case Access::kLockedAccess: {
      const SharedSpan<std::int64_t> shared = task.shared;
      for_each_element(task, [&](std::uint64_t i) { shared.store(i, shared.load(i) + 1); ++made; });
      break;
    }
    case Access::kLockedBlock: {
      auto guard = task.shared.lock();
      std::int64_t* const data = guard.data();
      for_each_element(task, [&](std::uint64_t i) { plain_increment(data[i]); ++made; });
      break;
    }
  }
  return made;
}

// The array of one benchmark and the tasks over it.
class Workload {
 public:
  Workload(Access access, Pattern pattern, std::uint64_t n, std::uint64_t workers)
      : cells_(pattern == Pattern::kSame ? kFewCells : n), n_(n) {
    Increments task{};
    task.access = access;
    task.pattern = pattern;
    task.n = n;
    task.workers = workers;
    if (is_locked(access)) {
      shared_.emplace(cells_);
      task.shared = shared_->span();
    } else {
      raw_.emplace(cells_);
      task.raw = raw_->span();
    }
    for (std::uint64_t k = 0; k < workers; ++k) {
      task.worker = k;
      tasks_.push_back(task);
    }
  }

  const std::vector<Increments>& tasks() const { return tasks_; }
  std::uint64_t n() const { return n_; }

  std::int64_t total() const {
    if (raw_) return std::accumulate(raw_->begin(), raw_->end(), std::int64_t{0});
    auto guard = shared_->span().lock();
    return std::accumulate(guard.begin(), guard.end(), std::int64_t{0});
  }

 private:
  std::uint64_t cells_;
  std::uint64_t n_;
  std::optional<RawArray<std::int64_t>> raw_;
  std::optional<SharedArray<std::int64_t>> shared_;
  std::vector<Increments> tasks_;
};

// Counts lost increments over calls of the workload (including untimed ones) and fails an
// exact access that lost any.
void report(benchmark::State& state, Access access, const Workload& work, std::uint64_t calls) {
  const double expected = static_cast<double>(calls) * static_cast<double>(work.n());
  const double lost = 1.0 - static_cast<double>(work.total()) / expected;
  if (is_exact(access) && lost != 0.0) {
    state.SkipWithError((std::string(name(access)) + ": " + std::to_string(lost * 100) +
                         "% of the increments were lost")
                            .c_str());
    return;
  }
  state.counters["lost_fraction"] = lost;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * work.n()));
}

void BM_Serial(benchmark::State& state, Access access, Pattern pattern) {
  Workload work(access, pattern, static_cast<std::uint64_t>(state.range(0)), 1);
  std::uint64_t calls = 0;
  for (const Increments& task : work.tasks()) increment(task);  // warm up
  ++calls;
  for (auto _ : state) {
    benchmark::DoNotOptimize(increment(work.tasks()[0]));
    ++calls;
  }
  report(state, access, work, calls);
}

template <class PoolType>
void BM_Pool(benchmark::State& state, Access access, Pattern pattern) {
  const auto p = static_cast<std::uint64_t>(state.range(1));
  Workload work(access, pattern, static_cast<std::uint64_t>(state.range(0)), p);
  PoolType pool(p);
  std::uint64_t calls = 0;
  pool.map(&increment, work.tasks(), 1);  // warm up: every worker maps the array
  ++calls;
  for (auto _ : state) {
    const std::vector<std::uint64_t> made = pool.map(&increment, work.tasks(), 1);
    benchmark::DoNotOptimize(made.data());
    ++calls;
  }
  report(state, access, work, calls);
}

// An increment costs about a nanosecond raw and tens with the lock, so at 2^12 the pool's
// dispatch shows, at 2^16 (a size of the CPython reference too) it is amortised.
std::vector<std::int64_t> sizes() {
  return is_quick() ? powers_of_two(16, 16) : powers_of_two(12, 16, 4);
}

void register_benchmarks() {
  for (Pattern pattern : kPatterns) {
    for (Access access : kAccesses) {
      const std::string variant = std::string(name(access)) + "_" + name(pattern);
      benchmark::RegisterBenchmark((variant + "/serial").c_str(), BM_Serial, access, pattern)
          ->ArgNames({"n"})
          ->ArgsProduct({sizes()})
          ->UseRealTime();
      benchmark::RegisterBenchmark((variant + "/thread").c_str(), BM_Pool<ThreadPool>, access,
                                   pattern)
          ->ArgNames({"n", "p"})
          ->ArgsProduct({sizes(), worker_counts()})
          ->UseRealTime();
      benchmark::RegisterBenchmark((variant + "/process").c_str(), BM_Pool<ProcessPool>, access,
                                   pattern)
          ->ArgNames({"n", "p"})
          ->ArgsProduct({sizes(), worker_counts()})
          ->UseRealTime();
    }
  }
}

}  // namespace
}  // namespace procpar::experiments

int main(int argc, char** argv) {
  return procpar::experiments::run_experiment(argc, argv, "shared_array_lock",
                                               procpar::experiments::register_benchmarks);
}
