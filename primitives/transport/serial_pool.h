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
// Cost: a direct call per item, plus one job and one shared-state allocation per submission.
#ifndef PROCPAR_PRIMITIVES_SERIAL_POOL_H_
#define PROCPAR_PRIMITIVES_SERIAL_POOL_H_

#include <cstddef>
#include <memory>
#include <stdexcept>

#include "primitives/async_result.h"
#include "primitives/front_end.h"
#include "primitives/job.h"
#include "primitives/pool_options.h"
#include "primitives/task.h"
#include "primitives/transport.h"

namespace procpar {

// The serial pool's transport (transport.h): submit() runs every chunk of the job, in order,
// in the submitting thread. A failing chunk fails (and discards) its own results only, and the
// later chunks still run, exactly as on the parallel pools.
class SerialTransport {
 public:
  static constexpr Delivery kDelivery = Delivery::kInProcess;
  static constexpr auto kCallbacks = async_detail::CallbackRunner::Mode::kInline;

  // Reports options.workers; runs the initializer once here (InitializerError if it throws).
  explicit SerialTransport(const PoolOptions& options) : workers_(options.workers) {
    if (workers_ == 0) {
      throw std::invalid_argument("SerialPool: the number of workers must be at least 1");
    }
    pool_options_detail::refuse_process_only_options(options, "SerialPool");
    if (auto error = pool_options_detail::run_initializer(options.initializer)) throw *error;
  }

  std::size_t workers() const { return workers_; }
  void submit(std::shared_ptr<pool_detail::Job> job) {
    check_open();
    for (std::size_t chunk = 0; chunk < job->chunks(); ++chunk) job->run_chunk(chunk);
  }
  void check_open() const {
    if (!open_) throw PoolClosed();
  }
  std::shared_ptr<async_detail::Driver> driver() const { return nullptr; }
  void close() { open_ = false; }
  void terminate() { open_ = false; }
  // As multiprocessing.Pool: join() is for a pool that was closed or terminated.
  void join() const {
    if (open_) throw std::logic_error("SerialPool::join() before close() or terminate()");
  }
  bool owned_here() const { return true; }

 private:
  std::size_t workers_;
  bool open_ = true;
};

class SerialPool : public PoolFrontEnd<SerialTransport> {
 public:
  explicit SerialPool(std::size_t workers = 1) : PoolFrontEnd(PoolOptions{.workers = workers}) {}
  // Reports options.workers; runs the initializer once here (InitializerError if it throws).
  explicit SerialPool(const PoolOptions& options) : PoolFrontEnd(options) {}
  // The front end's (PoolFrontEnd, front_end.h) apply ... imap_unordered, close(), join() and
  // terminate(); callbacks run before the submission returns.
};

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_SERIAL_POOL_H_
