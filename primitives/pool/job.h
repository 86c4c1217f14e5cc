// A submission as a transport sees it: a Job of one or more chunks, and the three kinds the
// front end (front_end.h) makes: ApplyJob (apply: one chunk), MapJob (map, starmap: the result
// is complete once every chunk has ended) and StreamJob (imap: each chunk reaches the stream as
// it ends).
//
// A chunk ends in one of two ways, whatever the transport (transport.h):
//   in process   run_chunk(c) calls the task on the chunk's items here and records the outcome
//                (ThreadPool's worker threads, SerialPool's caller);
//   by message   encode_chunk(c) gives the chunk's arguments as bytes; a worker runs runner()
//                on them with function() and returns bytes; deliver(c) records them
//                (ProcessPool's forked workers, MPI ranks);
// or it fails: fail(c, failure) (the task threw in a worker, the worker died, the pool was
// terminated, ...). Each chunk ends exactly once.
//
// Threads: the calls for different chunks of one job may come from different threads at once
// (a MapJob counts its chunks atomically and each chunk writes its own results); the calls for
// one chunk come from one thread at a time. A job never blocks and never takes a lock of the
// pool's, so a transport may call it with its own lock held.
#ifndef PROCPAR_PRIMITIVES_JOB_H_
#define PROCPAR_PRIMITIVES_JOB_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "primitives/async_result.h"
#include "primitives/serialize.h"
#include "primitives/task.h"

namespace procpar {
namespace pool_detail {

// Runs in a worker of a message transport: decodes a chunk's arguments, calls the task (the
// function at address `function`), encodes the results. A task's exception propagates to the
// caller, which reports it as the chunk's failure.
using Runner = void (*)(std::uintptr_t function, ByteReader& arguments, ByteWriter& results);

class Job {
 public:
  Job(std::size_t chunks, Runner runner, std::uintptr_t function)
      : chunks_(chunks), runner_(runner), function_(function) {}
  virtual ~Job() = default;

  std::size_t chunks() const { return chunks_; }
  // Code addresses in this process. A transport whose workers are forked from this process
  // passes them as they are; one whose workers are other processes of the same binary
  // translates them (for example as offsets from a symbol both know).
  Runner runner() const { return runner_; }
  std::uintptr_t function() const { return function_; }

  // In process: runs a chunk here. A task's exception fails the chunk; never throws.
  virtual void run_chunk(std::size_t chunk) = 0;
  // By message: the arguments of a chunk. Throws what encoding throws (the transport then fails
  // the chunk with it).
  virtual void encode_chunk(std::size_t chunk, ByteWriter& out) = 0;
  // By message: a chunk's results arrived. Throws DecodeError on a malformed message (the
  // transport then fails the chunk with it).
  virtual void deliver(std::size_t chunk, ByteReader& results) = 0;
  // A chunk failed.
  virtual void fail(std::size_t chunk, const async_detail::Failure& failure) = 0;

 private:
  std::size_t chunks_;
  Runner runner_;
  std::uintptr_t function_;
};

template <class T>
constexpr bool block_copyable = serialize_detail::is_plain_bytes<T> && !std::is_same_v<T, bool>;

// Items [first, first + count) of a vector, as a count and the items (one memcpy for plain
// bytes).
template <class T>
void encode_items(ByteWriter& out, const T* first, std::size_t count) {
  const std::uint64_t n = count;
  out.write(&n, sizeof n);
  if constexpr (block_copyable<T>) {
    out.write(first, count * sizeof(T));
  } else {
    for (std::size_t i = 0; i < count; ++i) encode(out, first[i]);
  }
}

// How a map calls its function on one item: f(item) (map, imap) or std::apply(f, item)
// (starmap). Stateless, so a worker's runner needs nothing but the function.
struct CallItem {
  template <class Fp, class Item>
  using Result = task_detail::MapResultOf<Fp, Item>;
  template <class Fp, class Item>
  static decltype(auto) call(Fp f, const Item& item) {
    return f(item);
  }
};
struct CallTuple {
  template <class Fp, class Item>
  using Result = task_detail::StarmapResultOf<Fp, Item>;
  template <class Fp, class Item>
  static decltype(auto) call(Fp f, const Item& item) {
    return std::apply(f, item);
  }
};

template <class Fp>
void apply_runner(std::uintptr_t function, ByteReader& arguments, ByteWriter& results) {
  const Fp f = reinterpret_cast<Fp>(function);
  auto args = decode<task_detail::ArgsOf<Fp>>(arguments);
  using R = std::decay_t<task_detail::ResultOf<Fp>>;
  if constexpr (std::is_void_v<R>) {
    task_detail::call_with(f, args);
  } else {
    encode(results, static_cast<const R&>(task_detail::call_with(f, args)));
  }
}

template <class Fp, class Item, class R, class Call>
void map_runner(std::uintptr_t function, ByteReader& arguments, ByteWriter& results) {
  const Fp f = reinterpret_cast<Fp>(function);
  const std::uint64_t n = decode<std::uint64_t>(arguments);
  for (std::uint64_t i = 0; i < n; ++i) {
    const Item item = decode<Item>(arguments);
    if constexpr (std::is_void_v<R>) {
      Call::call(f, item);
    } else {
      encode(results, static_cast<const R&>(Call::call(f, item)));
    }
  }
}

template <class Fp, class R>
class ApplyJob final : public Job {
 public:
  ApplyJob(Fp f, task_detail::ArgsOf<Fp>&& args, std::shared_ptr<async_detail::State<R>> state)
      : Job(1, &apply_runner<Fp>, reinterpret_cast<std::uintptr_t>(f)),
        f_(f),
        args_(std::move(args)),
        state_(std::move(state)) {}

  // The arguments as a message, encoded at the first call (a message transport's front end
  // calls it at submission, to refuse arguments over the transport's limit at once).
  const ByteWriter& encoded_arguments() {
    if (!encoded_) {
      encoded_.emplace();
      encode(*encoded_, args_);
    }
    return *encoded_;
  }

  void run_chunk(std::size_t) override {
    try {
      if constexpr (std::is_void_v<R>) {
        task_detail::call_with(f_, args_);
        state_->set_value({});
      } else {
        state_->set_value(task_detail::call_with(f_, args_));
      }
    } catch (...) {
      state_->set_error(async_detail::Failure::from_current_exception());
    }
  }
  void encode_chunk(std::size_t, ByteWriter& out) override {
    const ByteWriter& bytes = encoded_arguments();
    out.write(bytes.data(), bytes.size());
  }
  void deliver(std::size_t, ByteReader& results) override {
    if constexpr (std::is_void_v<R>) {
      state_->set_value({});
    } else {
      state_->set_value(decode<R>(results));
    }
  }
  void fail(std::size_t, const async_detail::Failure& failure) override {
    state_->set_error(failure);
  }

 private:
  Fp f_;
  task_detail::ArgsOf<Fp> args_;
  std::optional<ByteWriter> encoded_;
  std::shared_ptr<async_detail::State<R>> state_;
};

// map/starmap: the result is complete once every chunk has ended, so a blocking map never
// returns while the pool may still read the caller's items. A failed map reports its first
// failed chunk's error. `borrowed` items are the caller's (a blocking map); otherwise the job
// owns a copy (`owned`).
template <class Fp, class Item, class R, class Call>
class MapJob final : public Job {
 public:
  using Value = std::conditional_t<std::is_void_v<R>, void, std::vector<R>>;

  MapJob(Fp f, const std::vector<Item>* borrowed, std::vector<Item>&& owned,
         task_detail::ChunkPlan plan, std::shared_ptr<async_detail::State<Value>> state)
      : Job(plan.chunks, &map_runner<Fp, Item, R, Call>, reinterpret_cast<std::uintptr_t>(f)),
        f_(f),
        owned_(std::move(owned)),
        items_(borrowed != nullptr ? borrowed : &owned_),
        plan_(plan),
        remaining_(plan.chunks),
        state_(std::move(state)) {
    if constexpr (!std::is_void_v<R>) cells_.resize(plan.n);
  }

  void run_chunk(std::size_t chunk) override {
    // Locals, so that the task's calls (which may touch any memory) do not make the loop
    // reload the job's fields at every item.
    const Fp f = f_;
    const Item* items = items_->data();
    Cell* cells = cells_.data();
    try {
      const std::size_t end = plan_.first(chunk) + plan_.count(chunk);
      for (std::size_t i = plan_.first(chunk); i < end; ++i) {
        if constexpr (std::is_void_v<R>) {
          Call::call(f, items[i]);
        } else {
          cells[i] = Call::call(f, items[i]);
        }
      }
    } catch (...) {
      fail(chunk, async_detail::Failure::from_current_exception());
      return;
    }
    finish_chunk();
  }

  void encode_chunk(std::size_t chunk, ByteWriter& out) override {
    encode_items(out, items_->data() + plan_.first(chunk), plan_.count(chunk));
  }

  void deliver(std::size_t chunk, ByteReader& results) override {
    if constexpr (!std::is_void_v<R>) {
      Cell* first = cells_.data() + plan_.first(chunk);
      const std::size_t count = plan_.count(chunk);
      if constexpr (block_copyable<R>) {
        results.read(first, count * sizeof(R));
      } else {
        for (std::size_t i = 0; i < count; ++i) first[i] = decode<R>(results);
      }
    }
    finish_chunk();
  }

  void fail(std::size_t, const async_detail::Failure& failure) override {
    {
      std::lock_guard lock(error_mutex_);
      if (!first_error_) first_error_ = failure;
    }
    finish_chunk();
  }

 private:
  using Cell = task_detail::ResultCell<std::conditional_t<std::is_void_v<R>, int, R>>;

  // The last chunk to end completes the result; the counter orders every chunk's writes
  // before it.
  void finish_chunk() {
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    if (first_error_) {
      state_->set_error(std::move(*first_error_));
    } else if constexpr (std::is_void_v<R>) {
      state_->set_value({});
    } else {
      state_->set_value(task_detail::to_result_vector<R>(std::move(cells_)));
    }
  }

  Fp f_;
  std::vector<Item> owned_;
  const std::vector<Item>* items_;
  task_detail::ChunkPlan plan_;
  std::vector<Cell> cells_;
  std::atomic<std::size_t> remaining_;
  std::mutex error_mutex_;
  std::optional<async_detail::Failure> first_error_;
  std::shared_ptr<async_detail::State<Value>> state_;
};

// imap/imap_unordered: each chunk reaches the stream as soon as it ends.
template <class Fp, class Item, class R>
class StreamJob final : public Job {
 public:
  StreamJob(Fp f, std::vector<Item>&& items, task_detail::ChunkPlan plan,
            std::shared_ptr<async_detail::StreamState<R>> state)
      : Job(plan.chunks, &map_runner<Fp, Item, R, CallItem>, reinterpret_cast<std::uintptr_t>(f)),
        f_(f),
        items_(std::move(items)),
        plan_(plan),
        state_(std::move(state)) {}

  void run_chunk(std::size_t chunk) override {
    const std::size_t first = plan_.first(chunk);
    const std::size_t count = plan_.count(chunk);
    std::vector<R> values;
    try {
      values.reserve(count);
      for (std::size_t i = first; i < first + count; ++i) values.push_back(f_(items_[i]));
    } catch (...) {
      fail(chunk, async_detail::Failure::from_current_exception());
      return;
    }
    state_->set_values(first, std::move(values));
  }
  void encode_chunk(std::size_t chunk, ByteWriter& out) override {
    encode_items(out, items_.data() + plan_.first(chunk), plan_.count(chunk));
  }
  void deliver(std::size_t chunk, ByteReader& results) override {
    std::vector<R> values;
    values.reserve(plan_.count(chunk));
    for (std::size_t i = 0; i < plan_.count(chunk); ++i) values.push_back(decode<R>(results));
    state_->set_values(plan_.first(chunk), std::move(values));
  }
  void fail(std::size_t chunk, const async_detail::Failure& failure) override {
    state_->set_error(plan_.first(chunk), plan_.count(chunk), failure);
  }

 private:
  Fp f_;
  std::vector<Item> items_;
  task_detail::ChunkPlan plan_;
  std::shared_ptr<async_detail::StreamState<R>> state_;
};

}  // namespace pool_detail
}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_JOB_H_
