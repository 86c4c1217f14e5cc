// How the primitives split work among a pool's workers: one contiguous piece per worker.
#ifndef PROCPAR_PRIMITIVES_PARTITION_H_
#define PROCPAR_PRIMITIVES_PARTITION_H_

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "primitives/pool.h"
#include "primitives/shared_array.h"

namespace procpar {

// The number of workers of `pool`; a pool without any could run nothing, so it is an error
// that names the primitive (`caller`).
template <Pool P>
std::size_t checked_workers(const P& pool, const char* caller) {
  const std::size_t workers = pool.workers();
  if (workers == 0) throw std::invalid_argument(std::string(caller) + ": the pool has no workers");
  return workers;
}

// Boundaries of min(parts, n) contiguous pieces of [0, n): piece i is [bounds[i], bounds[i+1]),
// bounds[i] = i n / pieces, so piece sizes differ by at most one and none is empty.
// Empty for n == 0.
inline std::vector<std::size_t> partition_bounds(std::size_t n, std::size_t parts) {
  if (parts == 0) throw std::invalid_argument("partition_bounds: zero parts");
  if (n == 0) return {};
  const std::size_t pieces = std::min(parts, n);
  std::vector<std::size_t> bounds(pieces + 1);
  for (std::size_t i = 0; i <= pieces; ++i) {
    bounds[i] = static_cast<std::size_t>(static_cast<unsigned __int128>(n) * i / pieces);
  }
  return bounds;
}

// The pieces of `span` for the bounds above.
template <class T>
std::vector<RawSpan<T>> split(RawSpan<T> span, const std::vector<std::size_t>& bounds) {
  std::vector<RawSpan<T>> pieces;
  pieces.reserve(bounds.size());
  for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
    pieces.push_back(span.subspan(bounds[i], bounds[i + 1] - bounds[i]));
  }
  return pieces;
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_PARTITION_H_
