// One round of tasks over blocks, each block finished from the combined summaries of the blocks
// before it: the engine under scan_single_pass (scan.h) and pack (pack.h). It is the
// "decoupled look-back" of Merrill and Garland (Single-pass Parallel Prefix Scan with Decoupled
// Look-back, NVIDIA technical report NVR-2016-002, 2016), on a pool of workers.
//
//   Summary total = single_pass(pool, kernel, "caller's name");
//
// The n elements are cut into blocks whose size depends on n and the bytes per element alone,
// never on the number of workers (so results have the same bits on any pool: see
// single_pass_block). The caller and min(p, blocks) - 1 pool tasks claim the blocks in order
// from a shared counter; for each block a worker
//   1. folds it into its summary (a scan's total, a pack's count) and publishes that;
//   2. finds the block's prefix, the summaries of all blocks before it combined left to right,
//      by looking back from the nearest earlier block that has published its prefix;
//   3. publishes the prefix and finishes the block from it (scans it, writes its kept
//      elements), while the block is still in this core's cache.
// So a call is one round of the pool's hand-off (a two-round algorithm pays it twice, which is
// what sets the grain of small calls) and reads its data from memory once.
//
// Waiting. A block in the look-back that has not published its summary is waited for at most
// as long as this worker's own fold took (its worker claimed it earlier, so it is usually about
// to finish; workers that fold side by side would otherwise fold each other's blocks twice),
// then folded here instead. No worker waits for another longer than that: a slow, descheduled
// or dead worker costs at most a second fold of its block, and a dead one fails its own task
// (the pool reports it) without hanging the rest. A block is finished only by the worker that
// claimed it, so a kernel's finish may write; its fold must only read.
//
// A kernel (see BlockKernel) is trivially copyable, so it travels to worker processes as a
// task's argument; its views are RawSpans, resolved once per task by bind().
//
//   Summary total = fold_blocks(pool, kernel, "caller's name");
//
// The same claiming without the look-back, for reductions (reduce_partitioned, dot): each block
// is folded and its summary published; the caller combines the summaries in block order. The
// blocks are claimed dynamically, so a worker that is slowed (a shared core, a busier memory
// channel) takes fewer of them, where fixed pieces would wait for it; and since the blocks
// depend on n alone, so do the result's bits.
#ifndef PROCPAR_PRIMITIVES_SINGLE_PASS_H_
#define PROCPAR_PRIMITIVES_SINGLE_PASS_H_

#include <algorithm>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "primitives/partition.h"
#include "primitives/pool.h"
#include "primitives/scratch_array.h"
#include "primitives/shared_array.h"
#include "primitives/wait.h"

namespace procpar {

// A fold kernel: `Summary` (trivially copyable), size() elements, bytes_per_element() (what a
// block moves per element, for its size), identity(), and bind(), which gives an object with
// fold(begin, end) -> Summary for a block [begin, end) and combine(Summary, Summary) -> Summary
// (associative, left operand first).
template <class K>
concept FoldKernel =
    std::is_trivially_copyable_v<K> && std::is_trivially_copyable_v<typename K::Summary> &&
    requires(const K& kernel, std::size_t i, typename K::Summary s) {
      { kernel.size() } -> std::same_as<std::size_t>;
      { kernel.bytes_per_element() } -> std::same_as<std::size_t>;
      { kernel.identity() } -> std::same_as<typename K::Summary>;
      { kernel.bind().fold(i, i) } -> std::same_as<typename K::Summary>;
      { kernel.bind().combine(s, s) } -> std::same_as<typename K::Summary>;
    };

// A block kernel: a fold kernel whose bound object also has finish(begin, end, prefix,
// aggregate), run once per block with the combined summaries of the blocks before it.
template <class K>
concept BlockKernel = FoldKernel<K> && requires(const K& kernel, std::size_t i,
                                                typename K::Summary s) {
  kernel.bind().finish(i, i, s, s);
};

namespace single_pass_detail {

// Blocks are at most kMaxBlockBytes: a block's data is read twice (fold, then finish) and should
// still be in the core's own cache the second time, together with what the finish writes; 128
// KiB of each fits any L2 of the project's machines (1-2 MiB per core), and smaller blocks
// lost to the per-block bookkeeping and the prefetcher's restarts. Time relative to oneTBB's
// parallel_scan, 2^25 doubles, p = 2, 2-core Xeon (2 MiB L2), medians of 9: 16 KiB blocks
// 1.09, 32 KiB 0.94, 64 KiB 0.89, 128 KiB 0.86, 256 KiB 0.86.
// A smaller call is cut into kSmallCallBlocks blocks of at least kMinBlockBytes, so that it
// still spreads over the workers; each block costs a few cache lines passed between cores
// (the counter, its board entry, the look-back), a fraction of a microsecond, which
// kMinBlockBytes keeps small against the block's work.
// fold_blocks reads each block once, so its blocks may be larger, which makes fewer claims of
// the shared counter: kMaxFoldBlockBytes.
inline constexpr std::size_t kMaxBlockBytes = std::size_t{128} << 10;
inline constexpr std::size_t kMaxFoldBlockBytes = std::size_t{1} << 20;
inline constexpr std::size_t kMinBlockBytes = std::size_t{8} << 10;
inline constexpr std::size_t kSmallCallBlocks = 4;

// What a block has published: nothing yet, its aggregate (its own summary), or its aggregate
// and its prefix.
enum BlockState : std::uint64_t { kNothing = 0, kAggregate = 1, kPrefix = 2 };

// One block's entry in the shared board, a cache line of its own: the workers of neighbouring
// blocks write theirs at the same time. Entry 0's `state` is not a block's: it is the counter
// from which the workers claim blocks (so that one shared array per call holds everything);
// block b's entry is b + 1.
template <class Summary>
struct alignas(64) BoardEntry {
  std::uint64_t state;
  Summary aggregate;
  Summary prefix;
};

template <class Kernel>
struct Job {
  Kernel kernel;
  RawSpan<BoardEntry<typename Kernel::Summary>> board;
  std::size_t block;  // elements per block
};

// Block b's elements [first, second).
template <class Kernel>
std::pair<std::size_t, std::size_t> block_range(const Job<Kernel>& job, std::size_t b) {
  return {b * job.block, std::min(job.kernel.size(), (b + 1) * job.block)};
}

// Block b's prefix, found by looking back from the nearest earlier block that has published
// its own (see the header comment for the waiting).
template <FoldKernel Kernel, class Bound>
typename Kernel::Summary look_back(const Job<Kernel>& job, const Bound& kernel, std::size_t b,
                                   wait_detail::Clock::duration fold_time) {
  using Summary = typename Kernel::Summary;
  BoardEntry<Summary>* board = job.board.data();
  const auto state = [board](std::size_t j) { return std::atomic_ref(board[j + 1].state); };
  std::size_t from = 0;
  Summary prefix = job.kernel.identity();
  for (std::size_t j = b; j-- > 0;) {
    if (state(j).load(std::memory_order_acquire) == kPrefix) {
      from = j;
      prefix = board[j + 1].prefix;
      break;
    }
  }
  for (std::size_t j = from; j < b; ++j) {
    const auto published = [&] { return state(j).load(std::memory_order_acquire) >= kAggregate; };
    const auto [begin, end] = block_range(job, j);
    prefix = kernel.combine(prefix, wait_detail::spin_until(published, fold_time)
                                        ? board[j + 1].aggregate
                                        : kernel.fold(begin, end));
  }
  return prefix;
}

// A worker's part: claims blocks until none is left; returns how many it did. With kLookBack
// (single_pass) each block then gets its prefix and is finished; without (fold_blocks) it is
// only folded.
template <FoldKernel Kernel, bool kLookBack>
std::size_t claim_blocks(Job<Kernel> job) {
  using Summary = typename Kernel::Summary;
  const auto kernel = job.kernel.bind();
  BoardEntry<Summary>* board = job.board.data();
  const std::size_t blocks = job.board.size() - 1;
  std::size_t done = 0;
  for (;;) {
    const std::size_t b = std::atomic_ref(board[0].state).fetch_add(1, std::memory_order_relaxed);
    if (b >= blocks) return done;
    const auto [begin, end] = block_range(job, b);
    // Only the look-back needs the fold's time (how long to wait for a predecessor).
    const auto fold_start =
        kLookBack ? wait_detail::Clock::now() : wait_detail::Clock::time_point{};
    const Summary aggregate = kernel.fold(begin, end);
    board[b + 1].aggregate = aggregate;
    std::atomic_ref(board[b + 1].state).store(kAggregate, std::memory_order_release);
    if constexpr (kLookBack) {
      const Summary prefix =
          look_back(job, kernel, b, wait_detail::Clock::now() - fold_start);
      board[b + 1].prefix = prefix;
      std::atomic_ref(board[b + 1].state).store(kPrefix, std::memory_order_release);
      kernel.finish(begin, end, prefix, aggregate);
    }
    ++done;
  }
}

// single_pass (kLookBack) or fold_blocks with blocks of `block` elements (tests use small blocks
// to get many).
template <bool kLookBack, Pool P, FoldKernel Kernel>
typename Kernel::Summary run_blocks(P& pool, const Kernel& kernel, std::size_t block,
                                    const char* caller) {
  using Summary = typename Kernel::Summary;
  const std::size_t workers = checked_workers(pool, caller);
  const std::size_t n = kernel.size();
  if (n == 0) return kernel.identity();
  const std::size_t blocks = (n + block - 1) / block;
  // Leased, not allocated: a fresh shared array's first touch would cost more than a small
  // call (scratch_array.h).
  const ScratchArray<BoardEntry<Summary>> lease(blocks + 1);
  const Job<Kernel> job{kernel, lease.span(), block};
  const std::vector<std::size_t> finished = run_pieces(
      pool, &claim_blocks<Kernel, kLookBack>,
      std::vector<std::tuple<Job<Kernel>>>(std::min(workers, blocks), std::tuple(job)));
  std::size_t total_finished = 0;
  for (const std::size_t f : finished) total_finished += f;
  if (total_finished != blocks) {
    throw std::logic_error(std::string(caller) + ": " + std::to_string(total_finished) + " of " +
                           std::to_string(blocks) + " blocks done");
  }
  const auto bound = kernel.bind();
  if constexpr (kLookBack) {
    return bound.combine(lease[blocks].prefix, lease[blocks].aggregate);
  } else {
    Summary total = lease[1].aggregate;
    for (std::size_t b = 2; b <= blocks; ++b) total = bound.combine(total, lease[b].aggregate);
    return total;
  }
}

// Elements per block for n elements of `bytes_per_element` bytes, blocks of at most
// `max_bytes`: n and the element's size alone decide it.
inline std::size_t block_elements(std::size_t n, std::size_t bytes_per_element,
                                  std::size_t max_bytes) {
  const std::size_t bytes =
      std::clamp(n * bytes_per_element / kSmallCallBlocks, kMinBlockBytes, max_bytes);
  return std::max<std::size_t>(1, bytes / bytes_per_element);
}

}  // namespace single_pass_detail

// single_pass's elements per block for n elements of `bytes_per_element` bytes.
inline std::size_t single_pass_block(std::size_t n, std::size_t bytes_per_element) {
  return single_pass_detail::block_elements(n, bytes_per_element,
                                            single_pass_detail::kMaxBlockBytes);
}

// fold_blocks's elements per block.
inline std::size_t fold_block(std::size_t n, std::size_t bytes_per_element) {
  return single_pass_detail::block_elements(n, bytes_per_element,
                                            single_pass_detail::kMaxFoldBlockBytes);
}

// Runs `kernel` over its blocks in one round of the pool (see the header comment); returns the
// combined summary of all blocks (the identity when there are none).
template <Pool P, BlockKernel Kernel>
typename Kernel::Summary single_pass(P& pool, const Kernel& kernel, const char* caller) {
  return single_pass_detail::run_blocks<true>(
      pool, kernel, single_pass_block(kernel.size(), kernel.bytes_per_element()), caller);
}

// Folds `kernel`'s blocks in one round of the pool and combines their summaries in order.
template <Pool P, FoldKernel Kernel>
typename Kernel::Summary fold_blocks(P& pool, const Kernel& kernel, const char* caller) {
  return single_pass_detail::run_blocks<false>(
      pool, kernel, fold_block(kernel.size(), kernel.bytes_per_element()), caller);
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_SINGLE_PASS_H_
