// What every experiment binary's main() does after its own set-up: Google Benchmark's flags,
// the experiment's benchmarks registered by `register_benchmarks`, then the run.
//
//   int main(int argc, char** argv) {
//     return procpar::experiments::run_experiment(argc, argv, "pack", register_benchmarks);
//   }
//
// Exit status 1 for a flag Google Benchmark does not know; 2 when registering fails (an unknown
// PROCPAR_PROFILE, a missing corpus), with the error on stderr after the experiment's name, so
// that the runner's report names what went wrong.
#ifndef PROCPAR_EXPERIMENTS_EXPERIMENT_MAIN_H_
#define PROCPAR_EXPERIMENTS_EXPERIMENT_MAIN_H_

#include <cstdio>
#include <exception>

#include "benchmark/benchmark.h"

namespace procpar::experiments {

inline int run_experiment(int argc, char** argv, const char* name, void (*register_benchmarks)()) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  try {
    register_benchmarks();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 2;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace procpar::experiments

#endif  // PROCPAR_EXPERIMENTS_EXPERIMENT_MAIN_H_
