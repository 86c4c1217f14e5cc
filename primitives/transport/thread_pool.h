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
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "primitives/async_result.h"
#include "primitives/front_end.h"
#include "primitives/job.h"
#include "primitives/pool_options.h"
#include "primitives/task.h"
#include "primitives/transport.h"

namespace procpar {

// The thread pool's transport (transport.h): worker threads claim a job's chunks one at a time
// and run them in process.
class ThreadTransport {
 public:
  static constexpr Delivery kDelivery = Delivery::kInProcess;
  static constexpr auto kCallbacks = async_detail::CallbackRunner::Mode::kThread;

  // Returns once every worker thread has run options.initializer; InitializerError if one threw.
  explicit ThreadTransport(const PoolOptions& options);
  ThreadTransport(const ThreadTransport&) = delete;
  ThreadTransport& operator=(const ThreadTransport&) = delete;

  std::size_t workers() const { return threads_.size(); }
  void submit(std::shared_ptr<pool_detail::Job> job);
  void check_open();
  std::shared_ptr<async_detail::Driver> driver() const { return nullptr; }
  void close();
  void join();
  // Chunks not yet started fail with PoolTerminated; running ones finish.
  void terminate();
  bool owned_here() const { return true; }

 private:
  void worker_loop();
  void start_worker(const PoolOptions& options);

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable all_done_;
  std::deque<std::shared_ptr<pool_detail::Job>> queue_;
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
};

class ThreadPool : public PoolFrontEnd<ThreadTransport> {
 public:
  explicit ThreadPool(std::size_t workers = default_workers())
      : PoolFrontEnd(PoolOptions{.workers = workers}) {}
  // Returns once every worker thread has run options.initializer; InitializerError if one threw.
  explicit ThreadPool(const PoolOptions& options) : PoolFrontEnd(options) {}
  // The front end's (PoolFrontEnd, front_end.h) apply ... imap_unordered, close(), join() and
  // terminate(): terminate() fails the tasks not yet started with PoolTerminated and lets the
  // running ones finish; the destructor is terminate() + join().
};

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_THREAD_POOL_H_
