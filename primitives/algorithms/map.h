// Parallel map (the seed's "Map"): apply a function to every element, in chunks that the pool
// hands out dynamically.
//
//   map<F>(pool, in, out, chunksize)     out[i] = F{}(in[i])
//   tabulate<F>(pool, out, chunksize)    out[i] = F{}(i)       (a map over the index range)
//
// F is a stateless function-object type (a user struct, or decltype of a captureless lambda),
// named as a template argument so that it is inlined into the chunk's loop and the task sent to
// the pool is a plain function pointer.
//
// A chunk is `chunksize` consecutive elements and one pool task (one message each way on a
// ProcessPool): a worker takes the next chunk when it is free. chunksize == 0 means the pool's
// default, ceil(n / (4 p)) (default_chunksize in pool.h). Small chunks balance uneven work but
// pay the scheduler's per-task cost (microseconds on a ProcessPool) once per chunk; the seed
// found about log2(n) a good chunk (experiments/map_chunksize.cc measures it).
//
// `out` may be `in` itself (each element is read before it is written); any other overlap of
// `out` with `in` is a std::invalid_argument (a chunk would overwrite elements another chunk
// has yet to read).
//
// Results are the same whatever the number of workers and the chunk size. On a ProcessPool
// `in` and `out` must live in RawArrays (shared_array.h): tasks carry views and index ranges.
#ifndef PROCPAR_PRIMITIVES_MAP_H_
#define PROCPAR_PRIMITIVES_MAP_H_

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "primitives/pool.h"
#include "primitives/partition.h"
#include "primitives/shared_array.h"

namespace procpar {
namespace map_detail {

template <class F>
constexpr void check_function() {
  static_assert(std::default_initializable<F> && std::is_empty_v<F>,
                "map/tabulate: F must be a stateless function-object type (a struct or the type "
                "of a captureless lambda)");
}

template <class F, class T, class U>
void map_chunk(RawSpan<T> in, RawSpan<U> out) {
  const F f{};
  const T* source = in.data();
  U* target = out.data();
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n; ++i) target[i] = f(source[i]);
}

template <class F, class U>
void tabulate_chunk(RawSpan<U> out, std::size_t first_index) {
  const F f{};
  U* target = out.data();
  const std::size_t n = out.size();
  for (std::size_t i = 0; i < n; ++i) target[i] = f(first_index + i);
}

// The chunks' bounds: [0, c), [c, 2c), ..., the last one possibly shorter.
inline std::vector<std::size_t> chunk_starts(std::size_t n, std::size_t chunksize) {
  std::vector<std::size_t> starts;
  starts.reserve(n / chunksize + 1);
  for (std::size_t start = 0; start < n; start += chunksize) starts.push_back(start);
  return starts;
}

}  // namespace map_detail

template <class F, Pool P, class T, class U>
  requires std::convertible_to<std::invoke_result_t<const F&, const T&>, U>
void map(P& pool, RawSpan<T> in, RawSpan<U> out, std::size_t chunksize = 0) {
  map_detail::check_function<F>();
  if (in.size() != out.size()) {
    throw std::invalid_argument("map: input has " + std::to_string(in.size()) +
                                " elements but output has " + std::to_string(out.size()));
  }
  if constexpr (std::is_same_v<T, U>) {
    if (overlap(in, out) && in.data() != out.data()) {
      throw std::invalid_argument("map: the output overlaps the input without being the input");
    }
  }
  const std::size_t workers = checked_workers(pool, "map");
  const std::size_t n = in.size();
  if (chunksize == 0) chunksize = default_chunksize(n, workers);
  std::vector<std::tuple<RawSpan<T>, RawSpan<U>>> chunks;
  for (const std::size_t start : map_detail::chunk_starts(n, chunksize)) {
    const std::size_t size = std::min(chunksize, n - start);
    chunks.emplace_back(in.subspan(start, size), out.subspan(start, size));
  }
  pool.starmap(&map_detail::map_chunk<F, T, U>, chunks, 1);
}

template <class F, Pool P, class U>
  requires std::convertible_to<std::invoke_result_t<const F&, std::size_t>, U>
void tabulate(P& pool, RawSpan<U> out, std::size_t chunksize = 0) {
  map_detail::check_function<F>();
  const std::size_t workers = checked_workers(pool, "tabulate");
  const std::size_t n = out.size();
  if (chunksize == 0) chunksize = default_chunksize(n, workers);
  std::vector<std::tuple<RawSpan<U>, std::size_t>> chunks;
  for (const std::size_t start : map_detail::chunk_starts(n, chunksize)) {
    chunks.emplace_back(out.subspan(start, std::min(chunksize, n - start)), start);
  }
  pool.starmap(&map_detail::tabulate_chunk<F, U>, chunks, 1);
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_MAP_H_
