// PoolFrontEnd<T>: the pool interface of docs/design.md (apply ... imap_unordered, close, join,
// terminate), written once over a transport T (transport.h). ProcessPool, ThreadPool and
// SerialPool derive from it and add only their constructors (and their own constants).
//
// What the front end owns: the compile-time checks of a task (task.h), the conversion of the
// arguments, the chunk plan (chunksize 0: Python's default; imap: 1), the job and result state
// of each submission (job.h, async_result.h), and the callback runner of the pool's results.
// Blocking calls (apply, map, starmap) move their value out of the state; map and starmap lend
// the caller's items to the job (they return only after every chunk has ended), the
// asynchronous forms and imap copy them, since they outlive the call.
//
// Cost: one job and one result state per submission; nothing per chunk beyond what the
// transport's delivery needs.
#ifndef PROCPAR_PRIMITIVES_FRONT_END_H_
#define PROCPAR_PRIMITIVES_FRONT_END_H_

#include <cstddef>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "primitives/async_result.h"
#include "primitives/job.h"
#include "primitives/pool_options.h"
#include "primitives/task.h"
#include "primitives/transport.h"

namespace procpar {

template <Transport T>
class PoolFrontEnd {
 public:
  PoolFrontEnd(const PoolFrontEnd&) = delete;
  PoolFrontEnd& operator=(const PoolFrontEnd&) = delete;

  std::size_t workers() const { return transport_.workers(); }

  // Blocks; returns the task's value or rethrows its error.
  template <class F, class... Args>
  auto apply(F f, Args&&... args) {
    return submit_apply(async_detail::NoHook{}, f, std::forward<Args>(args)...)
        .state()
        ->take_result();
  }

  template <class F, class... Args>
  auto apply_async(F f, Args&&... args) {
    return submit_apply(async_detail::NoHook{}, f, std::forward<Args>(args)...);
  }
  // With callbacks (async_result.h says where they run).
  template <class V, class F, class... Args>
  auto apply_async(Callbacks<V> callbacks, F f, Args&&... args) {
    return submit_apply(callbacks_hook(std::move(callbacks)), f, std::forward<Args>(args)...);
  }

  template <class F, class Item>
  auto map(F f, const std::vector<Item>& items, std::size_t chunksize = 0) {
    auto fp = checked_map_function<Item>(f);
    return submit_map<pool_detail::CallItem, Item>(fp, &items, {}, chunksize)->take_result();
  }

  template <class F, class Item>
  auto map_async(F f, const std::vector<Item>& items, std::size_t chunksize = 0) {
    auto fp = checked_map_function<Item>(f);
    return AsyncResult(
        submit_map<pool_detail::CallItem, Item>(fp, nullptr, std::vector<Item>(items), chunksize));
  }
  template <class V, class F, class Item>
  auto map_async(Callbacks<V> callbacks, F f, const std::vector<Item>& items,
                 std::size_t chunksize = 0) {
    auto fp = checked_map_function<Item>(f);
    return AsyncResult(submit_map<pool_detail::CallItem, Item>(
        fp, nullptr, std::vector<Item>(items), chunksize, callbacks_hook(std::move(callbacks))));
  }

  template <class F, class... A>
  auto starmap(F f, const std::vector<std::tuple<A...>>& items, std::size_t chunksize = 0) {
    auto fp = checked_starmap_function<std::tuple<A...>>(f);
    return submit_map<pool_detail::CallTuple, std::tuple<A...>>(fp, &items, {}, chunksize)
        ->take_result();
  }

  template <class F, class... A>
  auto starmap_async(F f, const std::vector<std::tuple<A...>>& items, std::size_t chunksize = 0) {
    auto fp = checked_starmap_function<std::tuple<A...>>(f);
    return AsyncResult(submit_map<pool_detail::CallTuple, std::tuple<A...>>(
        fp, nullptr, std::vector<std::tuple<A...>>(items), chunksize));
  }
  template <class V, class F, class... A>
  auto starmap_async(Callbacks<V> callbacks, F f, const std::vector<std::tuple<A...>>& items,
                     std::size_t chunksize = 0) {
    auto fp = checked_starmap_function<std::tuple<A...>>(f);
    return AsyncResult(submit_map<pool_detail::CallTuple, std::tuple<A...>>(
        fp, nullptr, std::vector<std::tuple<A...>>(items), chunksize,
        callbacks_hook(std::move(callbacks))));
  }

  // Results in item order, each as soon as it and every earlier one has arrived.
  template <class F, class Item>
  auto imap(F f, const std::vector<Item>& items, std::size_t chunksize = 1) {
    return submit_stream(f, items, chunksize, /*unordered=*/false);
  }
  // Results in the order they arrive.
  template <class F, class Item>
  auto imap_unordered(F f, const std::vector<Item>& items, std::size_t chunksize = 1) {
    return submit_stream(f, items, chunksize, /*unordered=*/true);
  }

  // No more submissions (they throw PoolClosed); submitted tasks still run.
  void close() { transport_.close(); }
  // After close(): waits for every submitted task, then stops the workers; returns once every
  // callback of the pool's results has run. After terminate(): waits for the workers to stop.
  // Throws std::logic_error on an open pool, as Python does.
  void join() {
    transport_.join();
    callback_runner_->stop();  // every result is complete: their callbacks are all queued
  }
  // Stops now: unfinished tasks fail with PoolTerminated (the transport's header says which).
  void terminate() { transport_.terminate(); }

 protected:
  explicit PoolFrontEnd(const PoolOptions& options) : transport_(options) {}
  // For a transport made from something other than options (MpiPool: from a communicator).
  template <class... TransportArguments>
  explicit PoolFrontEnd(std::in_place_t, TransportArguments&&... arguments)
      : transport_(std::forward<TransportArguments>(arguments)...) {}
  // terminate() + join(): never hangs, leaves no worker behind. In a forked copy of the pool's
  // process, nothing: the pool and its workers belong to the original.
  ~PoolFrontEnd() {
    if (!transport_.owned_here()) return;
    terminate();
    join();
  }

 private:
  template <class Item, class F>
  static auto checked_map_function(F f) {
    auto fp = task_detail::as_function_pointer(f);
    task_detail::check_map_task<decltype(fp), Item>();
    return fp;
  }
  template <class Tuple, class F>
  static auto checked_starmap_function(F f) {
    auto fp = task_detail::as_function_pointer(f);
    task_detail::check_starmap_task<decltype(fp), Tuple>();
    return fp;
  }

  template <class V>
  async_detail::CallbacksHook<V> callbacks_hook(Callbacks<V>&& callbacks) const {
    return {callback_runner_, std::move(callbacks)};
  }

  // `hook` prepares the result's state before the task can run (attaches callbacks, or nothing).
  template <class Hook, class F, class... Args>
  auto submit_apply(Hook hook, F f, Args&&... args) {
    auto fp = task_detail::as_function_pointer(f);
    using Fp = decltype(fp);
    task_detail::check_task<Fp>();
    using R = std::decay_t<task_detail::ResultOf<Fp>>;
    if constexpr (T::kDelivery == Delivery::kMessages) transport_.check_open();
    auto state = std::make_shared<async_detail::State<R>>(transport_.driver());
    auto job = std::make_shared<pool_detail::ApplyJob<Fp, R>>(
        fp, task_detail::pack_arguments<Fp>(std::forward<Args>(args)...), state);
    if constexpr (T::kDelivery == Delivery::kMessages) {
      transport_.check_argument_bytes(job->encoded_arguments().size());
    }
    hook(state);
    transport_.submit(std::move(job));
    return AsyncResult<R>(std::move(state));
  }

  // map and starmap: `borrowed` (the caller's items, for a blocking call) or `owned` (a copy).
  template <class Call, class Item, class Fp, class Hook = async_detail::NoHook>
  auto submit_map(Fp fp, const std::vector<Item>* borrowed, std::vector<Item>&& owned,
                  std::size_t chunksize, Hook hook = {}) {
    using R = typename Call::template Result<Fp, Item>;
    static_assert(std::is_void_v<R> || std::is_default_constructible_v<R>,
                  "procpar: map results must be default constructible");
    using Job = pool_detail::MapJob<Fp, Item, R, Call>;
    const std::size_t n = borrowed != nullptr ? borrowed->size() : owned.size();
    if (n == 0) transport_.check_open();
    auto state = std::make_shared<async_detail::State<typename Job::Value>>(transport_.driver());
    hook(state);
    if (n == 0) {
      state->set_value({});
      return state;
    }
    transport_.submit(std::make_shared<Job>(
        fp, borrowed, std::move(owned), task_detail::plan_chunks(n, chunksize, workers()), state));
    return state;
  }

  template <class F, class Item>
  auto submit_stream(F f, const std::vector<Item>& items, std::size_t chunksize, bool unordered) {
    auto fp = checked_map_function<Item>(f);
    using Fp = decltype(fp);
    using R = task_detail::MapResultOf<Fp, Item>;
    static_assert(!std::is_void_v<R>, "procpar: imap needs a function that returns a value");
    auto state = std::make_shared<async_detail::StreamState<R>>(items.size(), transport_.driver());
    if (items.empty()) {
      transport_.check_open();
    } else {
      transport_.submit(std::make_shared<pool_detail::StreamJob<Fp, Item, R>>(
          fp, std::vector<Item>(items),
          task_detail::plan_chunks(items.size(), chunksize == 0 ? 1 : chunksize, workers()),
          state));
    }
    return ImapResult<R>(std::move(state), unordered);
  }

  T transport_;
  std::shared_ptr<async_detail::CallbackRunner> callback_runner_ =
      std::make_shared<async_detail::CallbackRunner>(T::kCallbacks);
};

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_FRONT_END_H_
