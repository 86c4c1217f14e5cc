// ThreadPool: the pool interface on threads of this process (the GIL-free baseline).
//
// The same interface and semantics as ProcessPool (see docs/design.md): tasks are plain
// functions with Serializable arguments and results (checked although nothing is serialised,
// so that code written against one pool runs on the other), maps are cut into chunks that idle
// workers take one at a time, a task's exception reaches the caller as a TaskError.
// Differences that threads impose: terminate() cannot stop a running task, so it fails the
// chunks not yet started and waits for the running ones; a task that crashes crashes the
// process (there is no worker to lose).
//
// Cost: a submission is one lock and, if a worker sleeps, one wake-up; one idle worker spins
// for a few tens of microseconds before sleeping, so back-to-back tasks are picked up in well
// under a microsecond. map_async/starmap_async/imap copy the items (they outlive the call); map and
// starmap do not.
#ifndef PROCPAR_PRIMITIVES_THREAD_POOL_H_
#define PROCPAR_PRIMITIVES_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "primitives/async_result.h"
#include "primitives/pool_options.h"
#include "primitives/task.h"

namespace procpar {

namespace thread_pool_detail {

// Work submitted as a number of chunks that workers claim one at a time.
class Job {
 public:
  explicit Job(std::size_t chunks) : chunks_(chunks) {}
  virtual ~Job() = default;
  std::size_t chunks() const { return chunks_; }
  // Runs one chunk; records the task's failure in the job's result, never throws.
  virtual void run_chunk(std::size_t chunk) = 0;
  // `count` chunks will never run (the pool was terminated).
  virtual void cancel(std::size_t count) = 0;

 private:
  std::size_t chunks_;
};

// A map's results: complete when every chunk has run or been cancelled, so that a blocking
// map never returns while a worker still reads the caller's items.
template <class R, class T, class Call>
class MapJob final : public Job {
 public:
  using Value = std::conditional_t<std::is_void_v<R>, void, std::vector<R>>;

  MapJob(const std::vector<T>* borrowed, std::vector<T>&& owned, task_detail::ChunkPlan plan,
         Call call)
      : Job(plan.chunks),
        owned_(std::move(owned)),
        items_(borrowed != nullptr ? borrowed : &owned_),
        plan_(plan),
        call_(call),
        remaining_(plan.chunks),
        state_(std::make_shared<async_detail::State<Value>>()) {
    if constexpr (!std::is_void_v<R>) cells_.resize(plan.n);
  }

  const std::shared_ptr<async_detail::State<Value>>& state() const { return state_; }

  // For zero items there is no chunk to finish the result.
  void finish_empty() { complete(); }

  void run_chunk(std::size_t chunk) override {
    try {
      const std::size_t end = plan_.first(chunk) + plan_.count(chunk);
      for (std::size_t i = plan_.first(chunk); i < end; ++i) {
        if constexpr (std::is_void_v<R>) {
          call_((*items_)[i]);
        } else {
          cells_[i] = call_((*items_)[i]);
        }
      }
    } catch (...) {
      record(async_detail::Failure::from_current_exception());
    }
    finish(1);
  }

  void cancel(std::size_t count) override {
    record(async_detail::Failure::terminated());
    finish(count);
  }

 private:
  void record(async_detail::Failure error) {
    std::lock_guard lock(error_mutex_);
    if (!first_error_) first_error_ = std::move(error);
  }
  void finish(std::size_t count) {
    if (remaining_.fetch_sub(count, std::memory_order_acq_rel) == count) complete();
  }
  // Runs once, after every other chunk's finish (the counter orders their writes before it).
  void complete() {
    if (first_error_) {
      state_->set_error(std::move(*first_error_));
    } else if constexpr (std::is_void_v<R>) {
      state_->set_value({});
    } else {
      state_->set_value(task_detail::to_result_vector<R>(std::move(cells_)));
    }
  }

  using Cells = std::conditional_t<std::is_void_v<R>, async_detail::Unit,
                                   std::vector<task_detail::ResultCell<
                                       std::conditional_t<std::is_void_v<R>, int, R>>>>;

  std::vector<T> owned_;
  const std::vector<T>* items_;
  task_detail::ChunkPlan plan_;
  Call call_;
  Cells cells_;
  std::atomic<std::size_t> remaining_;
  std::mutex error_mutex_;
  std::optional<async_detail::Failure> first_error_;
  std::shared_ptr<async_detail::State<Value>> state_;
};

// imap: each chunk's results reach the stream as soon as the chunk is done.
template <class R, class T, class Call>
class StreamJob final : public Job {
 public:
  StreamJob(std::vector<T>&& items, task_detail::ChunkPlan plan, Call call)
      : Job(plan.chunks),
        items_(std::move(items)),
        plan_(plan),
        call_(call),
        state_(std::make_shared<async_detail::StreamState<R>>(plan.n, nullptr)) {}

  const std::shared_ptr<async_detail::StreamState<R>>& state() const { return state_; }

  void run_chunk(std::size_t chunk) override {
    const std::size_t first = plan_.first(chunk);
    std::vector<R> values;
    values.reserve(plan_.count(chunk));
    try {
      for (std::size_t i = first; i < first + plan_.count(chunk); ++i) {
        values.push_back(call_(items_[i]));
      }
      state_->set_values(first, std::move(values));
    } catch (...) {
      state_->set_error(first, plan_.count(chunk),
                        async_detail::Failure::from_current_exception());
    }
  }

  void cancel(std::size_t) override {
    state_->fail_unfinished(async_detail::Failure::terminated());
  }

 private:
  std::vector<T> items_;
  task_detail::ChunkPlan plan_;
  Call call_;
  std::shared_ptr<async_detail::StreamState<R>> state_;
};

template <class Fp, class R>
class ApplyJob final : public Job {
 public:
  ApplyJob(Fp f, task_detail::ArgsOf<Fp>&& args)
      : Job(1), f_(f), args_(std::move(args)), state_(std::make_shared<async_detail::State<R>>()) {}

  const std::shared_ptr<async_detail::State<R>>& state() const { return state_; }

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

  void cancel(std::size_t) override { state_->set_error(async_detail::Failure::terminated()); }

 private:
  Fp f_;
  task_detail::ArgsOf<Fp> args_;
  std::shared_ptr<async_detail::State<R>> state_;
};

}  // namespace thread_pool_detail

class ThreadPool {
 public:
  explicit ThreadPool(std::size_t workers = default_workers());
  // Returns once every worker thread has run options.initializer; InitializerError if one threw.
  explicit ThreadPool(const PoolOptions& options);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  // terminate() + join(): unstarted tasks fail with PoolTerminated; running ones finish.
  ~ThreadPool();

  std::size_t workers() const { return threads_.size(); }

  template <class F, class... Args>
  auto apply(F f, Args&&... args) {
    return apply_async(f, std::forward<Args>(args)...).state()->take_result();
  }

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
    return submit_map<task_detail::MapResultOf<decltype(fp), T>, T>(&items, {}, chunksize,
                                                                 item_caller<T>(fp))
        ->take_result();
  }

  template <class F, class T>
  auto map_async(F f, const std::vector<T>& items, std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    task_detail::check_map_task<decltype(fp), T>();
    return AsyncResult(submit_map<task_detail::MapResultOf<decltype(fp), T>, T>(
        nullptr, std::vector<T>(items), chunksize, item_caller<T>(fp)));
  }
  template <class V, class F, class T>
  auto map_async(Callbacks<V> callbacks, F f, const std::vector<T>& items,
                 std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    task_detail::check_map_task<decltype(fp), T>();
    return AsyncResult(submit_map<task_detail::MapResultOf<decltype(fp), T>, T>(
        nullptr, std::vector<T>(items), chunksize, item_caller<T>(fp),
        callbacks_hook(std::move(callbacks))));
  }

  template <class F, class... A>
  auto starmap(F f, const std::vector<std::tuple<A...>>& items, std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    using Tuple = std::tuple<A...>;
    task_detail::check_starmap_task<decltype(fp), Tuple>();
    return submit_map<task_detail::StarmapResultOf<decltype(fp), Tuple>, Tuple>(
               &items, {}, chunksize, tuple_caller<Tuple>(fp))
        ->take_result();
  }

  template <class F, class... A>
  auto starmap_async(F f, const std::vector<std::tuple<A...>>& items, std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    using Tuple = std::tuple<A...>;
    task_detail::check_starmap_task<decltype(fp), Tuple>();
    return AsyncResult(submit_map<task_detail::StarmapResultOf<decltype(fp), Tuple>, Tuple>(
        nullptr, std::vector<Tuple>(items), chunksize, tuple_caller<Tuple>(fp)));
  }
  template <class V, class F, class... A>
  auto starmap_async(Callbacks<V> callbacks, F f, const std::vector<std::tuple<A...>>& items,
                     std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    using Tuple = std::tuple<A...>;
    task_detail::check_starmap_task<decltype(fp), Tuple>();
    return AsyncResult(submit_map<task_detail::StarmapResultOf<decltype(fp), Tuple>, Tuple>(
        nullptr, std::vector<Tuple>(items), chunksize, tuple_caller<Tuple>(fp),
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
  void close();
  // After close(): waits for every submitted task, then stops the workers. After terminate():
  // waits for the running tasks. Throws std::logic_error on an open pool, as Python does.
  void join();
  // Stops now: tasks not yet started fail with PoolTerminated.
  void terminate();

 private:
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
    auto job = std::make_shared<thread_pool_detail::ApplyJob<Fp, R>>(
        fp, task_detail::pack_arguments<Fp>(std::forward<Args>(args)...));
    AsyncResult<R> result(job->state());
    hook(job->state());
    submit(std::move(job));
    return result;
  }

  template <class T, class Fp>
  static auto item_caller(Fp fp) {
    return [fp](const T& item) -> decltype(auto) { return fp(item); };
  }
  template <class Tuple, class Fp>
  static auto tuple_caller(Fp fp) {
    return [fp](const Tuple& item) -> decltype(auto) { return std::apply(fp, item); };
  }

  template <class R, class T, class Call, class Hook = async_detail::NoHook>
  auto submit_map(const std::vector<T>* borrowed, std::vector<T>&& owned, std::size_t chunksize,
                  Call call, Hook hook = {}) {
    static_assert(std::is_void_v<R> || std::is_default_constructible_v<R>,
                  "procpar: map results must be default constructible");
    const std::size_t n = borrowed != nullptr ? borrowed->size() : owned.size();
    auto job = std::make_shared<thread_pool_detail::MapJob<R, T, Call>>(
        borrowed, std::move(owned), task_detail::plan_chunks(n, chunksize, workers()), call);
    auto state = job->state();
    hook(state);
    if (n == 0) {
      check_open();
      job->finish_empty();
    } else {
      submit(std::move(job));
    }
    return state;
  }

  template <class F, class T>
  auto submit_stream(F f, const std::vector<T>& items, std::size_t chunksize, bool unordered) {
    auto fp = task_detail::as_function_pointer(f);
    task_detail::check_map_task<decltype(fp), T>();
    using R = task_detail::MapResultOf<decltype(fp), T>;
    static_assert(!std::is_void_v<R>, "procpar: imap needs a function that returns a value");
    auto call = item_caller<T>(fp);
    auto job = std::make_shared<thread_pool_detail::StreamJob<R, T, decltype(call)>>(
        std::vector<T>(items),
        task_detail::plan_chunks(items.size(), chunksize == 0 ? 1 : chunksize, workers()), call);
    ImapResult<R> result(job->state(), unordered);
    if (items.empty()) {
      check_open();
    } else {
      submit(std::move(job));
    }
    return result;
  }

  void check_open();
  void submit(std::shared_ptr<thread_pool_detail::Job> job);
  void worker_loop();
  void start_worker(const PoolOptions& options);

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable all_done_;
  std::deque<std::shared_ptr<thread_pool_detail::Job>> queue_;
  std::size_t next_chunk_ = 0;  // of queue_.front()
  std::size_t sleepers_ = 0;
  bool open_ = true;
  bool stopping_ = false;
  bool joined_ = false;
  std::atomic<std::size_t> unclaimed_{0};    // chunks in the queue: what an idle worker spins on
  std::atomic<bool> spinner_{false};         // an idle worker is spinning
  std::atomic<std::size_t> outstanding_{0};  // chunks submitted and not yet finished
  std::vector<std::thread> threads_;
  // Counted under mutex_ by the worker threads as they finish the initializer.
  std::size_t initialized_ = 0;
  std::optional<InitializerError> initializer_error_;
  std::shared_ptr<async_detail::CallbackRunner> callback_runner_ =
      std::make_shared<async_detail::CallbackRunner>(async_detail::CallbackRunner::Mode::kThread);
};

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_THREAD_POOL_H_
