// MpiPool's round trip against the message it is built on (issue 13's goal: an `apply` round
// trip on MpiPool at most 3 times the MPI ping-pong of the same run). Two variants, measured in
// the same job one after the other:
//   pingpong/mpi  rank 0 sends 8 bytes to rank 1 and receives them back (MPI_Send, MPI_Recv):
//                 the floor of any request-reply between two ranks
//   apply/mpi     rank 0's pool.apply(increment, i) of a trivial task (one int in, one int out)
//                 on an MpiPool over the job: encoding, the task message to a server, the run,
//                 the reply, the decoding and the hand-back of the value to the caller
// The runner starts it under mpirun at 1, 2 and 4 ranks (MPI_EXPERIMENTS in experiments/BUILD).
// At 1 rank there is no one to ping and the pool runs its tasks inline on rank 0 (mpi_pool.h):
// only `apply` is registered, and that row is the inline cost, not a round trip.
// Rows: arguments `p` (ranks), counter `oversubscribed` (1 when ranks outnumber the cores: every
// idle server then polls on a shared CPU, which the round trip pays for).
//
// Rank 0 runs Google Benchmark; before each benchmark run it broadcasts what to do (and, for the
// ping-pong, how many iterations, which Google Benchmark fixes before the timed loop), so every
// rank makes the same calls. For `apply` the other ranks construct the pool with rank 0 and serve
// in its constructor until rank 0's pool is destroyed.
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "experiments/mpi_experiment.h"
#include "experiments/profile.h"
#include "mpi/mpi_pool.h"

namespace procpar::experiments {
namespace {

enum class Operation : std::int64_t { kStop = 0, kPingPong = 1, kPool = 2 };

struct Command {
  Operation operation;
  std::int64_t iterations;
};

constexpr std::int64_t kWarmUp = 100;  // untimed round trips before each run
constexpr int kPingBytes = 8;

int increment(int x) { return x + 1; }

void set_common_counters(benchmark::State& state) {
  state.counters["oversubscribed"] = world_size() > machine_cores() ? 1 : 0;
}

void BM_PingPong(benchmark::State& state) {
  Command command{Operation::kPingPong, static_cast<std::int64_t>(state.max_iterations)};
  broadcast_command(command);
  std::int64_t sent = 0x5eed, back = 0;
  const auto round_trip = [&] { ping_pong(&sent, &back, kPingBytes); };
  for (std::int64_t i = 0; i < kWarmUp; ++i) round_trip();
  for (auto _ : state) {
    round_trip();
    benchmark::DoNotOptimize(back);
  }
  if (back != sent) state.SkipWithError("the echoed message differs from the one sent");
  set_common_counters(state);
}

void BM_Apply(benchmark::State& state) {
  Command command{Operation::kPool, 0};
  broadcast_command(command);
  MpiPool pool(MPI_COMM_WORLD);
  int value = 0;
  for (std::int64_t i = 0; i < kWarmUp; ++i) value = pool.apply(increment, value);
  int expected = value;
  for (auto _ : state) {
    value = pool.apply(increment, value);
    benchmark::DoNotOptimize(value);
    ++expected;
  }
  if (value != expected) state.SkipWithError("a task's result was wrong");
  set_common_counters(state);
}

void register_benchmarks() {
  const std::int64_t ranks = world_size();
  if (ranks >= 2) {
    benchmark::RegisterBenchmark("pingpong/mpi", BM_PingPong)
        ->ArgNames({"p"})
        ->Args({ranks})
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("apply/mpi", BM_Apply)->ArgNames({"p"})->Args({ranks})->UseRealTime();
}

// Ranks other than 0: do what rank 0 says until it says stop.
void serve() {
  for (;;) {
    Command command{};
    broadcast_command(command);
    switch (command.operation) {
      case Operation::kStop:
        return;
      case Operation::kPingPong:
        if (world_rank() == 1) echo(kPingBytes, command.iterations + kWarmUp);
        break;
      case Operation::kPool: {
        const MpiPool serving(MPI_COMM_WORLD);
        break;
      }
    }
  }
}

}  // namespace
}  // namespace procpar::experiments

int main(int argc, char** argv) {
  using namespace procpar::experiments;
  // MpiPool's dispatcher thread and the caller both call MPI.
  return run_mpi_experiment(argc, argv, "mpi_pool", register_benchmarks, serve,
                            Command{Operation::kStop, 0}, MPI_THREAD_MULTIPLE);
}
