// MapReduce on a pool, driven by the caller's own serial code.
//
// A job is a sequence of phases that the caller chains as it likes: a map phase is `pool.map`
// or `pool.starmap` of a task over the inputs (the outputs come back in input order), and a reduce
// phase is `reduce_by_key` below, which groups (key, value) pairs from the map outputs by key and
// combines the values of each key on the pool. Nothing forces a reduce after every map (the seed's
// complaint about Hadoop): two maps may follow each other, and an iterative job loops until it
// converges, deciding in serial code between phases.
//
// Why no job can deadlock (the seed's argument): every phase returns only when all its tasks are
// done, and a task never waits for another task. Everything a phase reads was computed by an
// earlier phase, so there is no cycle of waits; a job can fail to converge, but not hang.
//
//   std::vector<KeyValues<std::string, std::uint64_t>> partial =
//       pool.starmap(&count_range, ranges, 1);                    // map
//   KeyValues<std::string, std::uint64_t> counts =
//       reduce_by_key<std::plus<>>(pool, std::move(partial));     // reduce
//
// Bulk inputs belong in shared arrays (shared_array.h) with tasks taking views and ranges; map
// outputs and reduce inputs travel as serialized values, so a map task should combine its own
// pairs (as word count's counter per task does) before returning them.
#ifndef PROCPAR_PRIMITIVES_MAPREDUCE_H_
#define PROCPAR_PRIMITIVES_MAPREDUCE_H_

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

#include "primitives/pool.h"

namespace procpar {

// The pairs a map task emits and a reduce phase returns.
template <class K, class V>
using KeyValues = std::vector<std::pair<K, V>>;

namespace mapreduce_detail {

template <class K, class V, class Combine>
KeyValues<K, V> combine_partition(KeyValues<K, V> pairs) {
  // Stable: the values of a key are combined in the order the map outputs produced them.
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  KeyValues<K, V> combined;
  for (auto& pair : pairs) {
    if (!combined.empty() && !(combined.back().first < pair.first)) {
      combined.back().second = Combine{}(std::move(combined.back().second), std::move(pair.second));
    } else {
      combined.push_back(std::move(pair));
    }
  }
  return combined;
}

}  // namespace mapreduce_detail

// The reduce phase: every key that occurs in `map_outputs`, once, with its values combined by
// `Combine` (a stateless, default-constructible function-object type: V(V, V), associative).
// Returns the pairs sorted by key.
//
// The pairs are partitioned by std::hash of the key into `partitions` groups (default: one per
// worker), and each group is combined by one pool task. The values of one key are combined in the
// order of `map_outputs` (and, within an output, in its order), so the result does not depend on
// the pool, its number of workers or the number of partitions, even for a non-commutative Combine.
//
// Cost: O(m) in the caller to partition m pairs, then O(m/partitions log) per task to sort and
// combine, plus (on the process pool) serializing each pair to and from a worker once.
template <class Combine, Pool P, class K, class V>
KeyValues<K, V> reduce_by_key(P& pool, std::vector<KeyValues<K, V>> map_outputs,
                              std::size_t partitions = 0) {
  static_assert(std::totally_ordered<K>, "reduce_by_key: keys must be ordered (operator<)");
  static_assert(requires(const K& key) { { std::hash<K>{}(key) } -> std::convertible_to<std::size_t>; },
                "reduce_by_key: keys need a std::hash specialisation");
  static_assert(std::is_default_constructible_v<Combine> &&
                    std::is_invocable_r_v<V, Combine, V, V>,
                "reduce_by_key: Combine must be a stateless function-object type V(V, V)");
  if (partitions == 0) partitions = pool.workers();

  std::vector<KeyValues<K, V>> groups(partitions);
  const std::hash<K> hash;
  for (auto& output : map_outputs) {
    for (auto& pair : output) groups[hash(pair.first) % partitions].push_back(std::move(pair));
  }
  std::erase_if(groups, [](const auto& group) { return group.empty(); });
  map_outputs.clear();

  std::vector<KeyValues<K, V>> combined =
      pool.map(&mapreduce_detail::combine_partition<K, V, Combine>, groups, 1);
  KeyValues<K, V> result;
  std::size_t total = 0;
  for (const auto& part : combined) total += part.size();
  result.reserve(total);
  for (auto& part : combined) {
    std::move(part.begin(), part.end(), std::back_inserter(result));
  }
  std::sort(result.begin(), result.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return result;
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_MAPREDUCE_H_
