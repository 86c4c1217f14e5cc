// SerialPool: the pool interface with every task run inline by the calling thread.
//
// The reference point of every experiment (what parallelism must beat) and a deterministic way
// to test an algorithm: SerialPool(p) reports p workers, so an algorithm partitions its work
// exactly as it would on a pool of p processes, and then runs the parts one after another.
// It accepts exactly the tasks the process pool accepts (plain functions, Serializable
// arguments and results) although nothing is serialised, so code that runs here runs there.
// Errors are reported as on the other pools: a task's exception becomes a TaskError.
// Options (pool_options.h): the initializer runs once, in the constructing thread;
// maxtasksperchild and task_time_limit are refused (the caller's thread cannot be killed).
// Callbacks run in the submitting thread before apply_async/map_async/starmap_async return.
//
// Cost: a direct call plus, for the asynchronous forms, one shared-state allocation.
#ifndef PROCPAR_PRIMITIVES_SERIAL_POOL_H_
#define PROCPAR_PRIMITIVES_SERIAL_POOL_H_

#include <cstddef>
#include <exception>
#include <memory>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "primitives/async_result.h"
#include "primitives/pool_options.h"
#include "primitives/task.h"

namespace procpar {

class SerialPool {
 public:
  explicit SerialPool(std::size_t workers = 1) : workers_(workers) {
    if (workers == 0) throw std::invalid_argument("SerialPool: the number of workers must be at least 1");
  }
  // Reports options.workers; runs the initializer once here (InitializerError if it throws).
  explicit SerialPool(const PoolOptions& options) : SerialPool(options.workers) {
    pool_options_detail::refuse_process_only_options(options, "SerialPool");
    if (auto error = pool_options_detail::run_initializer(options.initializer)) throw *error;
  }
  SerialPool(const SerialPool&) = delete;
  SerialPool& operator=(const SerialPool&) = delete;

  std::size_t workers() const { return workers_; }

  template <class F, class... Args>
  auto apply(F f, Args&&... args) {
    auto fp = task_detail::as_function_pointer(f);
    task_detail::check_task<decltype(fp)>();
    return apply_async(fp, std::forward<Args>(args)...).state()->take_result();
  }

  template <class F, class... Args>
  auto apply_async(F f, Args&&... args) {
    return submit_apply(async_detail::NoHook{}, f, std::forward<Args>(args)...);
  }
  // With callbacks, run before this returns (async_result.h).
  template <class V, class F, class... Args>
  auto apply_async(Callbacks<V> callbacks, F f, Args&&... args) {
    return submit_apply(callbacks_hook(std::move(callbacks)), f, std::forward<Args>(args)...);
  }

  // Items are processed in chunks, as on the parallel pools, so a failing item fails (and
  // discards) its chunk's results exactly as it would there.
  template <class F, class T>
  auto map(F f, const std::vector<T>& items, std::size_t chunksize = 0) {
    return map_async(f, items, chunksize).state()->take_result();
  }

  template <class F, class T>
  auto map_async(F f, const std::vector<T>& items, std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    task_detail::check_map_task<decltype(fp), T>();
    return run_map<task_detail::MapResultOf<decltype(fp), T>>(
        items, chunksize, [fp](const T& item) -> decltype(auto) { return fp(item); });
  }
  template <class V, class F, class T>
  auto map_async(Callbacks<V> callbacks, F f, const std::vector<T>& items,
                 std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    task_detail::check_map_task<decltype(fp), T>();
    return run_map<task_detail::MapResultOf<decltype(fp), T>>(
        items, chunksize, [fp](const T& item) -> decltype(auto) { return fp(item); },
        callbacks_hook(std::move(callbacks)));
  }

  template <class F, class... A>
  auto starmap(F f, const std::vector<std::tuple<A...>>& items, std::size_t chunksize = 0) {
    return starmap_async(f, items, chunksize).state()->take_result();
  }

  template <class F, class... A>
  auto starmap_async(F f, const std::vector<std::tuple<A...>>& items, std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    using Tuple = std::tuple<A...>;
    task_detail::check_starmap_task<decltype(fp), Tuple>();
    return run_map<task_detail::StarmapResultOf<decltype(fp), Tuple>>(
        items, chunksize, [fp](const Tuple& item) -> decltype(auto) {
          return std::apply(fp, item);
        });
  }
  template <class V, class F, class... A>
  auto starmap_async(Callbacks<V> callbacks, F f, const std::vector<std::tuple<A...>>& items,
                     std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    using Tuple = std::tuple<A...>;
    task_detail::check_starmap_task<decltype(fp), Tuple>();
    return run_map<task_detail::StarmapResultOf<decltype(fp), Tuple>>(
        items, chunksize,
        [fp](const Tuple& item) -> decltype(auto) { return std::apply(fp, item); },
        callbacks_hook(std::move(callbacks)));
  }

  template <class F, class T>
  auto imap(F f, const std::vector<T>& items, std::size_t chunksize = 1) {
    return run_imap(f, items, chunksize, /*unordered=*/false);
  }
  template <class F, class T>
  auto imap_unordered(F f, const std::vector<T>& items, std::size_t chunksize = 1) {
    return run_imap(f, items, chunksize, /*unordered=*/true);
  }

  void close() { open_ = false; }
  void terminate() { open_ = false; }
  // As multiprocessing.Pool: join() is for a pool that was closed or terminated.
  void join() {
    if (open_) throw std::logic_error("SerialPool::join() before close() or terminate()");
  }

 private:
  void check_open() const {
    if (!open_) throw PoolClosed();
  }

  template <class V>
  async_detail::CallbacksHook<V> callbacks_hook(Callbacks<V>&& callbacks) {
    if (!callback_runner_) {
      callback_runner_ = std::make_shared<async_detail::CallbackRunner>(
          async_detail::CallbackRunner::Mode::kInline);
    }
    return {callback_runner_, std::move(callbacks)};
  }

  // `hook` prepares the result's state before the task runs (attaches callbacks, or nothing).
  template <class Hook, class F, class... Args>
  auto submit_apply(Hook hook, F f, Args&&... args) {
    auto fp = task_detail::as_function_pointer(f);
    using Fp = decltype(fp);
    task_detail::check_task<Fp>();
    using R = std::decay_t<task_detail::ResultOf<Fp>>;
    check_open();
    auto packed = task_detail::pack_arguments<Fp>(std::forward<Args>(args)...);
    auto state = std::make_shared<async_detail::State<R>>();
    hook(state);
    try {
      if constexpr (std::is_void_v<R>) {
        task_detail::call_with(fp, packed);
        state->set_value({});
      } else {
        state->set_value(task_detail::call_with(fp, packed));
      }
    } catch (...) {
      state->set_error(async_detail::Failure::from_current_exception());
    }
    return AsyncResult<R>(std::move(state));
  }

  template <class R, class T, class Call, class Hook = async_detail::NoHook>
  auto run_map(const std::vector<T>& items, std::size_t chunksize, Call call, Hook hook = {}) {
    check_open();
    const task_detail::ChunkPlan plan = task_detail::plan_chunks(items.size(), chunksize, workers_);
    if constexpr (std::is_void_v<R>) {
      auto state = std::make_shared<async_detail::State<void>>();
      hook(state);
      try {
        for (const T& item : items) call(item);
        state->set_value({});
      } catch (...) {
        state->set_error(async_detail::Failure::from_current_exception());
      }
      return AsyncResult<void>(std::move(state));
    } else {
      static_assert(std::is_default_constructible_v<R>,
                    "procpar: map results must be default constructible");
      auto state = std::make_shared<async_detail::State<std::vector<R>>>();
      hook(state);
      std::vector<R> results(items.size());
      try {
        for (std::size_t chunk = 0; chunk < plan.chunks; ++chunk) {
          for (std::size_t i = plan.first(chunk); i < plan.first(chunk) + plan.count(chunk); ++i) {
            results[i] = call(items[i]);
          }
        }
        state->set_value(std::move(results));
      } catch (...) {
        state->set_error(async_detail::Failure::from_current_exception());
      }
      return AsyncResult<std::vector<R>>(std::move(state));
    }
  }

  template <class F, class T>
  auto run_imap(F f, const std::vector<T>& items, std::size_t chunksize, bool unordered) {
    auto fp = task_detail::as_function_pointer(f);
    task_detail::check_map_task<decltype(fp), T>();
    using R = task_detail::MapResultOf<decltype(fp), T>;
    static_assert(!std::is_void_v<R>, "procpar: imap needs a function that returns a value");
    check_open();
    const task_detail::ChunkPlan plan =
        task_detail::plan_chunks(items.size(), chunksize == 0 ? 1 : chunksize, workers_);
    auto state = std::make_shared<async_detail::StreamState<R>>(items.size(), nullptr);
    for (std::size_t chunk = 0; chunk < plan.chunks; ++chunk) {
      std::vector<R> values;
      values.reserve(plan.count(chunk));
      try {
        for (std::size_t i = plan.first(chunk); i < plan.first(chunk) + plan.count(chunk); ++i) {
          values.push_back(fp(items[i]));
        }
        state->set_values(plan.first(chunk), std::move(values));
      } catch (...) {
        state->set_error(plan.first(chunk), plan.count(chunk),
                         async_detail::Failure::from_current_exception());
      }
    }
    return ImapResult<R>(std::move(state), unordered);
  }

  std::size_t workers_;
  bool open_ = true;
  std::shared_ptr<async_detail::CallbackRunner> callback_runner_;  // made by the first callbacks
};

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_SERIAL_POOL_H_
