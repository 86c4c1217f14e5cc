// SerialPool: the pool interface with every task run inline by the calling thread.
//
// The reference point of every experiment (what parallelism must beat) and a deterministic way
// to test an algorithm: SerialPool(p) reports p workers, so an algorithm partitions its work
// exactly as it would on a pool of p processes, and then runs the parts one after another.
// It accepts exactly the tasks the process pool accepts (plain functions, Serializable
// arguments and results) although nothing is serialised, so code that runs here runs there.
// Errors are reported as on the other pools: a task's exception becomes a TaskError.
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
#include "primitives/task.h"

namespace procpar {

class SerialPool {
 public:
  explicit SerialPool(std::size_t workers = 1) : workers_(workers) {
    if (workers == 0) throw std::invalid_argument("SerialPool: the number of workers must be at least 1");
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
    auto fp = task_detail::as_function_pointer(f);
    using Fp = decltype(fp);
    task_detail::check_task<Fp>();
    using R = std::decay_t<task_detail::ResultOf<Fp>>;
    check_open();
    auto packed = task_detail::pack_arguments<Fp>(std::forward<Args>(args)...);
    auto state = std::make_shared<async_detail::State<R>>();
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

  template <class R, class T, class Call>
  auto run_map(const std::vector<T>& items, std::size_t chunksize, Call call) {
    check_open();
    const task_detail::ChunkPlan plan = task_detail::plan_chunks(items.size(), chunksize, workers_);
    if constexpr (std::is_void_v<R>) {
      auto state = std::make_shared<async_detail::State<void>>();
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
};

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_SERIAL_POOL_H_
