// The pool interface that every algorithm of this library is written against.
//
// ProcessPool, ThreadPool and SerialPool all model `Pool`: an algorithm takes a pool as a
// template parameter and never asks which kind it got (see docs/design.md).
#ifndef PROCPAR_PRIMITIVES_POOL_H_
#define PROCPAR_PRIMITIVES_POOL_H_

#include <concepts>
#include <cstddef>
#include <vector>

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
}  // namespace pool_detail

// What the algorithms use of a pool: its number of workers and a blocking map of a plain
// function over a vector of arguments (apply_async and AsyncResult follow the same contract).
template <class P>
concept Pool = requires(P& pool, const std::vector<int>& items) {
  { pool.workers() } -> std::convertible_to<std::size_t>;
  { pool.map(&pool_detail::probe_task, items, std::size_t{1}) } -> std::same_as<std::vector<int>>;
};

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_POOL_H_
