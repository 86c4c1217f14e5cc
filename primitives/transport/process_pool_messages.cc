// The parent side's traffic over the channel (process_pool_core.h): chunks encoded into the
// argument arena and published to the workers, results drained from the workers' rings and
// delivered to their jobs, and the wake-ups of parent threads waiting for either.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "primitives/transport/process_pool_core.h"

namespace procpar::process_pool_detail {

bool Core::drain_all() {
  bool any = false;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    if (workers_[i].alive) any |= drain(i);
  }
  return any;
}

bool Core::drain(std::size_t index) {
  WorkerControl& c = channel_.control(index);
  std::uint64_t tail = c.tail.load(std::memory_order_relaxed);
  const std::uint64_t head = c.head.load(std::memory_order_acquire);
  if (tail == head) return false;
  std::byte* bytes = channel_.ring(index);
  while (tail != head) {
    const std::size_t offset = tail % kRingBytes;
    RecordHeader record;
    std::memcpy(&record, bytes + offset, sizeof record);
    if (record.status == kRewind) {
      tail += kRingBytes - offset;
    } else if (record.status == kInitDone || record.status == kInitFailed) {
      ByteReader payload(bytes + offset + sizeof record, record.size);
      note_initializer(index, record.status, payload);
      tail += round_up(sizeof record + record.size, kRecordAlign);
    } else {
      ByteReader payload(bytes + offset + sizeof record, record.size);
      deliver(record, payload);
      tail += round_up(sizeof record + record.size, kRecordAlign);
    }
    c.tail.store(tail, std::memory_order_seq_cst);
    if (c.waiting_for_space.load(std::memory_order_seq_cst) != 0) {
      bump_and_wake(c.space_signal);
    }
  }
  publish_pending();
  return true;
}

void Core::deliver(const RecordHeader& record, ByteReader& payload) {
  Inflight& entry = inflight_[record.position % kSlots];
  if (!entry.live || record.position < free_tail_ || record.position >= published_) {
    // A result for a task that is not running: something overwrote the channel. Results can
    // no longer be trusted, and going on could hand a caller a wrong value.
    static const char message[] = "procpar::ProcessPool: result channel corrupted; aborting\n";
    [[maybe_unused]] ssize_t written = write(2, message, sizeof message - 1);
    std::abort();
  }
  try {
    switch (record.status) {
      case kOk:
        entry.job->deliver(entry.chunk, payload);
        break;
      case kTaskFailed: {
        std::string type_name = decode<std::string>(payload);
        std::string message = decode<std::string>(payload);
        entry.job->fail(entry.chunk,
                        async_detail::Failure::task(std::move(type_name), std::move(message)));
        break;
      }
      case kResultTooLarge:
        entry.job->fail(entry.chunk,
                        async_detail::Failure::too_large(decode<std::string>(payload)));
        break;
      default:
        throw DecodeError("procpar: unknown result status " + std::to_string(record.status));
    }
  } catch (...) {
    entry.job->fail(entry.chunk, async_detail::Failure::from_current_exception());
  }
  release(record.position);
}

void Core::release(std::uint64_t position) {
  Inflight& entry = inflight_[position % kSlots];
  entry.live = false;
  entry.job.reset();
  while (free_tail_ < published_ && !inflight_[free_tail_ % kSlots].live) ++free_tail_;
  if (free_tail_ == published_) {
    // Nothing in flight: start the arena again at its beginning, whose pages are warm.
    arena_head_ = arena_tail_ = round_up(arena_head_, kArenaBytes);
  } else {
    arena_tail_ = inflight_[free_tail_ % kSlots].arena_begin;
  }
  if (--outstanding_ == 0) changed_.notify_all();
  announce_progress();
}

// Wakes the callers asleep in a wait: a result they may be waiting for has been delivered
// or failed (by this thread, which may not be the one the worker woke).
void Core::announce_progress() {
  Header& h = channel_.header();
  if (h.sleepers.load(std::memory_order_seq_cst) != 0) {
    bump_and_wake(h.progress);
  }
}

std::uint32_t Core::begin_sleep() {
  check_owner();  // a forked copy's results can never arrive: fail rather than wait forever
  Header& h = channel_.header();
  h.sleepers.fetch_add(1, std::memory_order_seq_cst);
  return h.progress.load(std::memory_order_seq_cst);
}

void Core::sleep(std::uint32_t seen, std::optional<wait_detail::Clock::time_point> deadline) {
  wait_detail::futex_wait(channel_.header().progress, seen, deadline);
}

void Core::end_sleep() { channel_.header().sleepers.fetch_sub(1, std::memory_order_seq_cst); }

bool Core::allocate_arena(std::size_t bytes, std::uint64_t* begin) {
  std::uint64_t at = arena_head_;
  const std::size_t offset = at % kArenaBytes;
  if (offset + bytes > kArenaBytes) at += kArenaBytes - offset;  // keep messages contiguous
  if (at + bytes - arena_tail_ > kArenaBytes) return false;      // wait for completions
  *begin = at;
  arena_head_ = round_up(at + bytes, 64);
  return true;
}

void Core::publish_pending() {
  std::size_t count = 0;
  while (!pending_.empty() && !terminated_) {
    if (published_ - free_tail_ >= kSlots) break;
    Job& job = *pending_.front();
    const std::size_t chunk = pending_next_chunk_;
    bool failed = false;
    if (!scratch_ready_) {
      scratch_.clear();
      try {
        job.encode_chunk(chunk, scratch_);
        if (scratch_.size() > ProcessPool::kMaxArgumentBytes) {
          job.fail(chunk, async_detail::Failure::too_large(
                              "the arguments of a chunk take " + std::to_string(scratch_.size()) +
                              " bytes, more than the channel's limit of " +
                              mebibytes(ProcessPool::kMaxArgumentBytes) +
                              ": put bulk data in a RawArray and pass its span, or use a smaller "
                              "chunksize"));
          failed = true;
        }
      } catch (...) {
        job.fail(chunk, async_detail::Failure::from_current_exception());
        failed = true;
      }
      scratch_ready_ = !failed;
    }
    if (!failed) {
      std::uint64_t begin;
      if (!allocate_arena(scratch_.size(), &begin)) break;
      std::memcpy(channel_.arena() + begin % kArenaBytes, scratch_.data(), scratch_.size());
      scratch_ready_ = false;
      const std::uint64_t position = published_++;
      Inflight& entry = inflight_[position % kSlots];
      entry.job = pending_.front();
      entry.chunk = chunk;
      entry.arena_begin = begin;
      entry.live = true;
      if (free_tail_ == position) arena_tail_ = begin;
      Slot& s = channel_.slot(position);
      s.runner = reinterpret_cast<std::uintptr_t>(job.runner());
      s.function = job.function();
      s.arg_offset = begin % kArenaBytes;
      s.arg_size = scratch_.size();
      s.word.store(position << kOwnerBits, std::memory_order_release);
      ++count;
    } else {
      if (--outstanding_ == 0) changed_.notify_all();
      announce_progress();
    }
    if (++pending_next_chunk_ == job.chunks()) {
      pending_.pop_front();
      pending_next_chunk_ = 0;
    }
  }
  if (count == 0) return;
  channel_.header().published.store(published_, std::memory_order_seq_cst);
  wake_workers(count);
}

// Wakes as many sleeping workers as there are new tasks, less the one spinning worker, which
// finds a task by itself.
void Core::wake_workers(std::size_t tasks) {
  Header& h = channel_.header();
  h.task_signal.fetch_add(1, std::memory_order_seq_cst);
  const auto wanted = [&] {
    return tasks - (h.spinner.load(std::memory_order_seq_cst) != 0 ? 1 : 0);
  };
  if (wanted() == 0) return;
  std::size_t sleeping = 0;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    sleeping += channel_.control(i).sleeping.load(std::memory_order_seq_cst);
  }
  if (sleeping == 0) return;
  // One task and nothing else unclaimed (a caller's round trips one after another): the worker
  // that ran the previous task is usually about to spin for work again, so give it the grace
  // before waking a sleeping one.
  if (tasks == 1 && h.claim_hint.load(std::memory_order_acquire) + 1 >= published_) {
    const auto taken = [&] {
      return h.spinner.load(std::memory_order_seq_cst) != 0 ||
             h.claim_hint.load(std::memory_order_acquire) >= published_;
    };
    if (wait_detail::spin_until(taken, kWakeGrace)) return;
  }
  wait_detail::futex_wake(h.task_signal, static_cast<int>(std::min(wanted(), sleeping)));
}

void Core::fail_everything(const async_detail::Failure& failure) {
  for (std::uint64_t position = free_tail_; position < published_; ++position) {
    Inflight& entry = inflight_[position % kSlots];
    if (!entry.live) continue;
    entry.job->fail(entry.chunk, failure);
    release(position);
  }
  fail_pending(failure);
}

// Fails the chunks not yet handed to the workers.
void Core::fail_pending(const async_detail::Failure& failure) {
  scratch_ready_ = false;
  while (!pending_.empty()) {
    Job& job = *pending_.front();
    for (std::size_t chunk = pending_next_chunk_; chunk < job.chunks(); ++chunk) {
      job.fail(chunk, failure);
      --outstanding_;
    }
    pending_.pop_front();
    pending_next_chunk_ = 0;
  }
  changed_.notify_all();
  announce_progress();
}

}  // namespace procpar::process_pool_detail
