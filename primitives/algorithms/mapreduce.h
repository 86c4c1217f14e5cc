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
// Bulk inputs belong in shared arrays (shared_array.h), with tasks taking views and ranges; map
// outputs and the reduce phase's groups travel as serialized values.
#ifndef PROCPAR_PRIMITIVES_MAPREDUCE_H_
#define PROCPAR_PRIMITIVES_MAPREDUCE_H_

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <queue>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "primitives/partition.h"
#include "primitives/pool.h"

namespace procpar {

// The pairs a map task emits and a reduce phase returns.
template <class K, class V>
using KeyValues = std::vector<std::pair<K, V>>;

namespace mapreduce_detail {

// A partition of the pairs, each with its position in the map outputs (output 0 first).
template <class K, class V>
using Group = std::pair<KeyValues<K, V>, std::vector<std::uint64_t>>;

// Combines the values of each key of `group` in order, and returns each key once, in order of
// first appearance, with the position of that first appearance.
template <class K, class V, class Combine>
Group<K, V> combine_group(const Group<K, V>& group) {
  const auto& [pairs, positions] = group;
  Group<K, V> combined;
  std::unordered_map<K, std::size_t> index;  // key -> its place in `combined`
  index.reserve(pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const auto [it, first] = index.try_emplace(pairs[i].first, combined.first.size());
    if (first) {
      combined.first.push_back(pairs[i]);
      combined.second.push_back(positions[i]);
    } else {
      V& value = combined.first[it->second].second;
      value = Combine{}(std::move(value), pairs[i].second);
    }
  }
  return combined;
}

}  // namespace mapreduce_detail

// The reduce phase: every key that occurs in `map_outputs`, once, with its values combined by
// `Combine` (a stateless, default-constructible function-object type: V(V, V), associative).
// Keys come out in order of first appearance in `map_outputs` (output 0 first, each output in
// its own order), and the values of a key are combined in that same order, so the result does
// not depend on the pool, the number of workers or of partitions, even for a Combine that is
// not commutative.
//
// The caller sends each pair to one of `partitions` groups (default: one per worker) by
// std::hash of its key; one pool task per group combines its pairs in a hash table; the caller
// merges the groups' results by position.
//
// Cost: a hash and a move per pair in the caller, a hash-table insertion or update per pair in
// the tasks, O(d log partitions) for the merge of d distinct keys, plus (on the process pool)
// serializing each pair to a worker and each distinct key of a group back. A map task should
// combine its own pairs first (as word count's counter per task does): the reduce phase then
// moves distinct keys per task rather than every occurrence.
template <class Combine, Pool P, class K, class V>
KeyValues<K, V> reduce_by_key(P& pool, std::vector<KeyValues<K, V>> map_outputs,
                              std::size_t partitions = 0) {
  static_assert(std::equality_comparable<K>, "reduce_by_key: keys must be comparable (==)");
  static_assert(requires(const K& key) { { std::hash<K>{}(key) } -> std::convertible_to<std::size_t>; },
                "reduce_by_key: keys need a std::hash specialisation");
  static_assert(std::is_empty_v<Combine> && std::is_default_constructible_v<Combine> &&
                    std::is_invocable_r_v<V, Combine, V, V>,
                "reduce_by_key: Combine must be a stateless function-object type V(V, V)");
  if (partitions == 0) partitions = checked_workers(pool, "reduce_by_key");

  using Group = mapreduce_detail::Group<K, V>;
  std::vector<Group> groups(partitions);
  const std::hash<K> hash;
  std::uint64_t position = 0;
  for (auto& output : map_outputs) {
    for (auto& pair : output) {
      Group& group = groups[hash(pair.first) % partitions];
      group.first.push_back(std::move(pair));
      group.second.push_back(position++);
    }
  }
  map_outputs.clear();
  std::erase_if(groups, [](const Group& group) { return group.first.empty(); });

  std::vector<Group> combined =
      pool.map(&mapreduce_detail::combine_group<K, V, Combine>, groups, 1);

  // Merge the groups by first position: a heap of (position, group) over the groups' heads.
  std::size_t total = 0;
  for (const Group& group : combined) total += group.first.size();
  using Head = std::pair<std::uint64_t, std::size_t>;
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  std::vector<std::size_t> next(combined.size(), 0);
  for (std::size_t g = 0; g < combined.size(); ++g) heads.emplace(combined[g].second[0], g);
  KeyValues<K, V> result;
  result.reserve(total);
  while (!heads.empty()) {
    const std::size_t g = heads.top().second;
    heads.pop();
    result.push_back(std::move(combined[g].first[next[g]]));
    if (++next[g] < combined[g].first.size()) heads.emplace(combined[g].second[next[g]], g);
  }
  return result;
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_MAPREDUCE_H_
