// What a pool can be asked at construction beyond its number of workers, as Python's
// Pool(processes, initializer, initargs, maxtasksperchild) and, beyond Python, a per-task time
// limit (as billiard and Pebble offer). Every pool takes a PoolOptions:
//
//   ProcessPool pool(PoolOptions{.workers = 4,
//                                .initializer = Initializer(open_log, std::string("w.log")),
//                                .maxtasksperchild = 1000,
//                                .task_time_limit = std::chrono::seconds(30)});
//
// What each pool does with each option (docs/design.md says more):
//   initializer        ProcessPool: run in each worker when it starts, replacements included.
//                      ThreadPool: in each worker thread when it starts. SerialPool: once, in
//                      the constructing thread. The constructor returns once every worker has
//                      run it, and throws InitializerError if one threw (or, on ProcessPool,
//                      died). A ProcessPool replacement whose initializer fails is not forked
//                      again: the work not yet handed to a worker fails with InitializerError,
//                      and so does every later submission (as Python's concurrent.futures marks
//                      such a pool broken; multiprocessing.Pool would fork again forever).
//   maxtasksperchild   ProcessPool only: a worker exits after that many tasks and is replaced,
//                      no result lost. A task is one message to a worker, as in Python: an
//                      apply, or one chunk of a map. 0: workers live as long as the pool.
//   task_time_limit    ProcessPool only: a task (an apply, or a chunk of a map, as above) that
//                      runs longer has its worker killed (SIGKILL) and replaced; that task fails
//                      with TaskTimeout and every other task is untouched. 0: no limit.
// ThreadPool and SerialPool refuse maxtasksperchild and task_time_limit with
// std::invalid_argument: a thread (or the calling thread) cannot be killed, so a task past its
// limit would run on, holding its worker and writing its effects after its caller was told it
// failed; and replacing a thread frees nothing a task leaked into the shared heap.
//
// Cost: none of these adds anything to a task's round trip when unset.
#ifndef PROCPAR_PRIMITIVES_POOL_OPTIONS_H_
#define PROCPAR_PRIMITIVES_POOL_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "primitives/async_result.h"
#include "primitives/task.h"

namespace procpar {

// A function and its arguments (Python's initializer and initargs), accepted as a task is:
// a plain function or captureless lambda and Serializable arguments. Its result is ignored.
class Initializer {
 public:
  Initializer() = default;  // none

  template <class F, class... Args>
  explicit Initializer(F f, Args&&... initargs) {
    auto fp = task_detail::as_function_pointer(f);
    using Fp = decltype(fp);
    task_detail::check_task<Fp>();
    run_ = [fp, args = task_detail::pack_arguments<Fp>(std::forward<Args>(initargs)...)]() mutable {
      task_detail::call_with(fp, args);
    };
  }

  explicit operator bool() const { return static_cast<bool>(run_); }
  // Runs it; what it throws propagates.
  void operator()() const { run_(); }

 private:
  std::function<void()> run_;
};

struct PoolOptions {
  std::size_t workers = default_workers();
  Initializer initializer{};
  std::size_t maxtasksperchild = 0;             // 0: no limit
  std::chrono::nanoseconds task_time_limit{0};  // 0: no limit
};

namespace pool_options_detail {

inline void check_time_limit(const PoolOptions& options, const char* pool) {
  if (options.task_time_limit < std::chrono::nanoseconds::zero()) {
    throw std::invalid_argument(std::string(pool) +
                                ": task_time_limit must not be negative (0 means no limit)");
  }
}

// ThreadPool and SerialPool: the options that need a worker that can be killed or replaced.
inline void refuse_process_only_options(const PoolOptions& options, const char* pool) {
  check_time_limit(options, pool);
  if (options.task_time_limit != std::chrono::nanoseconds::zero()) {
    throw std::invalid_argument(
        std::string(pool) +
        ": task_time_limit needs a worker that can be killed, and a thread cannot be (a task "
        "past its limit would run on and keep its effects); use ProcessPool for a time limit");
  }
  if (options.maxtasksperchild != 0) {
    throw std::invalid_argument(
        std::string(pool) +
        ": maxtasksperchild replaces worker processes to free what tasks leaked; a thread "
        "shares its process's memory, so replacing it frees nothing: use ProcessPool");
  }
}

// Runs the initializer; what it threw, as the pools report it.
inline std::optional<InitializerError> run_initializer(const Initializer& initializer) {
  if (!initializer) return std::nullopt;
  try {
    initializer();
    return std::nullopt;
  } catch (...) {
    TaskError error = task_error_from_current_exception();
    return InitializerError(error.type_name(), error.message());
  }
}

}  // namespace pool_options_detail
}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_POOL_OPTIONS_H_
