// Results of tasks submitted to a pool, and the errors a task can end with.
//
// `AsyncResult<T>` is what `apply_async`, `map_async` and `starmap_async` return on every pool:
// a copyable handle to shared state, readable any number of times.
//   ready()        has the task finished (with a value or an error)?
//   wait()         block until it has
//   wait_for(d)    block at most `d`; returns ready()
//   get()          block, then return the value or rethrow the task's error
//   get(timeout)   the same, but throws TimeoutError if not finished within `timeout`
//   value()        never blocks: the value, the task's error, or NotReady if not yet finished
//   successful()   did the task finish without an error? NotReady if not yet finished
// A result that is not yet computed can never be read as an uninitialised value.
//
// `Callbacks<T>` (callback, error_callback) may be given to apply_async, map_async and
// starmap_async as their first argument, as Python's Pool takes callback= and error_callback=.
// They run in the caller's process, after the result is ready: on ProcessPool and ThreadPool in
// the pool's callback thread (one per pool, started by the first submission with callbacks; one
// callback at a time, in the order results complete); on SerialPool in the submitting thread,
// before the submission returns. A callback that throws is reported on stderr and ignored (the
// pool goes on). A callback may use the pool (submit, wait for results) without deadlock: the
// callback thread holds no lock of the pool. The pool's join() returns once every callback of
// its results has run (unless join() is itself called from a callback).
//
// `ImapResult<R>` is what `imap` and `imap_unordered` return: a range whose iterator yields each
// result as soon as it (and, for imap, every earlier one) has arrived; dereferencing the
// position of a failed task rethrows that task's error, and iteration may go on past it.
//
// Errors (all derive from std::runtime_error):
//   TaskError       the task threw; what() holds the exception's type name and message
//   WorkerDied      the worker process running the task's chunk died (signal or exit status)
//   MessageTooLarge the task's result does not fit the pool's channel
//   PoolTerminated  the pool was terminated (or destroyed) before the task finished
//   PoolClosed      a submission after close()
//   NotReady        value() or successful() on an unfinished result (Python's ValueError)
//   TimeoutError    get(timeout) on a result not ready in time (multiprocessing.TimeoutError)
//   TaskTimeout     the task ran past the pool's task_time_limit; its worker was killed
//   InitializerError the pool's initializer threw (or its worker died running it)
//
// Waiting costs a short spin (tens of microseconds) and then a futex sleep: see wait.h.
#ifndef PROCPAR_PRIMITIVES_ASYNC_RESULT_H_
#define PROCPAR_PRIMITIVES_ASYNC_RESULT_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "primitives/callbacks.h"
#include "primitives/completion.h"
#include "primitives/imap_result.h"
#include "primitives/pool_errors.h"

namespace procpar {
namespace async_detail {

struct Unit {};  // the stored value of a void result

// The shared state behind an AsyncResult. A pool completes it exactly once.
template <class T>
class State {
 public:
  using Stored = std::conditional_t<std::is_void_v<T>, Unit, T>;

  explicit State(std::shared_ptr<Driver> driver = nullptr) : signal_(std::move(driver)) {}

  // The first completion wins; later ones are ignored and return false.
  bool set_value(Stored value) {
    if (claimed_.exchange(true, std::memory_order_acq_rel)) return false;
    value_.emplace(std::move(value));
    finish();
    return true;
  }
  bool set_error(Failure failure) {
    if (claimed_.exchange(true, std::memory_order_acq_rel)) return false;
    error_.emplace(std::move(failure));
    finish();
    return true;
  }

  bool ready() const { return done_.load(std::memory_order_acquire); }
  bool wait(std::optional<wait_detail::Clock::time_point> deadline = std::nullopt) {
    return signal_.wait([this] { return ready(); }, deadline);
  }
  const Stored& checked_value() const {
    if (!ready()) throw NotReady();
    if (error_) error_->raise();
    return *value_;
  }
  bool succeeded() const {
    if (!ready()) throw NotReady();
    return !error_.has_value();
  }
  // Before `state` can complete (before its task is submitted): `callbacks` run through
  // `runner` once it completes. (The state keeps a weak reference to itself only then, so that
  // a state without callbacks costs nothing more to make.)
  static void set_callbacks(const std::shared_ptr<State>& state,
                            std::shared_ptr<CallbackRunner> runner, Callbacks<T> callbacks) {
    runner->start();
    state->hooks_ = std::make_unique<Hooks>(Hooks{state, std::move(runner), std::move(callbacks)});
  }
  // For a pool's blocking call, the only reader: waits, then moves the value out.
  T take_result() {
    wait();
    if (error_) error_->raise();
    if constexpr (!std::is_void_v<T>) return std::move(*value_);
  }

 private:
  struct Hooks {
    std::weak_ptr<State> self;
    std::shared_ptr<CallbackRunner> runner;
    Callbacks<T> callbacks;
  };

  void finish() {
    done_.store(true, std::memory_order_release);
    signal_.notify();
    if (hooks_ == nullptr) return;
    // A pool completes a state through a shared_ptr it holds, so the state is alive here.
    hooks_->runner->post([self = hooks_->self.lock()] { self->run_callbacks(); });
  }

  void run_callbacks() const {
    const Callbacks<T>& c = hooks_->callbacks;
    if (error_) {
      if (!c.error_callback) return;
      try {
        error_->raise();
      } catch (const std::exception& error) {
        c.error_callback(error);
      }
    } else if (c.callback) {
      if constexpr (std::is_void_v<T>) {
        c.callback();
      } else {
        c.callback(*value_);
      }
    }
  }

  Signal signal_;
  std::unique_ptr<Hooks> hooks_;  // null unless the submission had callbacks
  std::atomic<bool> claimed_{false};
  std::atomic<bool> done_{false};
  std::optional<Stored> value_;
  std::optional<Failure> error_;
};

// How a pool's submission prepares its result's state before the task can run: nothing, or
// attach the callbacks.
struct NoHook {
  template <class StatePtr>
  void operator()(const StatePtr&) const {}
};

template <class T>
struct CallbacksHook {
  std::shared_ptr<CallbackRunner> runner;
  Callbacks<T> callbacks;

  template <class R>
  void operator()(const std::shared_ptr<State<R>>& state) {
    static_assert(std::is_same_v<T, R>,
                  "procpar: Callbacks<T> must name the submission's result type: T as in the "
                  "AsyncResult<T> it returns (std::vector<R> for map_async and starmap_async)");
    State<R>::set_callbacks(state, std::move(runner), std::move(callbacks));
  }
};

}  // namespace async_detail

template <class T>
class AsyncResult {
 public:
  // Pools create results; users get them from apply_async/map_async/starmap_async.
  explicit AsyncResult(std::shared_ptr<async_detail::State<T>> state) : state_(std::move(state)) {}

  bool ready() const { return state_->ready(); }
  void wait() const { state_->wait(); }
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    return state_->wait(wait_detail::Clock::now() +
                        std::chrono::duration_cast<wait_detail::Clock::duration>(timeout));
  }
  // Blocks until finished; returns the value or rethrows the task's error.
  decltype(auto) get() const {
    state_->wait();
    return value();
  }
  // As get(), but throws TimeoutError if the result is not ready within `timeout` (Python's
  // get(timeout)); the task goes on.
  template <class Rep, class Period>
  decltype(auto) get(std::chrono::duration<Rep, Period> timeout) const {
    if (!wait_for(timeout)) throw TimeoutError();
    return value();
  }
  // Whether the task finished without an error; NotReady if it has not finished (Python raises
  // ValueError).
  bool successful() const { return state_->succeeded(); }
  // Never blocks: the value, the task's error, or NotReady.
  decltype(auto) value() const {
    if constexpr (std::is_void_v<T>) {
      state_->checked_value();
    } else {
      return static_cast<const T&>(state_->checked_value());
    }
  }

  // For pools: the state, to move a blocking call's value out without a copy.
  const std::shared_ptr<async_detail::State<T>>& state() const { return state_; }

 private:
  std::shared_ptr<async_detail::State<T>> state_;
};

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_ASYNC_RESULT_H_
