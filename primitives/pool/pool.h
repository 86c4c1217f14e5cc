// The pool interface that every algorithm of this library is written against.
//
// ProcessPool, ThreadPool and SerialPool all model `Pool` (transport/pool_concept_test.cc
// checks it at compile time): an algorithm takes a pool as a template parameter and never asks
// which kind it got (see docs/design.md).
#ifndef PROCPAR_PRIMITIVES_POOL_H_
#define PROCPAR_PRIMITIVES_POOL_H_

#include <concepts>
#include <cstddef>
#include <tuple>
#include <vector>

#include "primitives/callbacks.h"

namespace procpar {

// Python's default chunk size for Pool.map: ceil(n / (4 * workers)), and at least 1.
// Four chunks per worker balance load while keeping the number of messages small.
constexpr std::size_t default_chunksize(std::size_t n, std::size_t workers) {
  const std::size_t parts = 4 * (workers == 0 ? 1 : workers);
  const std::size_t chunk = (n + parts - 1) / parts;
  return chunk == 0 ? 1 : chunk;
}

namespace pool_detail {
inline int probe_task(int x) { return x; }
inline int probe_pair(int a, int b) { return a + b; }
}  // namespace pool_detail

// Everything the algorithms and a user may rely on of a pool: the interface of docs/design.md,
// probed with a plain function over ints (and pairs of ints for starmap). The algorithms are
// constrained by it, so a new backend that models Pool runs every primitive unchanged.
template <class P>
concept Pool = requires(P& pool, const std::vector<int>& items,
                        const std::vector<std::tuple<int, int>>& pairs, std::size_t chunksize) {
  { pool.workers() } -> std::convertible_to<std::size_t>;

  { pool.apply(&pool_detail::probe_task, 1) } -> std::same_as<int>;
  { pool.apply_async(&pool_detail::probe_task, 1).get() } -> std::convertible_to<int>;
  { pool.apply_async(Callbacks<int>{}, &pool_detail::probe_task, 1).get() }
      -> std::convertible_to<int>;

  { pool.map(&pool_detail::probe_task, items, chunksize) } -> std::same_as<std::vector<int>>;
  { pool.map_async(&pool_detail::probe_task, items, chunksize).get() }
      -> std::convertible_to<const std::vector<int>&>;
  { pool.map_async(Callbacks<std::vector<int>>{}, &pool_detail::probe_task, items, chunksize)
        .get() } -> std::convertible_to<const std::vector<int>&>;

  { pool.starmap(&pool_detail::probe_pair, pairs, chunksize) } -> std::same_as<std::vector<int>>;
  { pool.starmap_async(&pool_detail::probe_pair, pairs, chunksize).get() }
      -> std::convertible_to<const std::vector<int>&>;
  { pool.starmap_async(Callbacks<std::vector<int>>{}, &pool_detail::probe_pair, pairs,
                       chunksize)
        .get() } -> std::convertible_to<const std::vector<int>&>;

  { *pool.imap(&pool_detail::probe_task, items, chunksize).begin() }
      -> std::convertible_to<const int&>;
  { pool.imap(&pool_detail::probe_task, items, chunksize).end() };
  { *pool.imap_unordered(&pool_detail::probe_task, items, chunksize).begin() }
      -> std::convertible_to<const int&>;

  pool.close();
  pool.join();
  pool.terminate();
};

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_POOL_H_
