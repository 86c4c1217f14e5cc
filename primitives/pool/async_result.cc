#include "primitives/async_result.h"

#include <cxxabi.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>

namespace procpar {
namespace {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> readable(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && readable ? std::string(readable.get()) : std::string(mangled);
}

std::string describe_wait_status(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    const int signal = WTERMSIG(wait_status);
    const char* abbrev = sigabbrev_np(signal);
    const char* description = sigdescr_np(signal);
    return "killed by signal " + std::to_string(signal) + " (SIG" +
           (abbrev ? abbrev : "?") + ": " + (description ? description : "unknown") + ")";
  }
  if (WIFEXITED(wait_status)) return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  return "ended with wait status " + std::to_string(wait_status);
}

}  // namespace

WorkerDied::WorkerDied(pid_t pid, int wait_status)
    : std::runtime_error("worker process " + std::to_string(pid) + " " +
                         describe_wait_status(wait_status) +
                         " while running this task's chunk; the pool replaced it"),
      pid_(pid),
      signal_(WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0),
      exit_status_(WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1) {}

TaskError task_error_from_current_exception() {
  try {
    throw;
  } catch (const TaskError& error) {
    return error;  // a task that waited on another task: keep the original type and message
  } catch (const std::exception& error) {
    return TaskError(demangle(typeid(error).name()), error.what());
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return TaskError(type ? demangle(type->name()) : "unknown exception", "");
  }
}

namespace async_detail {

void Failure::raise() const {
  switch (kind) {
    case Kind::kTask:
      throw TaskError(type_name, message);
    case Kind::kWorkerDied:
      throw WorkerDied(pid, wait_status);
    case Kind::kTooLarge:
      throw MessageTooLarge(message);
    case Kind::kTerminated:
      throw PoolTerminated();
    case Kind::kTimedOut:
      throw TaskTimeout(message);
    case Kind::kInitializer:
      throw InitializerError(type_name, message);
  }
  throw std::logic_error("procpar: unknown failure kind");
}

CallbackRunner::~CallbackRunner() {
  // The thread holds a reference to the runner, so the last reference is dropped either by the
  // thread itself as it ends, or after stop() joined it; in a forked copy the thread does not
  // exist. In none of these cases may the destructor join.
  if (thread_.joinable()) thread_.detach();
}

void CallbackRunner::start() {
  if (mode_ == Mode::kInline) return;
  std::lock_guard lock(mutex_);
  if (started_ || stopping_) return;
  started_ = true;
  owner_ = getpid();
  thread_ = std::thread([self = shared_from_this()] { self->run_queue(); });
}

void CallbackRunner::post(std::function<void()> work) {
  {
    std::lock_guard lock(mutex_);
    if (started_ && !stopping_) {
      queue_.push_back(std::move(work));
      queued_.notify_one();
      return;
    }
  }
  // SerialPool, or (never by the pools' construction) a result completing after stop().
  run_guarded(work);
}

void CallbackRunner::stop() {
  std::unique_lock lock(mutex_);
  if (stopping_) return;
  stopping_ = true;
  if (!started_ || owner_ != getpid()) return;
  queued_.notify_one();
  lock.unlock();
  if (std::this_thread::get_id() == thread_.get_id()) {
    thread_.detach();  // stop() from a callback: the thread drains the queue and ends alone
  } else {
    thread_.join();
  }
}

void CallbackRunner::run_queue() {
  std::unique_lock lock(mutex_);
  for (;;) {
    queued_.wait(lock, [this] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return;
    std::function<void()> work = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    run_guarded(work);
    work = nullptr;  // drops the result's state outside the lock
    lock.lock();
  }
}

void CallbackRunner::run_guarded(const std::function<void()>& work) {
  try {
    work();
  } catch (...) {
    const TaskError error = task_error_from_current_exception();
    std::fprintf(stderr, "procpar: a result callback raised %s: %s (ignored; the pool goes on)\n",
                 error.type_name().c_str(), error.message().c_str());
  }
}

}  // namespace async_detail
}  // namespace procpar
