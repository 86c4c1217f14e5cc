// The machine's own limits, measured in every run beside the experiments (issue 15), so that a
// pool's per-call cost and a primitive's bandwidth can be said as a fraction of what the
// machine allows. The seed's thesis (process-based-parallelism.md) is that process channels
// force a coarser grain than OpenMP; these are the floors under both:
//
//   cache_line_round_trip/process  one cache line of a MAP_SHARED page passed to a second
//                                  process and back, both spinning: the least a task's round
//                                  trip between processes can cost (seconds = one round trip)
//   fork_join/openmp               an empty OpenMP parallel region of p threads (argument p)
//   read/openmp, copy/openmp       read and copy bandwidth (bandwidth_limits.h), which the
//                                  bulk experiments measure again beside their primitives
//
// The bandwidth sizes include the largest n of every bulk primitive in both profiles.
#include <omp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "experiments/bandwidth_limits.h"
#include "experiments/experiment_main.h"
#include "experiments/profile.h"
#include "experiments/sweep.h"

namespace procpar::experiments {
namespace {

// ---- The cross-process cache-line round trip ----

// The line both processes spin on. The parent makes `turn` odd to pass the line, the child
// answers by making it even again; kStop tells the child to leave.
struct alignas(64) PingPongLine {
  std::atomic<std::uint64_t> turn{0};
};
constexpr std::uint64_t kStop = ~std::uint64_t{0};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "the line is shared between processes: its atomic must not hide a lock");

// Spins until `line` holds a value for which `ready` is true, or `gone()` says the other side
// will never answer (then nullopt). On a loaded machine the other process may be off its core
// for a whole time slice: after many unanswered spins, yield the core rather than burn the
// slice it needs (never reached when both have a core), and ask `gone()`.
template <class Ready, class Gone>
std::optional<std::uint64_t> spin_until(const PingPongLine& line, Ready ready, Gone gone) {
  for (std::uint32_t spins = 1;; ++spins) {
    const std::uint64_t value = line.turn.load(std::memory_order_acquire);
    if (ready(value)) return value;
    if (spins % (1u << 16) == 0) {
      if (gone()) return std::nullopt;
      sched_yield();
    } else {
      __builtin_ia32_pause();
    }
  }
}

// A second process answering every pass of the line, for the life of one benchmark call.
class Partner {
 public:
  Partner() {
    void* page = mmap(nullptr, sizeof(PingPongLine), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
      throw std::runtime_error(std::string("mmap of the shared line failed: ") +
                               std::strerror(errno));
    }
    line_ = new (page) PingPongLine;
    const pid_t parent = getpid();
    child_ = fork();
    if (child_ < 0) {
      const int error = errno;
      munmap(page, sizeof(PingPongLine));
      throw std::runtime_error(std::string("fork failed: ") + std::strerror(error));
    }
    if (child_ == 0) {
      // Dies with the benchmark process, so that a crash or a kill leaves no spinner behind.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(0);
      const auto parent_gone = [parent] { return getppid() != parent; };
      for (;;) {
        const std::optional<std::uint64_t> value =
            spin_until(*line_, [](std::uint64_t v) { return v % 2 == 1; }, parent_gone);
        if (!value || *value == kStop) _exit(0);
        line_->turn.store(*value + 1, std::memory_order_release);
      }
    }
  }

  Partner(const Partner&) = delete;
  Partner& operator=(const Partner&) = delete;

  ~Partner() {
    line_->turn.store(kStop, std::memory_order_release);
    if (!reaped_) {
      int status = 0;
      while (waitpid(child_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    munmap(line_, sizeof(PingPongLine));
  }

  // Passes the line to the partner and waits for it to come back; returns the turn count, or
  // nullopt when the partner died (killed, say) and never will answer.
  std::optional<std::uint64_t> round_trip() {
    const std::uint64_t sent = line_->turn.load(std::memory_order_relaxed) + 1;
    line_->turn.store(sent, std::memory_order_release);
    return spin_until(*line_, [sent](std::uint64_t v) { return v == sent + 1; },
                      [this] { return partner_died(); });
  }

 private:
  bool partner_died() {
    int status = 0;
    reaped_ = reaped_ || waitpid(child_, &status, WNOHANG) == child_;
    return reaped_;
  }

  bool reaped_ = false;
  PingPongLine* line_ = nullptr;
  pid_t child_ = -1;
};

void BM_CacheLineRoundTrip(benchmark::State& state) {
  constexpr const char* kDied = "the partner process died: the line came back no more";
  Partner partner;
  std::optional<std::uint64_t> turn = 0;
  for (int warm_up = 0; warm_up < 1000 && turn; ++warm_up) turn = partner.round_trip();
  if (!turn) {
    state.SkipWithError(kDied);
    return;
  }
  const std::uint64_t before = *turn;
  for (auto _ : state) {
    turn = partner.round_trip();
    if (!turn) {
      state.SkipWithError(kDied);
      break;
    }
    benchmark::DoNotOptimize(*turn);
  }
  if (!turn) return;
  // Each round trip moves the turn on by two (there and back): anything else is a lost pass.
  const auto expected = before + 2 * static_cast<std::uint64_t>(state.iterations());
  if (*turn != expected) {
    state.SkipWithError(("the line's turn is " + std::to_string(*turn) + ", not " +
                         std::to_string(expected) + ": a pass was lost").c_str());
  }
}

// ---- The OpenMP fork-join cost ----

void BM_ForkJoin(benchmark::State& state) {
  const int p = static_cast<int>(state.range(0));
  std::vector<int> present(static_cast<std::size_t>(p), 0);
  int* seen = present.data();
  // Warm-up: the first region of a thread count starts its threads.
#pragma omp parallel num_threads(p)
  { seen[omp_get_thread_num()] = 1; }
  for (auto _ : state) {
#pragma omp parallel num_threads(p)
    { benchmark::ClobberMemory(); }
  }
  for (int t = 0; t < p; ++t) {
    if (present[static_cast<std::size_t>(t)] != 1) {
      state.SkipWithError(("thread " + std::to_string(t) + " of " + std::to_string(p) +
                           " never ran: the region did not have p threads").c_str());
      return;
    }
  }
}

// The largest n of the bulk primitives in the quick profile (2^22, the grain's largest size)
// and in the full one (2^25), so each is compared with the bandwidth at its own n. The quick
// profile leaves out 2^25: first touching its 512 MiB of shared memory alone takes seconds.
std::vector<std::int64_t> bandwidth_sizes() {
  return is_quick() ? std::vector<std::int64_t>{1 << 22} : std::vector<std::int64_t>{1 << 22, 1 << 25};
}

void register_benchmarks() {
  benchmark::RegisterBenchmark("cache_line_round_trip/process", BM_CacheLineRoundTrip)
      ->UseRealTime();
  register_sweep("fork_join/openmp", BM_ForkJoin, {{"p", worker_counts()}});
  for (const std::int64_t n : bandwidth_sizes()) {
    register_bandwidth_limit(Traffic::kRead, n, worker_counts());
    register_bandwidth_limit(Traffic::kCopy, n, worker_counts());
  }
}

}  // namespace
}  // namespace procpar::experiments

int main(int argc, char** argv) {
  procpar::experiments::keep_freed_memory();
  return procpar::experiments::run_experiment(argc, argv, "machine_limits",
                                               procpar::experiments::register_benchmarks);
}
