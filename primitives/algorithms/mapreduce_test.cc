#include "primitives/mapreduce.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "primitives/primitive_test_util.h"
#include "primitives/shared_array.h"

namespace procpar {
namespace {

template <class P>
class MapReduceOnPool : public testing::WatchedTest<P> {};
TYPED_TEST_SUITE(MapReduceOnPool, testing::PoolTypes);

std::vector<KeyValues<int, std::int64_t>> random_outputs(std::size_t outputs, std::size_t pairs,
                                                         std::mt19937_64& rng) {
  std::vector<KeyValues<int, std::int64_t>> result(outputs);
  for (auto& output : result) {
    for (std::size_t i = 0; i < pairs; ++i) {
      output.emplace_back(static_cast<int>(rng() % 50) - 25, static_cast<std::int64_t>(rng() % 1000));
    }
  }
  return result;
}

// The reduce phase's contract, written the obvious way: each key once, in order of first
// appearance, its values folded left to right in that order.
template <class K, class V, class Combine>
KeyValues<K, V> obvious_reduce(const std::vector<KeyValues<K, V>>& map_outputs, Combine combine) {
  KeyValues<K, V> result;
  for (const auto& output : map_outputs) {
    for (const auto& [key, value] : output) {
      auto it = std::find_if(result.begin(), result.end(),
                             [&key](const auto& pair) { return pair.first == key; });
      if (it == result.end()) {
        result.emplace_back(key, value);
      } else {
        it->second = combine(it->second, value);
      }
    }
  }
  return result;
}

TYPED_TEST(MapReduceOnPool, ReduceByKeySumsEveryKeyOnceInOrderOfFirstAppearance) {
  std::mt19937_64 rng(1);
  for (std::size_t p : {1, 2, 3}) {
    TypeParam pool(p);
    for (std::size_t outputs : {0, 1, 2, 7}) {
      for (std::size_t pairs : {0, 1, 5, 300}) {
        for (std::size_t partitions : {0, 1, 4, 100}) {
          const auto map_outputs = random_outputs(outputs, pairs, rng);
          EXPECT_EQ(reduce_by_key<std::plus<>>(pool, map_outputs, partitions),
                    obvious_reduce(map_outputs, std::plus<>()))
              << "p=" << p << " outputs=" << outputs << " pairs=" << pairs
              << " partitions=" << partitions;
        }
      }
    }
  }
}

// String concatenation is associative but not commutative: the result shows the order in which
// the values of a key were combined.
TYPED_TEST(MapReduceOnPool, ValuesAreCombinedInMapOutputOrder) {
  std::mt19937_64 rng(2);
  std::vector<KeyValues<std::string, std::string>> map_outputs(9);
  for (std::size_t o = 0; o < map_outputs.size(); ++o) {
    for (int i = 0; i < 40; ++i) {
      map_outputs[o].emplace_back("key" + std::to_string(rng() % 6),
                                  std::to_string(o) + "." + std::to_string(i) + ";");
    }
  }
  const auto expected = obvious_reduce(map_outputs, std::plus<>());
  for (std::size_t p : {1, 2, 3}) {
    TypeParam pool(p);
    for (std::size_t partitions : {1, 2, 5}) {
      EXPECT_EQ(reduce_by_key<std::plus<>>(pool, map_outputs, partitions), expected)
          << "p=" << p << " partitions=" << partitions;
    }
  }
}

// An iterative job: one-dimensional k-means on integer points, where the serial controller
// loops map phases and reduce phases until the centroids stop moving, and begins with two map
// phases in a row (scale the points in place, then the first assignment) with no reduce between.
using Centroids = std::vector<std::int64_t>;
using SumCount = std::pair<std::int64_t, std::int64_t>;

struct AddSumCounts {
  SumCount operator()(SumCount a, SumCount b) const { return {a.first + b.first, a.second + b.second}; }
};

std::size_t nearest(const Centroids& centroids, std::int64_t point) {
  std::size_t best = 0;
  for (std::size_t c = 1; c < centroids.size(); ++c) {
    if (std::llabs(point - centroids[c]) < std::llabs(point - centroids[best])) best = c;
  }
  return best;
}

std::int64_t scale_range(RawSpan<std::int64_t> points, std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) points[i] *= 10;
  return 0;
}

KeyValues<std::size_t, SumCount> assign_range(RawSpan<std::int64_t> points, std::size_t begin,
                                              std::size_t end, Centroids centroids) {
  std::map<std::size_t, SumCount> local;  // the mapper combines its own pairs
  for (std::size_t i = begin; i < end; ++i) {
    SumCount& sum = local[nearest(centroids, points[i])];
    sum.first += points[i];
    sum.second += 1;
  }
  return {local.begin(), local.end()};
}

Centroids update(const Centroids& old, const KeyValues<std::size_t, SumCount>& sums) {
  Centroids next = old;
  for (const auto& [cluster, sum] : sums) next[cluster] = sum.first / sum.second;
  return next;
}

Centroids kmeans_serial(std::vector<std::int64_t> points, Centroids centroids) {
  for (auto& point : points) point *= 10;
  for (;;) {
    std::map<std::size_t, SumCount> sums;
    for (std::int64_t point : points) {
      SumCount& sum = sums[nearest(centroids, point)];
      sum.first += point;
      sum.second += 1;
    }
    const Centroids next = update(centroids, {sums.begin(), sums.end()});
    if (next == centroids) return centroids;
    centroids = next;
  }
}

TYPED_TEST(MapReduceOnPool, IterativeKMeansConvergesToTheSerialAnswer) {
  std::mt19937_64 rng(3);
  std::vector<std::int64_t> points;
  for (std::int64_t center : {-5000, 0, 7000}) {
    std::normal_distribution<double> spread(static_cast<double>(center), 800);
    for (int i = 0; i < 3000; ++i) points.push_back(static_cast<std::int64_t>(spread(rng)));
  }
  const Centroids start = {-1, 1, 2};
  const Centroids expected = kmeans_serial(points, start);

  TypeParam pool(3);
  RawArray<std::int64_t> shared(points.size());
  std::copy(points.begin(), points.end(), shared.span().data());
  std::vector<std::tuple<RawSpan<std::int64_t>, std::size_t, std::size_t>> ranges;
  for (std::size_t i = 0; i < 8; ++i) {
    ranges.emplace_back(shared.span(), points.size() * i / 8, points.size() * (i + 1) / 8);
  }
  pool.starmap(&scale_range, ranges);  // map phase 1: no reduce follows it
  Centroids centroids = start;
  int rounds = 0;
  for (;; ++rounds) {
    ASSERT_LT(rounds, 1000) << "k-means did not converge";
    std::vector<std::tuple<RawSpan<std::int64_t>, std::size_t, std::size_t, Centroids>> tasks;
    for (const auto& [span, begin, end] : ranges) tasks.emplace_back(span, begin, end, centroids);
    auto sums = reduce_by_key<AddSumCounts>(pool, pool.starmap(&assign_range, tasks));
    const Centroids next = update(centroids, sums);
    if (next == centroids) break;
    centroids = next;
  }
  EXPECT_EQ(centroids, expected);
  EXPECT_GT(rounds, 2);  // a real iteration, not a lucky start
}

}  // namespace
}  // namespace procpar
