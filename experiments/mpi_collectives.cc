// The cost of MPI's messages and collectives on this machine, for the cost model of the MPI
// layer (issue 13: "each collective's latency and bandwidth (alpha, beta)"), measured the way the
// OSU micro-benchmarks do: a ping-pong between ranks 0 and 1 (one round trip per iteration,
// `seconds` = 2 alpha + 2 bytes beta) and an MPI_Allreduce (MPI_SUM of doubles) over all ranks,
// at every power-of-two message size from 8 bytes to 2 MiB.
//
// The runner starts it under mpirun at 1, 2 and 4 ranks (MPI_EXPERIMENTS in experiments/BUILD);
// the ping-pong is registered from 2 ranks on. By hand:
//   mpirun -np 2 --mca pml ob1 --mca btl self,vader bazel-bin/experiments/mpi_collectives
//     --benchmark_out=mpi.json --benchmark_out_format=json        (one command line)
// Rank 0 runs Google Benchmark; before each benchmark run it broadcasts what to do and how many
// iterations (Google Benchmark fixes them before the timed loop), and the other ranks do exactly
// that many, so every rank makes the same calls. Rows: variant `pingpong` or `allreduce`, backend
// `mpi`, arguments `bytes` and `p` (ranks), counters `oversubscribed` (1 when ranks outnumber the
// cores, whose timings then include the ranks' time-sharing) and `seconds_low`.
//
// seconds_low: rank 0 times every iteration (one round trip, or one all-reduce) on its own, and
// the row keeps the 10th percentile of those times beside Google Benchmark's mean. On a shared
// machine a rank is descheduled now and then, and an iteration that waits for it takes a time
// slice (milliseconds) instead of microseconds: a few such iterations dominate the mean (a
// loaded run's fit gave an alpha of 13 ms at 2 ranks). Load only ever adds time, so the cost of
// the message itself is near the bottom of the distribution; the 10th percentile rather than the
// minimum, because the minimum of thousands of iterations is one lucky draw whose value drifts
// with the number of iterations, while the 10th percentile is stable and still below the
// descheduled iterations whenever more than 10% of them ran undisturbed.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "experiments/mpi_experiment.h"
#include "experiments/profile.h"

namespace procpar::experiments {
namespace {

enum class Operation : std::int64_t { kStop = 0, kPingPong = 1, kAllreduce = 2 };

// What rank 0 tells the others before each benchmark run.
struct Command {
  Operation operation;
  std::int64_t bytes;
  std::int64_t iterations;
};

constexpr std::int64_t kWarmUp = 10;  // untimed round trips or reductions before each run

// Every rank's contribution is rank + 1 in every element, so each element of the sum is
// p (p + 1) / 2.
void allreduce(std::vector<double>& in, std::vector<double>& out, std::int64_t times) {
  for (std::int64_t i = 0; i < times; ++i) {
    MPI_Allreduce(in.data(), out.data(), static_cast<int>(in.size()), MPI_DOUBLE, MPI_SUM,
                  MPI_COMM_WORLD);
  }
}

// Rank 0's time of each iteration, for the `seconds_low` counter.
class IterationTimes {
 public:
  explicit IterationTimes(const benchmark::State& state) {
    seconds_.reserve(static_cast<std::size_t>(state.max_iterations));
  }

  template <class F>
  void time(F&& iteration) {
    const auto start = std::chrono::steady_clock::now();
    iteration();
    seconds_.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }

  // The 10th percentile (the lower one of the two nearest ranks).
  double low() {
    if (seconds_.empty()) return 0;
    const auto at = seconds_.begin() + static_cast<std::ptrdiff_t>(seconds_.size() / 10);
    std::nth_element(seconds_.begin(), at, seconds_.end());
    return *at;
  }

 private:
  std::vector<double> seconds_;
};

void set_common_counters(benchmark::State& state, IterationTimes& times) {
  state.counters["oversubscribed"] = world_size() > machine_cores() ? 1 : 0;
  state.counters["seconds_low"] = times.low();
}

void BM_PingPong(benchmark::State& state) {
  const std::int64_t bytes = state.range(0);
  if (world_size() < 2) {
    state.SkipWithError("the ping-pong needs at least 2 ranks (mpirun -np 2)");
    return;
  }
  Command command{Operation::kPingPong, bytes, static_cast<std::int64_t>(state.max_iterations)};
  broadcast_command(command);
  std::vector<char> sent(static_cast<std::size_t>(bytes)), back(sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>(i * 31 + 7);
  const auto round_trip = [&] { ping_pong(sent.data(), back.data(), static_cast<int>(bytes)); };
  for (std::int64_t i = 0; i < kWarmUp; ++i) round_trip();
  IterationTimes times(state);
  for (auto _ : state) {
    times.time(round_trip);
    benchmark::DoNotOptimize(back.data());
  }
  if (back != sent) state.SkipWithError("the echoed message differs from the one sent");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 2 * bytes);
  set_common_counters(state, times);
}

void BM_Allreduce(benchmark::State& state) {
  const std::int64_t bytes = state.range(0);
  Command command{Operation::kAllreduce, bytes, static_cast<std::int64_t>(state.max_iterations)};
  broadcast_command(command);
  std::vector<double> in(static_cast<std::size_t>(bytes) / sizeof(double), 1.0), out(in.size());
  allreduce(in, out, kWarmUp);
  IterationTimes times(state);
  for (auto _ : state) {
    times.time([&] { allreduce(in, out, 1); });
    benchmark::DoNotOptimize(out.data());
  }
  const double p = world_size();
  for (double x : out) {
    if (x != p * (p + 1) / 2) {
      state.SkipWithError("MPI_Allreduce gave a wrong sum");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * bytes);
  set_common_counters(state, times);
}

// 8 B .. 2 MiB, every power of two: alpha is fitted on the sizes up to 1 KiB and beta on those
// from 32 KiB (analysis/mpi.py), with the protocol switch at Open MPI's eager limit between.
std::vector<std::int64_t> message_sizes() { return powers_of_two(3, 21); }

void register_benchmarks() {
  const std::int64_t ranks = world_size();
  for (const char* name : {"pingpong/mpi", "allreduce/mpi"}) {
    // The runner also starts a single rank, where there is no one to ping.
    if (ranks < 2 && std::string(name) == "pingpong/mpi") continue;
    auto* benchmark = benchmark::RegisterBenchmark(
        name, std::string(name) == "pingpong/mpi" ? BM_PingPong : BM_Allreduce);
    benchmark->ArgNames({"bytes", "p"})->UseRealTime();
    for (std::int64_t bytes : message_sizes()) benchmark->Args({bytes, ranks});
  }
}

// Ranks other than 0: do what rank 0 says until it says stop.
void serve() {
  const int rank = world_rank();
  for (;;) {
    Command command{};
    broadcast_command(command);
    const std::int64_t times = command.iterations + kWarmUp;
    switch (command.operation) {
      case Operation::kStop:
        return;
      case Operation::kPingPong:
        if (rank == 1) echo(command.bytes, times);
        break;
      case Operation::kAllreduce: {
        std::vector<double> in(static_cast<std::size_t>(command.bytes) / sizeof(double),
                               rank + 1.0);
        std::vector<double> out(in.size());
        allreduce(in, out, times);
        break;
      }
    }
  }
}

}  // namespace
}  // namespace procpar::experiments

int main(int argc, char** argv) {
  using namespace procpar::experiments;
  return run_mpi_experiment(argc, argv, "mpi_collectives", register_benchmarks, serve,
                            Command{Operation::kStop, 0, 0});
}
