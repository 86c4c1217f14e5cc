// The errors a task or a pool can end with (see async_result.h for where each is raised), and
// Failure: a task's failure kept as data, so that every read throws it afresh and a failure can
// cross a process boundary as a message.
#ifndef PROCPAR_PRIMITIVES_POOL_ERRORS_H_
#define PROCPAR_PRIMITIVES_POOL_ERRORS_H_

#include <sys/types.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace procpar {

// An exception that code run for the pool threw (a task, an initializer), carried as its
// demangled type name and message, which is all that can cross a process boundary.
class RaisedError : public std::runtime_error {
 public:
  // The demangled type of the exception thrown, e.g. "std::invalid_argument".
  const std::string& type_name() const { return type_name_; }
  // What the exception said (its what(), empty for a non-std::exception).
  const std::string& message() const { return message_; }

 protected:
  RaisedError(const std::string& who, std::string type_name, std::string message)
      : std::runtime_error(who + " raised " + type_name + ": " + message),
        type_name_(std::move(type_name)),
        message_(std::move(message)) {}

 private:
  std::string type_name_;
  std::string message_;
};

class TaskError : public RaisedError {
 public:
  TaskError(std::string type_name, std::string message)
      : RaisedError("task", std::move(type_name), std::move(message)) {}
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

// The pool's initializer (PoolOptions) threw, or its worker died while running it (its
// type_name() is then "WorkerDied").
class InitializerError : public RaisedError {
 public:
  InitializerError(std::string type_name, std::string message)
      : RaisedError("the pool's initializer", std::move(type_name), std::move(message)) {}
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

}  // namespace async_detail
}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_POOL_ERRORS_H_
