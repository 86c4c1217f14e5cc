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

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "primitives/wait.h"

namespace procpar {

class TaskError : public std::runtime_error {
 public:
  TaskError(std::string type_name, std::string message)
      : std::runtime_error("task raised " + type_name + ": " + message),
        type_name_(std::move(type_name)),
        message_(std::move(message)) {}
  // The demangled type of the exception the task threw, e.g. "std::invalid_argument".
  const std::string& type_name() const { return type_name_; }
  // What the task's exception said (its what(), empty for a non-std::exception).
  const std::string& message() const { return message_; }

 private:
  std::string type_name_;
  std::string message_;
};

class WorkerDied : public std::runtime_error {
 public:
  // `wait_status` as from waitpid(): a terminating signal or an exit status.
  WorkerDied(pid_t pid, int wait_status);
  pid_t pid() const { return pid_; }
  // The signal that killed the worker, or 0 if it exited.
  int signal() const { return signal_; }
  // The worker's exit status, or -1 if a signal killed it.
  int exit_status() const { return exit_status_; }

 private:
  pid_t pid_;
  int signal_;
  int exit_status_;
};

class MessageTooLarge : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PoolTerminated : public std::runtime_error {
 public:
  PoolTerminated() : std::runtime_error("pool terminated before the task finished") {}
};

class PoolClosed : public std::runtime_error {
 public:
  PoolClosed() : std::runtime_error("pool is closed (close(), terminate() or join() was called): "
                                    "it accepts no new tasks") {}
};

class NotReady : public std::runtime_error {
 public:
  NotReady()
      : std::runtime_error("result is not ready yet: the task has not finished (use wait() or "
                           "get() to block until it has)") {}
};

// Python's multiprocessing.TimeoutError: get(timeout) found the result unfinished. The task goes
// on; the result can be waited for again.
class TimeoutError : public std::runtime_error {
 public:
  TimeoutError()
      : std::runtime_error("result is not ready within the timeout given to get() (the task goes "
                           "on: wait or get again)") {}
};

// A task (a chunk of a map) ran past the pool's task_time_limit (PoolOptions): its worker was
// killed and replaced; every other task is untouched.
class TaskTimeout : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The pool's initializer (PoolOptions) threw, or its worker died while running it.
class InitializerError : public std::runtime_error {
 public:
  InitializerError(std::string type_name, std::string message)
      : std::runtime_error("the pool's initializer raised " + type_name + ": " + message),
        type_name_(std::move(type_name)),
        message_(std::move(message)) {}
  // The demangled type of what the initializer threw ("WorkerDied" if its worker died).
  const std::string& type_name() const { return type_name_; }
  const std::string& message() const { return message_; }

 private:
  std::string type_name_;
  std::string message_;
};

// What a callback receives: the result's value (nothing for void), or, for error_callback, the
// exception get() would throw. The type T is the AsyncResult's: `std::vector<R>` for map_async.
//   pool.apply_async(Callbacks<int>{.callback = [&](int v) { ... },
//                                   .error_callback = [&](const std::exception& e) { ... }},
//                    task, 3);
namespace async_detail {
template <class T>
struct ValueCallback {
  using type = std::function<void(const T&)>;
};
template <>
struct ValueCallback<void> {
  using type = std::function<void()>;
};
}  // namespace async_detail

template <class T>
struct Callbacks {
  typename async_detail::ValueCallback<T>::type callback{};
  std::function<void(const std::exception&)> error_callback{};
};

// The exception being handled, as the TaskError a caller sees: its demangled type and message.
// Call only inside a catch block.
TaskError task_error_from_current_exception();

namespace async_detail {

// Why a task failed, kept as data and thrown afresh by every read: an exception object is then
// never shared between threads (or processes), and a failure can be built from a message that
// arrived from a worker.
struct Failure {
  enum class Kind { kTask, kWorkerDied, kTooLarge, kTerminated, kTimedOut, kInitializer };
  Kind kind = Kind::kTask;
  std::string type_name;  // kTask, kInitializer
  std::string message;    // kTask, kTooLarge, kTimedOut, kInitializer
  pid_t pid = 0;          // kWorkerDied
  int wait_status = 0;    // kWorkerDied

  static Failure task(std::string type_name, std::string message) {
    return Failure{Kind::kTask, std::move(type_name), std::move(message)};
  }
  // The exception being handled, as a TaskError. Call only inside a catch block.
  static Failure from_current_exception() {
    TaskError error = task_error_from_current_exception();
    return task(error.type_name(), error.message());
  }
  static Failure worker_died(pid_t pid, int wait_status) {
    Failure failure;
    failure.kind = Kind::kWorkerDied;
    failure.pid = pid;
    failure.wait_status = wait_status;
    return failure;
  }
  static Failure too_large(std::string message) {
    return Failure{Kind::kTooLarge, {}, std::move(message)};
  }
  static Failure terminated() {
    Failure failure;
    failure.kind = Kind::kTerminated;
    return failure;
  }
  static Failure timed_out(std::string message) {
    return Failure{Kind::kTimedOut, {}, std::move(message)};
  }
  static Failure initializer(std::string type_name, std::string message) {
    return Failure{Kind::kInitializer, std::move(type_name), std::move(message)};
  }

  [[noreturn]] void raise() const;
};

// A pool whose results arrive through channels that a waiting caller may drain itself (the
// process pool): waiting threads call poll() while they spin, and when they sleep they are
// woken by the workers directly, so a result reaches the caller in one hop instead of two.
class Driver {
 public:
  virtual ~Driver() = default;
  // Counts the caller as a poller (so workers need not wake the pool's own thread) or not.
  virtual void enter() = 0;
  virtual void leave() = 0;
  // Delivers whatever results have arrived; returns whether there were any. `must` waits for
  // the channel lock rather than skipping when another thread holds it (the last poll after
  // leave() must not be skipped).
  virtual bool poll(bool must) = 0;
  // Sleeping: begin_sleep() counts the caller as a sleeper and returns the progress counter;
  // sleep() waits until it moves past `seen` (any result delivered or failed, by anyone) or
  // the deadline; end_sleep() uncounts the caller.
  virtual std::uint32_t begin_sleep() = 0;
  virtual void sleep(std::uint32_t seen,
                     std::optional<wait_detail::Clock::time_point> deadline) = 0;
  virtual void end_sleep() = 0;
};

// A completion counter that waiters spin on and then sleep on.
class Signal {
 public:
  explicit Signal(std::shared_ptr<Driver> driver = nullptr) : driver_(std::move(driver)) {}

  void notify() {
    version_.fetch_add(1, std::memory_order_seq_cst);
    if (waiters_.load(std::memory_order_seq_cst) != 0) wait_detail::futex_wake(version_);
  }

  // spin_until does not charge a spin's budget for the time the spinner was descheduled (or
  // slowed, as under ThreadSanitizer), so a spin with a deadline must look at the clock itself:
  // otherwise wait_for and get(timeout) could overrun their deadline by a whole task.
  static bool past(const std::optional<wait_detail::Clock::time_point>& deadline) {
    return deadline && wait_detail::Clock::now() >= *deadline;
  }

  // Waits until `done()` or the deadline; returns done().
  template <class Done>
  bool wait(Done&& done, std::optional<wait_detail::Clock::time_point> deadline) {
    if (done()) return true;
    auto budget = std::chrono::duration_cast<std::chrono::nanoseconds>(wait_detail::kSpinBudget);
    if (deadline) {
      budget = std::min(budget, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    *deadline - wait_detail::Clock::now()));
    }
    if (driver_ != nullptr) {
      // Spin (collecting results) while results keep coming, then sleep until a worker
      // reports progress; after a wake-up, spin again: more results usually follow the first
      // (a map's next chunks), and collecting them while spinning saves the workers a wake-up
      // call per result. The budget is for a spell without progress, so a long map is
      // collected by spinning from start to end.
      for (;;) {
        driver_->enter();
        bool progressed = false;
        do {
          progressed = false;
          wait_detail::spin_until(
              [&] {
                progressed = driver_->poll(false);
                return progressed || done() || past(deadline);
              },
              budget);
        } while (progressed && !done() &&
                 !(deadline && wait_detail::Clock::now() >= *deadline));
        driver_->leave();
        driver_->poll(true);  // collects what a worker published while it saw us spinning
        if (done()) return true;
        if (deadline && wait_detail::Clock::now() >= *deadline) return false;
        const std::uint32_t seen = driver_->begin_sleep();
        driver_->poll(true);
        if (!done()) driver_->sleep(seen, deadline);
        driver_->end_sleep();
        driver_->poll(true);  // collects what a worker published while it saw us asleep
        if (done()) return true;
        if (deadline && wait_detail::Clock::now() >= *deadline) return false;
        if (deadline) {
          budget = std::min(budget, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        *deadline - wait_detail::Clock::now()));
        }
      }
    }
    wait_detail::spin_until([&] { return done() || past(deadline); }, budget);
    for (;;) {
      const std::uint32_t seen = version_.load(std::memory_order_seq_cst);
      if (done()) return true;
      if (deadline && wait_detail::Clock::now() >= *deadline) return false;
      waiters_.fetch_add(1, std::memory_order_seq_cst);
      wait_detail::futex_wait(version_, seen, deadline);
      waiters_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

 private:
  std::shared_ptr<Driver> driver_;
  std::atomic<std::uint32_t> version_{0};
  std::atomic<std::uint32_t> waiters_{0};
};

// Runs the callbacks of a pool's results (see Callbacks above) in one thread of its own,
// started by the first submission that has callbacks, so that a pool without callbacks has no
// such thread and a completion costs nothing more than before. SerialPool's runs each callback
// at once in the thread that posts it.
class CallbackRunner : public std::enable_shared_from_this<CallbackRunner> {
 public:
  enum class Mode { kThread, kInline };
  explicit CallbackRunner(Mode mode) : mode_(mode) {}
  ~CallbackRunner();
  CallbackRunner(const CallbackRunner&) = delete;
  CallbackRunner& operator=(const CallbackRunner&) = delete;

  // Called at each submission with callbacks, before the result can complete.
  void start();
  // Queues a completed result's callbacks (called by whichever thread completes the result,
  // possibly with the pool's lock held: it only queues).
  void post(std::function<void()> work);
  // Runs what is queued and stops the thread (the pool's join()). From a callback itself it
  // cannot wait for its own thread: the thread then finishes the queue on its own.
  void stop();

 private:
  void run_queue();
  static void run_guarded(const std::function<void()>& work);

  Mode mode_;
  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<std::function<void()>> queue_;
  bool started_ = false;
  bool stopping_ = false;
  pid_t owner_ = 0;
  std::thread thread_;
};

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

namespace async_detail {

// The shared state behind an ImapResult: one slot per item, filled a chunk at a time.
template <class R>
class StreamState {
 public:
  StreamState(std::size_t n, std::shared_ptr<Driver> driver)
      : signal_(std::move(driver)), values_(n), errors_(n), ready_(n, 0) {
    arrival_.reserve(n);
  }

  std::size_t size() const { return values_.size(); }

  // Items [first, first + values.size()) finished with these values.
  void set_values(std::size_t first, std::vector<R>&& values) {
    {
      std::lock_guard lock(mutex_);
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (ready_[first + i]) continue;  // already failed by terminate()
        values_[first + i].emplace(std::move(values[i]));
        arrive(first + i);
      }
    }
    signal_.notify();
  }
  // Items [first, first + count) failed together (their chunk failed).
  void set_error(std::size_t first, std::size_t count, const Failure& error) {
    {
      std::lock_guard lock(mutex_);
      for (std::size_t i = first; i < first + count; ++i) {
        if (ready_[i]) continue;
        errors_[i] = error;
        arrive(i);
      }
    }
    signal_.notify();
  }
  // Fails every item that has not arrived (the pool was terminated).
  void fail_unfinished(const Failure& error) {
    {
      std::lock_guard lock(mutex_);
      for (std::size_t i = 0; i < ready_.size(); ++i) {
        if (!ready_[i]) {
          errors_[i] = error;
          arrive(i);
        }
      }
    }
    signal_.notify();
  }

  // The item at position `k` of the iteration (index order, or arrival order if unordered).
  const R& at(std::size_t k, bool unordered) {
    std::size_t index = 0;
    signal_.wait(
        [&] {
          std::lock_guard lock(mutex_);
          if (unordered) {
            if (arrival_.size() <= k) return false;
            index = arrival_[k];
            return true;
          }
          index = k;
          return ready_[k] != 0;
        },
        std::nullopt);
    std::lock_guard lock(mutex_);
    if (errors_[index]) errors_[index]->raise();
    return *values_[index];
  }

 private:
  void arrive(std::size_t i) {
    ready_[i] = 1;
    arrival_.push_back(i);
  }

  Signal signal_;
  std::mutex mutex_;
  std::vector<std::optional<R>> values_;
  std::vector<std::optional<Failure>> errors_;
  std::vector<unsigned char> ready_;
  std::vector<std::size_t> arrival_;
};

}  // namespace async_detail

template <class R>
class ImapResult {
 public:
  ImapResult(std::shared_ptr<async_detail::StreamState<R>> state, bool unordered)
      : state_(std::move(state)), unordered_(unordered) {}

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = R;
    using difference_type = std::ptrdiff_t;
    using pointer = const R*;
    using reference = const R&;

    iterator() = default;
    iterator(async_detail::StreamState<R>* state, std::size_t position, bool unordered)
        : state_(state), position_(position), unordered_(unordered) {}

    // Blocks until this position's result has arrived; rethrows its task's error.
    const R& operator*() const { return state_->at(position_, unordered_); }
    const R* operator->() const { return &**this; }
    iterator& operator++() {
      ++position_;
      return *this;
    }
    void operator++(int) { ++position_; }
    bool operator==(const iterator& other) const { return position_ == other.position_; }

   private:
    async_detail::StreamState<R>* state_ = nullptr;
    std::size_t position_ = 0;
    bool unordered_ = false;
  };

  iterator begin() const { return iterator(state_.get(), 0, unordered_); }
  iterator end() const { return iterator(state_.get(), state_->size(), unordered_); }
  std::size_t size() const { return state_->size(); }

 private:
  std::shared_ptr<async_detail::StreamState<R>> state_;
  bool unordered_;
};

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_ASYNC_RESULT_H_
