// Parallel prefix sums (the seed's "Scans"): functions that turn a serial scan into a parallel
// one over one contiguous piece per worker.
//
//   scan_two_pass<S>(pool, in, out, identity)          the seed's algorithm: serial scan S of
//       each piece, scan of the pieces' totals, a second pass adding each piece's offset.
//       Memory traffic 4n (read in, write out, read and write out again).
//   scan_reduce_then_scan<S>(pool, in, out, identity)  fold each piece, scan the p totals, then
//       one serial scan S of each piece starting from its offset. Memory traffic 3n.
//
// S is a serial scan type: InclusiveScan<Op> or ExclusiveScan<Op> (or one of your own with the
// same interface), which decides between inclusive (out[i] = in[0] op ... op in[i]) and
// exclusive (out[0] = identity, out[i] = in[0] op ... op in[i-1]) results. Both functions
// return the total in[0] op ... op in[n-1] (identity when empty). `out` may be `in` itself.
//
// The operator runs up to twice as often as in a serial scan: two-pass applies it n times in
// the first pass and about n (p-1)/p times in the second; reduce-then-scan n times in each
// pass. With cheap operators on memory-bound inputs this costs little, but an expensive
// operator makes either parallel scan at most about p/2 times faster than the serial one.
// (On arithmetic types the serial scan itself spends 7 operations per 4 elements to shorten
// its dependency chain: see InclusiveScan.)
// Pieces are the same in both passes and are not load-balanced.
//
// Same bits whatever the number of workers? Only for exact operators (integers, ...): in
// floating point the grouping follows the piece boundaries, which move with p. Each out[i]
// stays within (i + 1) * eps * sum_{j<=i} |in[j]| of the exact prefix sum.
//
// On a ProcessPool `in` and `out` must live in RawArrays (shared_array.h).
#ifndef PROCPAR_PRIMITIVES_SCAN_H_
#define PROCPAR_PRIMITIVES_SCAN_H_

#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "primitives/partition.h"
#include "primitives/pool.h"
#include "primitives/reduce.h"
#include "primitives/shared_array.h"

namespace procpar {

namespace scan_detail {

// A serial scan of an arithmetic type is bound by the operator's latency: each element waits
// for the previous result. Scanning blocks of kBlock elements locally first leaves one
// dependent operation per block on the chain; it costs 2 - 1/kBlock operations per element
// instead of 1 and runs 2.5 times faster on doubles in cache, 1.3 times from memory (measured
// on the project's 2-core machine, gcc 12). Other types (a matrix product, say) are bound by
// the operator's throughput, so they keep the plain loop.
inline constexpr std::size_t kBlock = 4;
template <class T>
inline constexpr bool kBlockedScan = std::is_arithmetic_v<T>;

}  // namespace scan_detail

// Serial inclusive scan: out[i] = init op in[0] op ... op in[i]; returns init op (all of in).
// `out` may equal `in`.
template <class Op>
struct InclusiveScan {
  using op_type = Op;
  template <class T>
  T operator()(const T* in, std::size_t n, T* out, T init) const {
    const Op op{};
    T acc = init;
    std::size_t i = 0;
    if constexpr (scan_detail::kBlockedScan<T>) {
      constexpr std::size_t k = scan_detail::kBlock;
      for (; i + k <= n; i += k) {
        T local[k];  // the block's own prefixes, read in full before anything is written
        local[0] = in[i];
        for (std::size_t j = 1; j < k; ++j) local[j] = op(local[j - 1], in[i + j]);
        for (std::size_t j = 0; j < k; ++j) out[i + j] = op(acc, local[j]);
        acc = out[i + k - 1];
      }
    }
    for (; i < n; ++i) {
      acc = op(acc, in[i]);
      out[i] = acc;
    }
    return acc;
  }
};

// Serial exclusive scan: out[i] = init op in[0] op ... op in[i-1] (out[0] = init); returns
// init op (all of in). `out` may equal `in`.
template <class Op>
struct ExclusiveScan {
  using op_type = Op;
  template <class T>
  T operator()(const T* in, std::size_t n, T* out, T init) const {
    const Op op{};
    T acc = init;
    std::size_t i = 0;
    if constexpr (scan_detail::kBlockedScan<T>) {
      constexpr std::size_t k = scan_detail::kBlock;
      for (; i + k <= n; i += k) {
        T local[k];
        local[0] = in[i];
        for (std::size_t j = 1; j < k; ++j) local[j] = op(local[j - 1], in[i + j]);
        out[i] = acc;
        for (std::size_t j = 1; j < k; ++j) out[i + j] = op(acc, local[j - 1]);
        acc = op(acc, local[k - 1]);
      }
    }
    for (; i < n; ++i) {
      const T x = in[i];
      out[i] = acc;
      acc = op(acc, x);
    }
    return acc;
  }
};

// A serial scan usable by the parallel ones: names its operator and scans n elements from an
// initial value, returning the total.
template <class S, class T>
concept SerialScan = AssociativeOperator<typename S::op_type, T> && std::default_initializable<S> &&
                     requires(const S& scan, const T* in, T* out, std::size_t n, T init) {
                       { scan(in, n, out, init) } -> std::convertible_to<T>;
                     };

namespace scan_detail {

template <class T>
void check_lengths(RawSpan<T> in, RawSpan<T> out, const char* caller) {
  if (in.size() != out.size()) {
    throw std::invalid_argument(std::string(caller) + ": input has " + std::to_string(in.size()) +
                                " elements but output has " + std::to_string(out.size()));
  }
}

template <class S, class T>
T scan_piece(RawSpan<T> in, RawSpan<T> out, T init) {
  return S{}(in.data(), in.size(), out.data(), init);
}

// out[i] = offset op out[i]: the second pass of the two-pass scan.
template <class Op, class T>
void add_offset(RawSpan<T> out, T offset) {
  const Op op{};
  T* data = out.data();
  const std::size_t n = out.size();
  for (std::size_t i = 0; i < n; ++i) data[i] = op(offset, data[i]);
}

// The pieces' offsets: offsets[i] = identity op totals[0] op ... op totals[i-1].
template <class Op, class T>
std::vector<T> exclusive_offsets(const std::vector<T>& totals, T identity) {
  std::vector<T> offsets(totals.size(), identity);
  ExclusiveScan<Op>{}(totals.data(), totals.size(), offsets.data(), identity);
  return offsets;
}

}  // namespace scan_detail

// The seed's two-pass scan: S on each of min(p, n) pieces from `identity`, the pieces' totals
// scanned in the caller, then every piece after the first gets its offset added.
template <class S, Pool P, class T>
  requires SerialScan<S, T>
T scan_two_pass(P& pool, RawSpan<T> in, RawSpan<T> out, T identity) {
  using Op = typename S::op_type;
  scan_detail::check_lengths(in, out, "scan_two_pass");
  const std::size_t workers = checked_workers(pool, "scan_two_pass");
  const std::size_t n = in.size();
  if (n == 0) return identity;
  const std::vector<std::size_t> bounds = partition_bounds(n, workers);
  const std::vector<RawSpan<T>> in_pieces = split(in, bounds);
  const std::vector<RawSpan<T>> out_pieces = split(out, bounds);
  const std::size_t parts = in_pieces.size();
  std::vector<std::tuple<RawSpan<T>, RawSpan<T>, T>> first;
  for (std::size_t i = 0; i < parts; ++i) first.emplace_back(in_pieces[i], out_pieces[i], identity);
  const std::vector<T> totals = pool.starmap(&scan_detail::scan_piece<S, T>, first, 1);
  const std::vector<T> offsets = scan_detail::exclusive_offsets<Op>(totals, identity);
  if (parts > 1) {
    std::vector<std::tuple<RawSpan<T>, T>> second;
    for (std::size_t i = 1; i < parts; ++i) second.emplace_back(out_pieces[i], offsets[i]);
    pool.starmap(&scan_detail::add_offset<Op, T>, second, 1);
  }
  return Op{}(offsets.back(), totals.back());
}

// Reduce-then-scan: fold each of min(p, n) pieces, scan the totals in the caller, then S on
// each piece from its offset. Reads `in` twice and writes `out` once.
template <class S, Pool P, class T>
  requires SerialScan<S, T>
T scan_reduce_then_scan(P& pool, RawSpan<T> in, RawSpan<T> out, T identity) {
  using Op = typename S::op_type;
  scan_detail::check_lengths(in, out, "scan_reduce_then_scan");
  const std::size_t workers = checked_workers(pool, "scan_reduce_then_scan");
  const std::size_t n = in.size();
  if (n == 0) return identity;
  const std::vector<std::size_t> bounds = partition_bounds(n, workers);
  const std::vector<RawSpan<T>> in_pieces = split(in, bounds);
  const std::vector<RawSpan<T>> out_pieces = split(out, bounds);
  const std::vector<T> totals = pool.map(&reduce_detail::fold_piece<Op, T>, in_pieces, 1);
  const std::vector<T> offsets = scan_detail::exclusive_offsets<Op>(totals, identity);
  std::vector<std::tuple<RawSpan<T>, RawSpan<T>, T>> second;
  for (std::size_t i = 0; i < in_pieces.size(); ++i) {
    second.emplace_back(in_pieces[i], out_pieces[i], offsets[i]);
  }
  pool.starmap(&scan_detail::scan_piece<S, T>, second, 1);
  return Op{}(offsets.back(), totals.back());
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_SCAN_H_
