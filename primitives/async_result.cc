#include "primitives/async_result.h"

#include <cxxabi.h>
#include <string.h>
#include <sys/wait.h>

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
  }
  throw std::logic_error("procpar: unknown failure kind");
}

}  // namespace async_detail
}  // namespace procpar
