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
//       predecessors' published totals: the second read of a block hits the cache, so memory
//       traffic is 2n (read in once, write out once). `out` must not overlap `in`.
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

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "primitives/partition.h"
#include "primitives/pool.h"
#include "primitives/reduce.h"
#include "primitives/scratch_array.h"
#include "primitives/shared_array.h"
#include "primitives/wait.h"

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

// The serial scan both InclusiveScan and ExclusiveScan are: they differ only in whether out[i]
// includes in[i]. For arithmetic types each block of kBlock elements is scanned locally first
// (its prefixes read in full before anything is written, so `out` may equal `in`).
template <class Op, bool kInclusive, class T>
T serial_scan(const T* in, std::size_t n, T* out, T init) {
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
        for (std::size_t j = 0; j < k; ++j) out[i + j] = op(acc, local[j]);
      } else {
        out[i] = acc;
        for (std::size_t j = 1; j < k; ++j) out[i + j] = op(acc, local[j - 1]);
      }
      acc = op(acc, local[k - 1]);
    }
  }
  for (; i < n; ++i) {
    const T next = op(acc, in[i]);
    out[i] = kInclusive ? next : acc;
    acc = next;
  }
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

// The single-pass scan's block: its input is read twice (fold, then scan) and should still be
// in the core's own cache the second time, together with the block of output being written:
// 128 KiB of each fits any L2 of the project's machines (1-2 MiB per core). Smaller blocks
// lose to the per-block bookkeeping (a shared counter, a few flags) and to the prefetcher's
// restarts. Time relative to oneTBB's parallel_scan, 2^25 doubles, p = 2, on the 2-core Xeon
// (2 MiB L2), medians of 9 (scratch runs): 16 KiB blocks 1.09, 32 KiB 0.94, 64 KiB 0.89,
// 128 KiB 0.86, 256 KiB 0.86.
inline constexpr std::size_t kSinglePassBlockBytes = std::size_t{128} << 10;

template <class T>
constexpr std::size_t single_pass_block() {
  return std::max<std::size_t>(1, kSinglePassBlockBytes / sizeof(T));
}

// What a block has published: nothing yet, its aggregate (the fold of the block), or its
// aggregate and its prefix (identity op the aggregates of all blocks before it).
enum BlockState : std::uint64_t { kNothing = 0, kAggregate = 1, kPrefix = 2 };

// One block's entry in the shared board. Entry 0's `state` is not a block's: it is the counter
// from which the workers claim blocks (so that one shared array per call holds everything);
// block b's entry is b + 1.
template <class T>
struct BoardEntry {
  std::uint64_t state;
  T aggregate;
  T prefix;
};

template <class T>
struct SinglePassJob {
  RawSpan<T> in;
  RawSpan<T> out;
  RawSpan<BoardEntry<T>> board;
  std::size_t block;  // elements per block
  T identity;
};

// A worker's part of scan_single_pass: claims block after block until none is left; for each,
// folds it and publishes the aggregate, finds its prefix, publishes it, and scans the block from
// it. The prefix is prefix(j) op aggregate(j) op ... op aggregate(b-1) from the nearest block j
// before b that has published its prefix (block 0's prefix is the identity). A block in between
// that has not published its aggregate yet is waited for at most as long as this worker's own
// fold took (its worker claimed it earlier, so it is usually about to finish: workers that fold
// side by side would otherwise fold each other's blocks twice), then folded again here: no
// worker waits for another longer than that, so a slow, descheduled or dead worker costs at most
// a second fold of its block; a dead one fails its own task (the pool reports it) and cannot
// hang the rest. The combination is always left to right from block 0, so every block's prefix
// has the same bits whoever computes it.
// Returns the number of blocks this task scanned.
template <class S, class T>
std::size_t scan_blocks(SinglePassJob<T> job) {
  using Op = typename S::op_type;
  const Op op{};
  const T* in = job.in.data();
  T* out = job.out.data();
  BoardEntry<T>* board = job.board.data();
  const std::size_t n = job.in.size();
  const std::size_t blocks = job.board.size() - 1;
  const auto state = [board](std::size_t b) { return std::atomic_ref(board[b + 1].state); };
  const auto length = [&](std::size_t b) { return std::min(job.block, n - b * job.block); };
  const auto fold_block = [&](std::size_t b) { return fold<Op>(in + b * job.block, length(b)); };
  std::size_t scanned = 0;
  for (;;) {
    const std::size_t b = std::atomic_ref(board[0].state).fetch_add(1, std::memory_order_relaxed);
    if (b >= blocks) return scanned;
    const auto fold_start = wait_detail::Clock::now();
    board[b + 1].aggregate = fold_block(b);
    state(b).store(kAggregate, std::memory_order_release);
    const auto fold_time = wait_detail::Clock::now() - fold_start;

    std::size_t from = 0;
    T prefix = job.identity;
    for (std::size_t j = b; j-- > 0;) {
      if (state(j).load(std::memory_order_acquire) == kPrefix) {
        from = j;
        prefix = board[j + 1].prefix;
        break;
      }
    }
    for (std::size_t j = from; j < b; ++j) {
      const auto published = [&] {
        return state(j).load(std::memory_order_acquire) >= kAggregate;
      };
      prefix = op(prefix, wait_detail::spin_until(published, fold_time) ? board[j + 1].aggregate
                                                                        : fold_block(j));
    }
    board[b + 1].prefix = prefix;
    state(b).store(kPrefix, std::memory_order_release);

    S{}(in + b * job.block, length(b), out + b * job.block, prefix);
    ++scanned;
  }
}

// scan_single_pass with blocks of `block` elements (tests use small blocks to get many).
template <class S, Pool P, class T>
  requires SerialScan<S, T>
T scan_single_pass_in_blocks(P& pool, RawSpan<T> in, RawSpan<T> out, T identity,
                             std::size_t block) {
  using Op = typename S::op_type;
  check_lengths(in, out, "scan_single_pass");
  const std::size_t workers = checked_workers(pool, "scan_single_pass");
  const std::size_t n = in.size();
  if (n == 0) return identity;
  if (overlap(in, out)) {
    // A slow worker's block may be folded again by another worker while the slow one scans it:
    // the input must stay intact until every block is done.
    throw std::invalid_argument(
        "scan_single_pass: out overlaps in (scan in place with scan_reduce_then_scan)");
  }
  const std::size_t blocks = (n + block - 1) / block;
  // Leased, not allocated: a fresh shared array's first touch would cost more than a small
  // scan (scratch_array.h).
  const ScratchArray<BoardEntry<T>> lease(blocks + 1);
  const RawSpan<BoardEntry<T>> board = lease.span();
  const SinglePassJob<T> job{in, out, board, block, identity};
  const std::vector<std::size_t> scanned = run_pieces(
      pool, &scan_blocks<S, T>,
      std::vector<std::tuple<SinglePassJob<T>>>(std::min(workers, blocks), std::tuple(job)));
  std::size_t total_scanned = 0;
  for (const std::size_t s : scanned) total_scanned += s;
  if (total_scanned != blocks) {
    throw std::logic_error("scan_single_pass: " + std::to_string(total_scanned) + " of " +
                           std::to_string(blocks) + " blocks scanned");
  }
  const BoardEntry<T>& last = board[blocks];
  return Op{}(last.prefix, last.aggregate);
}

}  // namespace scan_detail

// The single-pass scan: blocks of kSinglePassBlockBytes (128 KiB) claimed by the caller and
// min(p, blocks) - 1 tasks, each block folded, given its offset from its predecessors' published totals,
// and scanned while still in cache. Reads `in` from memory once and writes `out` once; the
// bookkeeping is one shared array of 2 sizeof(T) + 8 bytes per block, leased from the process's
// scratch cache (scratch_array.h). `out` must not overlap `in` (std::invalid_argument): use
// scan_reduce_then_scan in place.
template <class S, Pool P, class T>
  requires SerialScan<S, T>
T scan_single_pass(P& pool, RawSpan<T> in, RawSpan<T> out, T identity) {
  return scan_detail::scan_single_pass_in_blocks<S>(pool, in, out, identity,
                                                    scan_detail::single_pass_block<T>());
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_SCAN_H_
