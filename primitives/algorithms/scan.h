// Parallel prefix sums (the seed's "Scans"): functions that turn a serial scan into a parallel
// one over one contiguous piece per worker.
//
//   scan_two_pass<S>(pool, in, out, identity)          the seed's algorithm: serial scan S of
//       each piece, scan of the pieces' totals, a second pass adding each piece's offset.
//       Memory traffic 4n (read in, write out, read and write out again).
//   scan_reduce_then_scan<S>(pool, in, out, identity)  fold each piece, scan the p totals, then
//       one serial scan S of each piece starting from its offset. Memory traffic 3n.
//   scan_single_pass<S>(pool, in, out, identity)       reduce-then-scan per cache-sized block,
//       blocks claimed dynamically, each block's offset found by looking back at its
//       predecessors' published totals (single_pass.h): one round of the pool per call, and
//       the second read of a block hits the cache, so memory traffic is 2n (read in once,
//       write out once; where in and out together fill the last-level cache, out is written
//       with streaming stores, which skip reading each line before writing it). `out` must not
//       overlap `in`.
// In each pass the caller takes the first piece (in the single-pass scan, claims blocks) itself
// while the pool runs the others (run_pieces, partition.h).
//
// S is a serial scan type: InclusiveScan<Op> or ExclusiveScan<Op> (or one of your own with the
// same interface), which decides between inclusive (out[i] = in[0] op ... op in[i]) and
// exclusive (out[0] = identity, out[i] = in[0] op ... op in[i-1]) results. All three return
// the total in[0] op ... op in[n-1] (identity when empty). In the two-pass scans `out` may be
// `in` itself; any other overlap is a std::invalid_argument (one piece's task would write what
// another's still reads); scan_single_pass refuses any overlap.
//
// The operator runs up to twice as often as in a serial scan: two-pass applies it n times in
// the first pass and about n (p-1)/p times in the second; reduce-then-scan n times in each
// pass. With cheap operators on memory-bound inputs this costs little, but an expensive
// operator makes either parallel scan at most about p/2 times faster than the serial one.
// (On arithmetic types the serial scan itself spends 7 operations per 4 elements to shorten
// its dependency chain: see InclusiveScan.)
// scan_single_pass applies it about 2n times as well. The two-pass scans' pieces are the same
// in both passes and are not load-balanced; the single-pass scan's blocks are handed out to
// whichever worker is free.
//
// Same bits whatever the number of workers? scan_single_pass: yes, for every operator, floating
// point included: its blocks are fixed by n and sizeof(T) alone, and each block's offset is
// always combined left to right from the first block. The two-pass scans: only for exact
// operators (integers, ...): in floating point the grouping follows the piece boundaries,
// which move with p. Each out[i] stays within (i + 1) * eps * sum_{j<=i} |in[j]| of the exact
// prefix sum.
//
// On a ProcessPool `in` and `out` must live in RawArrays (shared_array.h).
#ifndef PROCPAR_PRIMITIVES_SCAN_H_
#define PROCPAR_PRIMITIVES_SCAN_H_

#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "primitives/partition.h"
#include "primitives/pool.h"
#include "primitives/reduce.h"
#include "primitives/shared_array.h"
#include "primitives/single_pass.h"

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

namespace scan_detail {

// Output too large for the last-level cache is better written with streaming (non-temporal)
// stores: an ordinary store first reads the line it writes (a third stream of memory traffic
// beside the input and the output), while a streaming store fills whole lines in write-combining
// buffers and sends them straight to memory. On the project's 2-core machine this made the
// single-pass scan of 2^25 doubles about 1.3 times faster; such an output is evicted before
// anyone reads it anyway. For an output that fits in the cache it would be slower: the reader
// would find it in memory instead of the cache.
struct StreamingStores {};
inline constexpr StreamingStores streaming_stores{};
#if defined(__x86_64__)
inline constexpr bool kHasStreamingStores = true;
#else
inline constexpr bool kHasStreamingStores = false;
#endif

// The size of the largest data cache (sysconf; 32 MiB where the system does not say), read once.
inline std::size_t last_level_cache_bytes() {
  static const std::size_t bytes = [] {
    for (const int level : {_SC_LEVEL4_CACHE_SIZE, _SC_LEVEL3_CACHE_SIZE, _SC_LEVEL2_CACHE_SIZE}) {
      const long size = sysconf(level);
      if (size > 0) return static_cast<std::size_t>(size);
    }
    return std::size_t{32} << 20;
  }();
  return bytes;
}

// Types a streaming store can write: 4 or 8 bytes, stored as one integer (movnti).
template <class T>
inline constexpr bool kStreamable =
    std::is_arithmetic_v<T> && (sizeof(T) == 4 || sizeof(T) == 8) && kHasStreamingStores;

template <bool kStream, class T>
inline void store(T* to, T value) {
  if constexpr (kStream) {
#if defined(__x86_64__)
    if constexpr (sizeof(T) == 8) {
      long long word;
      std::memcpy(&word, &value, sizeof word);
      _mm_stream_si64(reinterpret_cast<long long*>(to), word);
    } else {
      int word;
      std::memcpy(&word, &value, sizeof word);
      _mm_stream_si32(reinterpret_cast<int*>(to), word);
    }
#endif
  } else {
    *to = value;
  }
}

// The serial scan both InclusiveScan and ExclusiveScan are: they differ only in whether out[i]
// includes in[i]. For arithmetic types each block of kBlock elements is scanned locally first
// (its prefixes read in full before anything is written, so `out` may equal `in`). With kStream
// every store is a streaming one, fenced before returning so that whoever is told the scan is
// done (a release store, a pipe) sees the output.
template <class Op, bool kInclusive, bool kStream = false, class T>
T serial_scan(const T* in, std::size_t n, T* out, T init) {
  static_assert(!kStream || kStreamable<T>);
  const Op op{};
  T acc = init;
  std::size_t i = 0;
  if constexpr (kBlockedScan<T>) {
    constexpr std::size_t k = kBlock;
    for (; i + k <= n; i += k) {
      T local[k];
      local[0] = in[i];
      for (std::size_t j = 1; j < k; ++j) local[j] = op(local[j - 1], in[i + j]);
      if constexpr (kInclusive) {
        for (std::size_t j = 0; j < k; ++j) store<kStream>(out + i + j, op(acc, local[j]));
      } else {
        store<kStream>(out + i, acc);
        for (std::size_t j = 1; j < k; ++j) store<kStream>(out + i + j, op(acc, local[j - 1]));
      }
      acc = op(acc, local[k - 1]);
    }
  }
  for (; i < n; ++i) {
    const T next = op(acc, in[i]);
    store<kStream>(out + i, kInclusive ? next : acc);
    acc = next;
  }
#if defined(__x86_64__)
  if constexpr (kStream) _mm_sfence();
#endif
  return acc;
}

}  // namespace scan_detail

// Serial inclusive scan: out[i] = init op in[0] op ... op in[i]; returns init op (all of in).
// `out` may equal `in`.
template <class Op>
struct InclusiveScan {
  using op_type = Op;
  template <class T>
  T operator()(const T* in, std::size_t n, T* out, T init) const {
    return scan_detail::serial_scan<Op, true>(in, n, out, init);
  }
  // The same with streaming stores (see StreamingStores), for arithmetic types of 4 or 8 bytes.
  template <class T>
    requires scan_detail::kStreamable<T>
  T operator()(const T* in, std::size_t n, T* out, T init, scan_detail::StreamingStores) const {
    return scan_detail::serial_scan<Op, true, true>(in, n, out, init);
  }
};

// Serial exclusive scan: out[i] = init op in[0] op ... op in[i-1] (out[0] = init); returns
// init op (all of in). `out` may equal `in`.
template <class Op>
struct ExclusiveScan {
  using op_type = Op;
  template <class T>
  T operator()(const T* in, std::size_t n, T* out, T init) const {
    return scan_detail::serial_scan<Op, false>(in, n, out, init);
  }
  template <class T>
    requires scan_detail::kStreamable<T>
  T operator()(const T* in, std::size_t n, T* out, T init, scan_detail::StreamingStores) const {
    return scan_detail::serial_scan<Op, false, true>(in, n, out, init);
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

// The matching pieces of `in` and `out`, one per worker (none when empty), after the checks
// the two-pass scans share. In place is right for them (each piece reads an element before
// writing it); a shifted overlap is not.
template <class T>
struct Pieces {
  std::vector<RawSpan<T>> in;
  std::vector<RawSpan<T>> out;
};

template <Pool P, class T>
Pieces<T> two_pass_pieces(P& pool, RawSpan<T> in, RawSpan<T> out, const char* caller) {
  check_lengths(in, out, caller);
  if (overlap(in, out) && in.data() != out.data()) {
    throw std::invalid_argument(std::string(caller) +
                                ": the output overlaps the input without being the input");
  }
  const std::size_t workers = checked_workers(pool, caller);
  if (in.empty()) return {};
  const std::vector<std::size_t> bounds = partition_bounds(in.size(), workers);
  return {split(in, bounds), split(out, bounds)};
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
  const scan_detail::Pieces<T> pieces =
      scan_detail::two_pass_pieces(pool, in, out, "scan_two_pass");
  if (pieces.in.empty()) return identity;
  const std::vector<RawSpan<T>>& in_pieces = pieces.in;
  const std::vector<RawSpan<T>>& out_pieces = pieces.out;
  const std::size_t parts = in_pieces.size();
  std::vector<std::tuple<RawSpan<T>, RawSpan<T>, T>> first;
  for (std::size_t i = 0; i < parts; ++i) first.emplace_back(in_pieces[i], out_pieces[i], identity);
  const std::vector<T> totals = run_pieces(pool, &scan_detail::scan_piece<S, T>, first);
  const std::vector<T> offsets = scan_detail::exclusive_offsets<Op>(totals, identity);
  if (parts > 1) {
    std::vector<std::tuple<RawSpan<T>, T>> second;
    for (std::size_t i = 1; i < parts; ++i) second.emplace_back(out_pieces[i], offsets[i]);
    run_pieces(pool, &scan_detail::add_offset<Op, T>, second);
  }
  return Op{}(offsets.back(), totals.back());
}

// Reduce-then-scan: fold each of min(p, n) pieces, scan the totals in the caller, then S on
// each piece from its offset. Reads `in` twice and writes `out` once.
template <class S, Pool P, class T>
  requires SerialScan<S, T>
T scan_reduce_then_scan(P& pool, RawSpan<T> in, RawSpan<T> out, T identity) {
  using Op = typename S::op_type;
  const scan_detail::Pieces<T> pieces =
      scan_detail::two_pass_pieces(pool, in, out, "scan_reduce_then_scan");
  if (pieces.in.empty()) return identity;
  const std::vector<RawSpan<T>>& in_pieces = pieces.in;
  const std::vector<RawSpan<T>>& out_pieces = pieces.out;
  std::vector<std::tuple<RawSpan<T>>> folds;
  for (const RawSpan<T>& piece : in_pieces) folds.emplace_back(piece);
  const std::vector<T> totals = run_pieces(pool, &reduce_detail::fold_piece<Op, T>, folds);
  const std::vector<T> offsets = scan_detail::exclusive_offsets<Op>(totals, identity);
  std::vector<std::tuple<RawSpan<T>, RawSpan<T>, T>> second;
  for (std::size_t i = 0; i < in_pieces.size(); ++i) {
    second.emplace_back(in_pieces[i], out_pieces[i], offsets[i]);
  }
  run_pieces(pool, &scan_detail::scan_piece<S, T>, second);
  return Op{}(offsets.back(), totals.back());
}

namespace scan_detail {

// scan_single_pass's kernel (single_pass.h): a block's summary is its fold, and it is finished
// by the serial scan S from its prefix.
template <class S, class T>
struct ScanKernel {
  using Summary = T;
  RawSpan<T> in;
  RawSpan<T> out;
  T identity_value;

  struct Bound {
    const T* in;
    T* out;
    T fold(std::size_t begin, std::size_t end) const {
      return procpar::fold<typename S::op_type>(in + begin, end - begin);
    }
    T combine(const T& a, const T& b) const { return typename S::op_type{}(a, b); }
    void finish(std::size_t begin, std::size_t end, const T& prefix, const T&) const {
      if constexpr (kCanStream) {
        if (stream) {
          S{}(in + begin, end - begin, out + begin, prefix, streaming_stores);
          return;
        }
      }
      S{}(in + begin, end - begin, out + begin, prefix);
    }
    bool stream;
  };
  static constexpr bool kCanStream = requires(const T* i, T* o, T v) {
    S{}(i, std::size_t{}, o, v, streaming_stores);
  };

  std::size_t size() const { return in.size(); }
  std::size_t bytes_per_element() const { return 2 * sizeof(T); }
  T identity() const { return identity_value; }
  // Streaming stores once the input and the output together fill the last-level cache: measured
  // at p = 2 on the project's machine, 1.2-1.4 times faster from 2^21 doubles up (2^21: 1.30
  // against 1.63 ms, 2^25: 25 against 34 ms), no different at 2^20.
  Bound bind() const {
    return Bound{in.data(), out.data(), 2 * out.size() * sizeof(T) >= last_level_cache_bytes()};
  }
};

template <class S, class T>
ScanKernel<S, T> checked_single_pass_kernel(RawSpan<T> in, RawSpan<T> out, T identity) {
  check_lengths(in, out, "scan_single_pass");
  if (overlap(in, out)) {
    // A slow worker's block may be folded again by another worker while the slow one scans it:
    // the input must stay intact until every block is done.
    throw std::invalid_argument(
        "scan_single_pass: out overlaps in (scan in place with scan_reduce_then_scan)");
  }
  return ScanKernel<S, T>{in, out, identity};
}

}  // namespace scan_detail

// The single-pass scan (single_pass.h): blocks of up to 128 KiB of input claimed by the caller
// and min(p, blocks) - 1 tasks, each block folded, given its offset from its predecessors'
// published totals, and scanned while still in cache; one round of the pool per call. Reads
// `in` from memory once and writes `out` once; the bookkeeping is one cache line per block,
// leased from the process's scratch cache (scratch_array.h). `out` must not overlap `in`
// (std::invalid_argument): use scan_reduce_then_scan in place.
template <class S, Pool P, class T>
  requires SerialScan<S, T>
T scan_single_pass(P& pool, RawSpan<T> in, RawSpan<T> out, T identity) {
  return single_pass(pool, scan_detail::checked_single_pass_kernel<S>(in, out, identity),
                     "scan_single_pass");
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_SCAN_H_
