// ProcessPool: worker OS processes, the C++ counterpart of Python's multiprocessing.Pool.
//
//   ProcessPool pool(4);                                  // forks 4 workers
//   std::vector<double> y = pool.map(f, xs);              // chunks of ceil(n / 16) items
//   AsyncResult<int> r = pool.apply_async(g, 1, "two");   // r.get() blocks, rethrows g's error
//
// The interface and semantics are those of docs/design.md, shared with ThreadPool and
// SerialPool. What is particular to processes:
//
// Fork semantics. Workers are fork()ed from the parent (Python's default start method on
// Linux), so a task's function pointer is valid in every worker, and a worker sees the parent's
// memory as it was at the fork: globals changed later, or written by a task, are not shared.
// Data that tasks share belongs in a RawArray/SharedArray (shared_array.h). The usual caveat of
// forking a multithreaded program applies to tasks: in a worker only the pool's thread exists,
// so a task must not rely on a lock that another parent thread may have held at the fork (the
// C library's malloc and stdio are safe). Replacement workers are forked later, from the
// parent as it is then. A pool belongs to the process that created it: a task must not use it,
// and in a child the program forks, its methods throw std::logic_error (the destructor does
// nothing there).
//
// Channels. Arguments and results are serialised (serialize.h) through a shared-memory channel,
// one MAP_SHARED anonymous mapping created before the first fork, rather than through pipes: a
// pipe round trip between two processes costs about 20 us on the project's machines, a
// shared-memory handoff well under 1 us. Tasks wait in a ring of slots that idle workers claim
// (dynamic scheduling, as Python: a worker takes the next chunk when it is free); each worker
// returns results through its own ring. Waiting is a short spin, then a futex sleep, so a pool
// with more workers than cores does not burn CPU. The mapping is anonymous: nothing is ever
// left in /dev/shm.
//   Limits: one chunk's arguments at most kMaxArgumentBytes (apply_async refuses more at once
//   with MessageTooLarge; a map chunk over it fails with MessageTooLarge), one chunk's results
//   at most kMaxResultBytes (more fails that chunk with MessageTooLarge). Bulk data belongs in a
//   RawArray: pass its span, a handle of a few bytes. A task's failure always arrives: an
//   exception's type name over 4 MiB or message over 8 MiB is cut, and the cut text says so and
//   gives the original size.
//
// Failures. A task's exception reaches the caller as TaskError (type name and message). A
// worker that dies (a signal, abort(), _exit) fails exactly the chunk it held with WorkerDied,
// naming the signal or exit status; the pool forks a replacement and goes on; no other result
// is affected and nothing hangs (CPython's Pool hangs here, bpo-22393 / gh-66587). Workers die
// with the parent (PR_SET_PDEATHSIG), so a killed parent leaves no orphans; after the pool is
// gone there are no zombies and no descriptors left open.
//
// Threads. Any thread may submit and wait. The pool's service thread forks the workers and
// watches them (pidfd); its collector thread, woken by workers through a futex in the shared
// mapping, delivers results when no caller is waiting; a caller that waits delivers results
// itself while it spins, which keeps a round trip to one hand-off each way. Workers hold no
// descriptor of the pool's, so a task that closes its process's descriptors breaks nothing.
//
// Options (pool_options.h): an initializer run in every worker as it starts (replacements
// too), maxtasksperchild, and task_time_limit: a worker arms a timer that SIGKILLs it at the
// task's deadline (a POSIX timer, armed and disarmed around each task only when a limit is set);
// the parent then fails that task alone with TaskTimeout and forks a replacement. Callbacks run
// in the pool's callback thread (async_result.h), never under the pool's lock.
//
// Cost (2-core VM): see experiments/pool_overhead.cc for the measured round trip and throughput.
#ifndef PROCPAR_PRIMITIVES_PROCESS_POOL_H_
#define PROCPAR_PRIMITIVES_PROCESS_POOL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "primitives/async_result.h"
#include "primitives/pool_options.h"
#include "primitives/serialize.h"
#include "primitives/task.h"

namespace procpar {

namespace process_pool_detail {

// Runs in a worker: decodes a chunk's arguments, calls the task, encodes the results. A task's
// exception propagates to the worker loop, which reports it.
using Runner = void (*)(std::uintptr_t function, ByteReader& arguments, ByteWriter& results);

// One submission (apply: 1 chunk; map: its chunks), as the parent sees it. The pool calls
// these with its lock held, from whichever parent thread moves the work along.
class Job {
 public:
  Job(std::size_t chunks, Runner runner, std::uintptr_t function)
      : chunks_(chunks), runner_(runner), function_(function) {}
  virtual ~Job() = default;

  std::size_t chunks() const { return chunks_; }
  Runner runner() const { return runner_; }
  std::uintptr_t function() const { return function_; }

  // The arguments message of a chunk.
  virtual void encode_chunk(std::size_t chunk, ByteWriter& out) = 0;
  // A chunk's results arrived. Throws DecodeError on a malformed message.
  virtual void deliver(std::size_t chunk, ByteReader& results) = 0;
  // A chunk failed (its task threw, its worker died, the pool was terminated, ...).
  virtual void fail(std::size_t chunk, const async_detail::Failure& failure) = 0;

 private:
  std::size_t chunks_;
  Runner runner_;
  std::uintptr_t function_;
};

// The pool itself (shared memory, workers, the pool's thread); ProcessPool is its interface.
class Core;

std::shared_ptr<Core> start_core(std::size_t workers);
std::shared_ptr<Core> start_core(const PoolOptions& options);
std::size_t core_workers(const Core& core);
std::shared_ptr<async_detail::Driver> core_driver(const std::shared_ptr<Core>& core);
void core_submit(Core& core, std::shared_ptr<Job> job);
void core_check_open(Core& core);
void core_close(Core& core);
void core_join(Core& core);
void core_terminate(Core& core);

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

// `Call` is a stateless adapter: item -> f(item) (map) or std::apply(f, item) (starmap).
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

struct CallItem {
  template <class Fp, class Item>
  static decltype(auto) call(Fp f, const Item& item) {
    return f(item);
  }
};
struct CallTuple {
  template <class Fp, class Item>
  static decltype(auto) call(Fp f, const Item& item) {
    return std::apply(f, item);
  }
};

template <class Fp, class R>
class ApplyJob final : public Job {
 public:
  ApplyJob(Fp f, ByteWriter&& encoded_args, std::shared_ptr<async_detail::State<R>> state)
      : Job(1, &apply_runner<Fp>, reinterpret_cast<std::uintptr_t>(f)),
        arguments_(std::move(encoded_args)),
        state_(std::move(state)) {}

  void encode_chunk(std::size_t, ByteWriter& out) override {
    out.write(arguments_.data(), arguments_.size());
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
  ByteWriter arguments_;
  std::shared_ptr<async_detail::State<R>> state_;
};

// map/starmap: the result is complete once every chunk has been delivered or failed, so a
// blocking map never returns while the pool may still read the caller's items.
template <class Fp, class Item, class R, class Call>
class MapJob final : public Job {
 public:
  using Value = std::conditional_t<std::is_void_v<R>, void, std::vector<R>>;

  MapJob(Fp f, const std::vector<Item>* borrowed, std::vector<Item>&& owned,
         task_detail::ChunkPlan plan, std::shared_ptr<async_detail::State<Value>> state)
      : Job(plan.chunks, &map_runner<Fp, Item, R, Call>, reinterpret_cast<std::uintptr_t>(f)),
        owned_(std::move(owned)),
        items_(borrowed != nullptr ? borrowed : &owned_),
        plan_(plan),
        remaining_(plan.chunks),
        state_(std::move(state)) {
    if constexpr (!std::is_void_v<R>) cells_.resize(plan.n);
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
    if (!first_error_) first_error_ = failure;
    finish_chunk();
  }

 private:
  using Cell = task_detail::ResultCell<std::conditional_t<std::is_void_v<R>, int, R>>;

  void finish_chunk() {
    if (--remaining_ != 0) return;
    if (first_error_) {
      state_->set_error(std::move(*first_error_));
    } else if constexpr (std::is_void_v<R>) {
      state_->set_value({});
    } else {
      state_->set_value(task_detail::to_result_vector<R>(std::move(cells_)));
    }
  }

  std::vector<Item> owned_;
  const std::vector<Item>* items_;
  task_detail::ChunkPlan plan_;
  std::vector<Cell> cells_;
  std::size_t remaining_;
  std::optional<async_detail::Failure> first_error_;
  std::shared_ptr<async_detail::State<Value>> state_;
};

// imap/imap_unordered: each chunk reaches the stream as soon as it arrives.
template <class Fp, class Item, class R>
class StreamJob final : public Job {
 public:
  StreamJob(Fp f, std::vector<Item>&& items, task_detail::ChunkPlan plan,
            std::shared_ptr<async_detail::StreamState<R>> state)
      : Job(plan.chunks, &map_runner<Fp, Item, R, CallItem>, reinterpret_cast<std::uintptr_t>(f)),
        items_(std::move(items)),
        plan_(plan),
        state_(std::move(state)) {}

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
  std::vector<Item> items_;
  task_detail::ChunkPlan plan_;
  std::shared_ptr<async_detail::StreamState<R>> state_;
};

}  // namespace process_pool_detail

class ProcessPool {
 public:
  // The channel's limits on one chunk's messages (see the header comment).
  static constexpr std::size_t kMaxArgumentBytes = std::size_t{32} << 20;
  static constexpr std::size_t kMaxResultBytes = std::size_t{16} << 20;

  // Forks `workers` worker processes (at least 1). Throws std::system_error if it cannot.
  explicit ProcessPool(std::size_t workers = default_workers());
  // With an initializer, returns once every worker has run it; throws InitializerError if one
  // threw or died. std::invalid_argument for a negative task_time_limit.
  explicit ProcessPool(const PoolOptions& options);
  ProcessPool(const ProcessPool&) = delete;
  ProcessPool& operator=(const ProcessPool&) = delete;
  // terminate() + join(): unfinished tasks fail with PoolTerminated; never hangs.
  ~ProcessPool();

  std::size_t workers() const { return process_pool_detail::core_workers(*core_); }

  template <class F, class... Args>
  auto apply(F f, Args&&... args) {
    return apply_async(f, std::forward<Args>(args)...).state()->take_result();
  }

  // Throws MessageTooLarge at once if the arguments exceed kMaxArgumentBytes.
  template <class F, class... Args>
  auto apply_async(F f, Args&&... args) {
    return submit_apply(async_detail::NoHook{}, f, std::forward<Args>(args)...);
  }
  // With callbacks, run in the pool's callback thread (async_result.h).
  template <class V, class F, class... Args>
  auto apply_async(Callbacks<V> callbacks, F f, Args&&... args) {
    return submit_apply(callbacks_hook(std::move(callbacks)), f, std::forward<Args>(args)...);
  }

  template <class F, class T>
  auto map(F f, const std::vector<T>& items, std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    task_detail::check_map_task<decltype(fp), T>();
    return submit_map<decltype(fp), T, task_detail::MapResultOf<decltype(fp), T>,
                      process_pool_detail::CallItem>(fp, &items, {}, chunksize)
        ->take_result();
  }

  template <class F, class T>
  auto map_async(F f, const std::vector<T>& items, std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    task_detail::check_map_task<decltype(fp), T>();
    return AsyncResult(submit_map<decltype(fp), T, task_detail::MapResultOf<decltype(fp), T>,
                                  process_pool_detail::CallItem>(fp, nullptr, std::vector<T>(items),
                                                                 chunksize));
  }
  template <class V, class F, class T>
  auto map_async(Callbacks<V> callbacks, F f, const std::vector<T>& items,
                 std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    task_detail::check_map_task<decltype(fp), T>();
    return AsyncResult(submit_map<decltype(fp), T, task_detail::MapResultOf<decltype(fp), T>,
                                  process_pool_detail::CallItem>(
        fp, nullptr, std::vector<T>(items), chunksize, callbacks_hook(std::move(callbacks))));
  }

  template <class F, class... A>
  auto starmap(F f, const std::vector<std::tuple<A...>>& items, std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    using Tuple = std::tuple<A...>;
    task_detail::check_starmap_task<decltype(fp), Tuple>();
    return submit_map<decltype(fp), Tuple, task_detail::StarmapResultOf<decltype(fp), Tuple>,
                      process_pool_detail::CallTuple>(fp, &items, {}, chunksize)
        ->take_result();
  }

  template <class F, class... A>
  auto starmap_async(F f, const std::vector<std::tuple<A...>>& items, std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    using Tuple = std::tuple<A...>;
    task_detail::check_starmap_task<decltype(fp), Tuple>();
    return AsyncResult(
        submit_map<decltype(fp), Tuple, task_detail::StarmapResultOf<decltype(fp), Tuple>,
                   process_pool_detail::CallTuple>(fp, nullptr, std::vector<Tuple>(items),
                                                   chunksize));
  }
  template <class V, class F, class... A>
  auto starmap_async(Callbacks<V> callbacks, F f, const std::vector<std::tuple<A...>>& items,
                     std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    using Tuple = std::tuple<A...>;
    task_detail::check_starmap_task<decltype(fp), Tuple>();
    return AsyncResult(
        submit_map<decltype(fp), Tuple, task_detail::StarmapResultOf<decltype(fp), Tuple>,
                   process_pool_detail::CallTuple>(fp, nullptr, std::vector<Tuple>(items),
                                                   chunksize,
                                                   callbacks_hook(std::move(callbacks))));
  }

  template <class F, class T>
  auto imap(F f, const std::vector<T>& items, std::size_t chunksize = 1) {
    return submit_stream(f, items, chunksize, /*unordered=*/false);
  }
  template <class F, class T>
  auto imap_unordered(F f, const std::vector<T>& items, std::size_t chunksize = 1) {
    return submit_stream(f, items, chunksize, /*unordered=*/true);
  }

  // No more submissions (they throw PoolClosed); submitted tasks still run.
  void close() { process_pool_detail::core_close(*core_); }
  // After close(): waits for every submitted task, then lets the workers exit and reaps them.
  // After terminate(): reaps what is left. Throws std::logic_error on an open pool, as Python.
  void join() {
    process_pool_detail::core_join(*core_);
    callback_runner_->stop();  // every result is complete: their callbacks are all queued
  }
  // Stops now: kills the workers (SIGKILL); unfinished tasks fail with PoolTerminated.
  void terminate() { process_pool_detail::core_terminate(*core_); }

 private:
  static void check_argument_size(std::size_t bytes);
  std::shared_ptr<async_detail::Driver> driver() const {
    return process_pool_detail::core_driver(core_);
  }

  template <class V>
  async_detail::CallbacksHook<V> callbacks_hook(Callbacks<V>&& callbacks) const {
    return {callback_runner_, std::move(callbacks)};
  }

  // Throws MessageTooLarge at once if the arguments exceed kMaxArgumentBytes. `hook` prepares
  // the result's state before the task can run (attaches callbacks, or nothing).
  template <class Hook, class F, class... Args>
  auto submit_apply(Hook hook, F f, Args&&... args) {
    auto fp = task_detail::as_function_pointer(f);
    using Fp = decltype(fp);
    task_detail::check_task<Fp>();
    using R = std::decay_t<task_detail::ResultOf<Fp>>;
    process_pool_detail::core_check_open(*core_);
    ByteWriter encoded;
    encode(encoded, task_detail::pack_arguments<Fp>(std::forward<Args>(args)...));
    check_argument_size(encoded.size());
    auto state = std::make_shared<async_detail::State<R>>(driver());
    hook(state);
    process_pool_detail::core_submit(
        *core_, std::make_shared<process_pool_detail::ApplyJob<Fp, R>>(fp, std::move(encoded),
                                                                        state));
    return AsyncResult<R>(std::move(state));
  }

  template <class Fp, class Item, class R, class Call, class Hook = async_detail::NoHook>
  auto submit_map(Fp fp, const std::vector<Item>* borrowed, std::vector<Item>&& owned,
                  std::size_t chunksize, Hook hook = {}) {
    static_assert(std::is_void_v<R> || std::is_default_constructible_v<R>,
                  "procpar: map results must be default constructible");
    using Job = process_pool_detail::MapJob<Fp, Item, R, Call>;
    process_pool_detail::core_check_open(*core_);
    const std::size_t n = borrowed != nullptr ? borrowed->size() : owned.size();
    auto state = std::make_shared<async_detail::State<typename Job::Value>>(driver());
    hook(state);
    if (n == 0) {
      state->set_value({});
      return state;
    }
    process_pool_detail::core_submit(
        *core_, std::make_shared<Job>(fp, borrowed, std::move(owned),
                                      task_detail::plan_chunks(n, chunksize, workers()), state));
    return state;
  }

  template <class F, class T>
  auto submit_stream(F f, const std::vector<T>& items, std::size_t chunksize, bool unordered) {
    auto fp = task_detail::as_function_pointer(f);
    using Fp = decltype(fp);
    task_detail::check_map_task<Fp, T>();
    using R = task_detail::MapResultOf<Fp, T>;
    static_assert(!std::is_void_v<R>, "procpar: imap needs a function that returns a value");
    process_pool_detail::core_check_open(*core_);
    auto state = std::make_shared<async_detail::StreamState<R>>(items.size(), driver());
    if (!items.empty()) {
      process_pool_detail::core_submit(
          *core_, std::make_shared<process_pool_detail::StreamJob<Fp, T, R>>(
                      fp, std::vector<T>(items),
                      task_detail::plan_chunks(items.size(), chunksize == 0 ? 1 : chunksize,
                                               workers()),
                      state));
    }
    return ImapResult<R>(std::move(state), unordered);
  }

  std::shared_ptr<process_pool_detail::Core> core_;
  std::shared_ptr<async_detail::CallbackRunner> callback_runner_ =
      std::make_shared<async_detail::CallbackRunner>(async_detail::CallbackRunner::Mode::kThread);
};

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_PROCESS_POOL_H_
