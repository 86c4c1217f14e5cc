// The process pool's shared-memory channel: how the one MAP_SHARED mapping is laid out, and the
// protocol the parent (process_pool.cc) and the workers (process_pool_worker.cc) follow over it.
// Internal to the process pool.
//
// Tasks: a ring of kSlots slots. The parent writes a chunk's arguments into the argument arena,
// fills a slot and publishes it by storing word = position << 16. A worker claims a published
// slot with one compare-and-swap to (position << 16) | its token: the claim and the record of
// who holds the chunk are the same atomic write, so a worker that dies at any instant either
// holds a chunk the parent can see or holds nothing. Positions only grow, so a stale claim
// attempt on a reused slot fails.
//
// Results: each worker owns a ring of records {position, status, size, payload}, written by the
// worker alone and read by the parent alone (the parent lock serialises parent readers).
//
// Sleeping: idle workers spin (at most one at a time, so idle workers leave the cores to the
// busy ones) and then sleep on the futex task_signal; the parent wakes as many as it published
// tasks for, less the spinning one. The parent's collector thread sleeps on the futex
// collector_signal; a worker bumps it after a result only when the collector is asleep and no
// caller is polling. Before either wake-up of a lone task's round trip, the waker spins a short
// grace (kWakeGrace) for the wake-up to become unneeded. Workers
// hold no descriptor of the pool's: a task may close every descriptor of its process, and the
// pool must still work. The parent's service thread sleeps in poll() on the workers' pidfds
// (and an eventfd only the parent writes).
#ifndef PROCPAR_PRIMITIVES_PROCESS_POOL_CHANNEL_H_
#define PROCPAR_PRIMITIVES_PROCESS_POOL_CHANNEL_H_

#include <atomic>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>

#include "primitives/pool_options.h"
#include "primitives/process_pool.h"
#include "primitives/wait.h"

namespace procpar::process_pool_detail {

inline constexpr std::size_t kSlots = 1024;
inline constexpr std::size_t kArenaBytes = ProcessPool::kMaxArgumentBytes * 2;
// Twice the largest record and a page: a record that must rewind always fits once the ring is
// drained (see the worker's push_result).
inline constexpr std::size_t kRingBytes = ProcessPool::kMaxResultBytes * 2 + 4096;
inline constexpr std::size_t kRecordAlign = 16;
// A ring that is empty and written past this offset starts again at 0, so that small messages
// keep reusing the same (already touched) pages.
inline constexpr std::uint64_t kRewindAfter = 64 << 10;
inline constexpr unsigned kOwnerBits = 16;
inline constexpr std::uint64_t kOwnerMask = (std::uint64_t{1} << kOwnerBits) - 1;

enum Status : std::uint32_t { kOk = 1, kTaskFailed = 2, kResultTooLarge = 3, kRewind = 4 };
// A worker's first record when the pool has an initializer (kInitFailed: type and message; the
// worker exits after it); kInitFailed also when a worker cannot arm its task_time_limit timer.
// Neither is a task's result: its position means nothing.
enum InitStatus : std::uint32_t { kInitDone = 5, kInitFailed = 6 };

struct RecordHeader {
  std::uint64_t position;
  std::uint32_t status;
  std::uint32_t size;
};
static_assert(sizeof(RecordHeader) == kRecordAlign);

struct alignas(64) Header {
  alignas(64) std::atomic<std::uint64_t> published;  // slots [0, published) have been written
  std::atomic<std::uint32_t> task_signal;            // futex: bumped on publish and on stop
  std::atomic<std::uint32_t> stop;                   // join(): idle workers exit
  alignas(64) std::atomic<std::uint64_t> claim_hint;  // every position below is claimed
  std::atomic<std::uint32_t> spinner;                 // token of the idle worker spinning, or 0
  alignas(64) std::atomic<std::uint32_t> collector_sleeping;  // the collector thread sleeps
  std::atomic<std::uint32_t> collector_signal;  // futex: bumped to wake the collector
  std::atomic<std::uint32_t> pollers;  // parent threads draining results while they wait
  alignas(64) std::atomic<std::uint32_t> progress;  // futex: bumped when a result arrives
  std::atomic<std::uint32_t> sleepers;              // parent threads asleep on `progress`
};

struct alignas(64) Slot {
  std::atomic<std::uint64_t> word;
  std::uintptr_t runner;
  std::uintptr_t function;
  std::uint64_t arg_offset;
  std::uint64_t arg_size;
};

struct alignas(64) WorkerControl {
  alignas(64) std::atomic<std::uint64_t> head;  // result bytes written (worker)
  std::atomic<std::uint32_t> sleeping;          // asleep on task_signal
  std::atomic<std::uint32_t> waiting_for_space;
  alignas(64) std::atomic<std::uint64_t> tail;  // result bytes consumed (parent)
  std::atomic<std::uint32_t> space_signal;      // futex: bumped when the parent consumes
  // task_time_limit only: the running task's deadline (steady clock, ns), 0 between tasks.
  // Read by the parent after the worker died, to tell a timeout from another death.
  alignas(64) std::atomic<std::int64_t> deadline_ns;
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "the channel's atomics must be lock-free to work across processes");

constexpr std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// Every wake-up over the channel: bump the futex word (so a waiter that has not yet slept sees
// the change and does not sleep) and wake up to `count` of its sleepers.
inline void bump_and_wake(std::atomic<std::uint32_t>& futex, int count = INT_MAX) {
  futex.fetch_add(1, std::memory_order_seq_cst);
  wait_detail::futex_wake(futex, count);
}

// How long a side spins before a futex wake-up it might not need: the parent before waking a
// sleeping worker (the worker that just ran the previous task is usually a few hundred
// nanoseconds from spinning for work again), a worker before waking the collector thread (the
// caller that submitted the task is usually about to poll for its result). A futex wake-up
// costs the waker a system call and the machine a context switch, several microseconds here.
inline constexpr std::chrono::nanoseconds kWakeGrace{1000};

// The mapping itself: created before the first fork and inherited by every worker. Anonymous
// and shared: invisible in /dev/shm, gone with the last process that maps it.
class Channel {
 public:
  // Maps and initialises the channel for `workers` workers; std::system_error if it cannot.
  explicit Channel(std::size_t workers);
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel();

  Header& header() const { return *reinterpret_cast<Header*>(base_); }
  Slot& slot(std::uint64_t position) const {
    return reinterpret_cast<Slot*>(base_ + slots_)[position % kSlots];
  }
  WorkerControl& control(std::size_t index) const {
    return reinterpret_cast<WorkerControl*>(base_ + controls_)[index];
  }
  std::byte* arena() const { return base_ + arena_; }
  std::byte* ring(std::size_t index) const { return base_ + rings_ + index * kRingBytes; }

 private:
  std::size_t slots_;
  std::size_t controls_;
  std::size_t arena_;
  std::size_t rings_;
  std::size_t total_;
  std::byte* base_ = nullptr;
};

std::string mebibytes(std::size_t bytes);

// A failure travels as a record in the worker's result ring like any result, so it must fit
// the channel's limit too (a record larger than the ring would wait for room forever). A type
// name or message longer than its share is cut, and says what it was.
inline constexpr std::size_t kMaxFailureTypeBytes = ProcessPool::kMaxResultBytes / 4;
inline constexpr std::size_t kMaxFailureMessageBytes = ProcessPool::kMaxResultBytes / 2;
std::string cut_to_fit(std::string text, std::size_t limit, const char* what);

std::int64_t steady_now_ns();

[[noreturn]] void throw_errno(const char* what);

// The worker side (process_pool_worker.cc): runs in the forked worker `index` with claim token
// `token`, serving tasks until the pool stops it or maxtasksperchild is reached; never returns.
// Touches only the channel and the worker's own memory.
[[noreturn]] void run_worker(const Channel& channel, const PoolOptions& options,
                             std::size_t index, std::uint32_t token);

}  // namespace procpar::process_pool_detail

#endif  // PROCPAR_PRIMITIVES_PROCESS_POOL_CHANNEL_H_
