// Problem sizes and worker counts of an experiment run, chosen by the profile.
//
// The runner sets PROCPAR_PROFILE=quick (CI: small sizes, the whole suite in minutes) or
// PROCPAR_PROFILE=full (the paper). Experiments take every size and worker count from here so
// that the two profiles differ in one place.
#ifndef PROCPAR_EXPERIMENTS_PROFILE_H_
#define PROCPAR_EXPERIMENTS_PROFILE_H_

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace procpar::experiments {

enum class Profile { kQuick, kFull };

// PROCPAR_PROFILE, "full" when unset; anything else is an error, not a silent default.
inline Profile current_profile() {
  const char* value = std::getenv("PROCPAR_PROFILE");
  if (value == nullptr || std::string(value) == "full") return Profile::kFull;
  if (std::string(value) == "quick") return Profile::kQuick;
  throw std::invalid_argument("PROCPAR_PROFILE must be 'quick' or 'full', not '" +
                              std::string(value) + "'");
}

inline bool is_quick() { return current_profile() == Profile::kQuick; }

inline std::int64_t machine_cores() {
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<std::int64_t>(cores);
}

// Worker counts 1, 2, 4, ... up to twice the cores (so oversubscription shows), always
// including the number of cores itself and twice it.
inline std::vector<std::int64_t> worker_counts() {
  const std::int64_t cores = machine_cores();
  std::vector<std::int64_t> counts;
  for (std::int64_t p = 1; p < cores; p *= 2) counts.push_back(p);
  counts.push_back(cores);
  counts.push_back(2 * cores);
  return counts;
}

// Powers of two from 2^lo to 2^hi, stepping the exponent by `step`.
inline std::vector<std::int64_t> powers_of_two(int lo, int hi, int step = 1) {
  std::vector<std::int64_t> sizes;
  for (int e = lo; e <= hi; e += step) sizes.push_back(std::int64_t{1} << e);
  return sizes;
}

// One size of a bulk experiment and the worker counts measured at it.
struct SizePlan {
  std::int64_t n;
  std::vector<std::int64_t> workers;
  bool grain_only;  // measured only for the grain: at p = cores (an experiment may also leave
                    // out there the variants the grain does not read)
};

// The sizes at which the grain of the bulk primitives (n_1/2 and n_eff, analysis/grain.py) is
// read: every power of two from 2^10 to 2^22 in the full profile, so that both are found within
// a factor of 2; every third power (sizes a factor of 8 apart) in the quick profile.
inline std::vector<std::int64_t> grain_sizes() {
  return is_quick() ? powers_of_two(10, 22, 3) : powers_of_two(10, 22);
}

// An experiment's own sizes (`swept`, every worker count) merged with the grain's sizes, in
// increasing n. The grain is read at p = cores only, so a size of the grain that the experiment
// does not sweep is measured at p = cores alone: that keeps the full profile within its time.
inline std::vector<SizePlan> with_grain_sizes(const std::vector<std::int64_t>& swept) {
  std::vector<SizePlan> plan;
  for (const std::int64_t n : swept) plan.push_back({n, worker_counts(), false});
  for (const std::int64_t n : grain_sizes()) {
    bool measured = false;
    for (const SizePlan& size : plan) measured = measured || size.n == n;
    if (!measured) plan.push_back({n, {machine_cores()}, true});
  }
  std::sort(plan.begin(), plan.end(),
            [](const SizePlan& a, const SizePlan& b) { return a.n < b.n; });
  return plan;
}

}  // namespace procpar::experiments

#endif  // PROCPAR_EXPERIMENTS_PROFILE_H_
