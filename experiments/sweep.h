// Registering a benchmark over a sweep of its named arguments, the way docs/experiments.md asks
// (a name "<variant>/<backend>", named arguments, real time), in one call:
//
//   const Sweep parallel = {{"n", {n}}, {"p", worker_counts()}};
//   register_sweep("partitioned/process", BM_Partitioned<ProcessPool>, parallel);
//
// registers partitioned/process/n:<n>/p:1/real_time, .../p:2/real_time, ... as one family.
#ifndef PROCPAR_EXPERIMENTS_SWEEP_H_
#define PROCPAR_EXPERIMENTS_SWEEP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

namespace procpar::experiments {

// One named argument (read back with state.range(i), i its place in the sweep) and its values.
struct Axis {
  std::string name;
  std::vector<std::int64_t> values;
};

using Sweep = std::vector<Axis>;

// Registers `function` as the benchmark `name` at every combination of the sweep's values,
// timed in real time (the work runs in other threads or processes). The first axis varies
// fastest (Google Benchmark's ArgsProduct order).
inline benchmark::internal::Benchmark* register_sweep(const char* name,
                                                      void (*function)(benchmark::State&),
                                                      const Sweep& sweep) {
  std::vector<std::string> names;
  std::vector<std::vector<std::int64_t>> values;
  for (const Axis& axis : sweep) {
    names.push_back(axis.name);
    values.push_back(axis.values);
  }
  return benchmark::RegisterBenchmark(name, function)
      ->ArgNames(names)
      ->ArgsProduct(values)
      ->UseRealTime();
}

}  // namespace procpar::experiments

#endif  // PROCPAR_EXPERIMENTS_SWEEP_H_
