// How the primitives split work among a pool's workers: one contiguous piece per worker.
#ifndef PROCPAR_PRIMITIVES_PARTITION_H_
#define PROCPAR_PRIMITIVES_PARTITION_H_

#include <algorithm>
#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
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

// run_pieces_with(pool, f, pieces, mine): at least two pieces; the calling thread runs
// mine(pieces[0]...) while the pool runs f on each other piece, one task each. Returns
// {mine's result, the others' results in order} (for a void f, mine's result alone) only once
// every piece has finished, so no task still reads the caller's data; an error of mine is its
// own exception, the others' arrive as the pool reports them. For a caller that keeps its own
// piece's result in the form the tasks' results are merged into (a word counter, say) rather
// than as one more of them.
template <Pool P, class R, class... Args, class Mine>
auto run_pieces_with(P& pool, R (*f)(Args...), const std::vector<std::tuple<Args...>>& pieces,
                     Mine&& mine) {
  if (pieces.size() < 2) {
    throw std::invalid_argument("run_pieces_with: needs at least two pieces, got " +
                                std::to_string(pieces.size()));
  }
  using Result = decltype(pool.apply_async(f, std::declval<Args>()...));
  std::vector<Result> others;
  others.reserve(pieces.size() - 1);
  for (std::size_t i = 1; i < pieces.size(); ++i) {
    others.push_back(std::apply(
        [&](const Args&... args) { return pool.apply_async(f, args...); }, pieces[i]));
  }
  const auto wait_all = [&others] {
    for (const Result& result : others) result.wait();
  };
  using Own = std::decay_t<decltype(std::apply(mine, pieces[0]))>;
  std::optional<Own> own;
  try {
    own.emplace(std::apply(mine, pieces[0]));
  } catch (...) {
    wait_all();
    throw;
  }
  wait_all();
  if constexpr (std::is_void_v<R>) {
    for (const Result& result : others) result.get();
    return std::move(*own);
  } else {
    std::vector<R> results;
    results.reserve(others.size());
    for (const Result& result : others) results.push_back(result.get());
    return std::pair<Own, std::vector<R>>(std::move(*own), std::move(results));
  }
}

// f(pieces[i]...) for every piece, the results in order (none for a void f). With two pieces
// or more, the calling thread runs piece 0 itself while the pool runs the others, one task
// each (run_pieces_with): the caller would otherwise sit idle for the round trip, and a pool
// with one worker spinning for work needs no wake-up of a sleeping one (p pieces keep p cores
// busy: the caller and p - 1 workers). A single piece goes to the pool. Returns, or throws the
// first error, only once every piece has finished.
// Results are those of running each piece anywhere, so the bits do not depend on who ran it.
template <Pool P, class R, class... Args>
auto run_pieces(P& pool, R (*f)(Args...), const std::vector<std::tuple<Args...>>& pieces) {
  const auto in_pool = [&pool, f](const Args&... args) { return pool.apply(f, args...); };
  if constexpr (std::is_void_v<R>) {
    if (pieces.size() == 1) std::apply(in_pool, pieces[0]);
    if (pieces.size() < 2) return;
    run_pieces_with(pool, f, pieces, [f](const Args&... args) {
      f(args...);
      return 0;  // void has no value to keep
    });
  } else {
    std::vector<R> results;
    if (pieces.size() == 1) results.push_back(std::apply(in_pool, pieces[0]));
    if (pieces.size() < 2) return results;
    auto [own, others] = run_pieces_with(pool, f, pieces, f);
    results.reserve(pieces.size());
    results.push_back(std::move(own));
    for (R& result : others) results.push_back(std::move(result));
    return results;
  }
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_PARTITION_H_
