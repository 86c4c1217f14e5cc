// ProcessPool: worker OS processes, the C++ counterpart of Python's multiprocessing.Pool.
//
//   ProcessPool pool(4);                                  // forks 4 workers
//   std::vector<double> y = pool.map(f, xs);              // chunks of ceil(n / 16) items
//   AsyncResult<int> r = pool.apply_async(g, 1, "two");   // r.get() blocks, rethrows g's error
//
// The interface and semantics are those of docs/design.md, shared with ThreadPool and
// SerialPool. What is particular to processes:
//
// Fork semantics. Workers are fork()ed from the parent (Python's default start method on
// Linux), so a task's function pointer is valid in every worker, and a worker sees the parent's
// memory as it was at the fork: globals changed later, or written by a task, are not shared.
// Data that tasks share belongs in a RawArray/SharedArray (shared_array.h). The usual caveat of
// forking a multithreaded program applies to tasks: in a worker only the pool's thread exists,
// so a task must not rely on a lock that another parent thread may have held at the fork (the
// C library's malloc and stdio are safe). Replacement workers are forked later, from the
// parent as it is then. A pool belongs to the process that created it: a task must not use it,
// and in a child the program forks, its methods throw std::logic_error (the destructor does
// nothing there).
//
// Channels. Arguments and results are serialised (serialize.h) through a shared-memory channel,
// one MAP_SHARED anonymous mapping created before the first fork, rather than through pipes: a
// pipe round trip between two processes costs about 20 us on the project's machines, a
// shared-memory handoff well under 1 us. Tasks wait in a ring of slots that idle workers claim
// (dynamic scheduling, as Python: a worker takes the next chunk when it is free); each worker
// returns results through its own ring. Waiting is a short spin, then a futex sleep, so a pool
// with more workers than cores does not burn CPU. The mapping is anonymous: nothing is ever
// left in /dev/shm.
//   Limits: one chunk's arguments at most kMaxArgumentBytes (apply_async refuses more at once
//   with MessageTooLarge; a map chunk over it fails with MessageTooLarge), one chunk's results
//   at most kMaxResultBytes (more fails that chunk with MessageTooLarge). Bulk data belongs in a
//   RawArray: pass its span, a handle of a few bytes. A task's failure always arrives: an
//   exception's type name over 4 MiB or message over 8 MiB is cut, and the cut text says so and
//   gives the original size.
//
// Failures. A task's exception reaches the caller as TaskError (type name and message). A
// worker that dies (a signal, abort(), _exit) fails exactly the chunk it held with WorkerDied,
// naming the signal or exit status; the pool forks a replacement and goes on; no other result
// is affected and nothing hangs (CPython's Pool hangs here, bpo-22393 / gh-66587). Workers die
// with the parent (PR_SET_PDEATHSIG), so a killed parent leaves no orphans; after the pool is
// gone there are no zombies and no descriptors left open.
//
// Threads. Any thread may submit and wait. The pool's service thread forks the workers and
// watches them (pidfd); its collector thread, woken by workers through a futex in the shared
// mapping, delivers results when no caller is waiting; a caller that waits delivers results
// itself while it spins, which keeps a round trip to one hand-off each way. Workers hold no
// descriptor of the pool's, so a task that closes its process's descriptors breaks nothing.
//
// Options (pool_options.h): an initializer run in every worker as it starts (replacements
// too), maxtasksperchild, and task_time_limit: a worker arms a timer that SIGKILLs it at the
// task's deadline (a POSIX timer, armed and disarmed around each task only when a limit is set);
// the parent then fails that task alone with TaskTimeout and forks a replacement. Callbacks run
// in the pool's callback thread (async_result.h), never under the pool's lock.
//
// Cost (2-core VM): see experiments/pool_overhead.cc for the measured round trip and throughput.
#ifndef PROCPAR_PRIMITIVES_PROCESS_POOL_H_
#define PROCPAR_PRIMITIVES_PROCESS_POOL_H_

#include <cstddef>
#include <memory>

#include "primitives/async_result.h"
#include "primitives/front_end.h"
#include "primitives/job.h"
#include "primitives/pool_options.h"
#include "primitives/task.h"
#include "primitives/transport.h"

namespace procpar {

namespace process_pool_detail {

using pool_detail::Job;
using pool_detail::Runner;

// The pool itself (shared memory, workers, the pool's threads); ProcessTransport is its face.
class Core;

std::shared_ptr<Core> start_core(const PoolOptions& options);
std::size_t core_workers(const Core& core);
bool core_owned_here(const Core& core);
std::shared_ptr<async_detail::Driver> core_driver(const std::shared_ptr<Core>& core);
void core_submit(Core& core, std::shared_ptr<Job> job);
void core_check_open(Core& core);
void core_close(Core& core);
void core_join(Core& core);
void core_terminate(Core& core);

}  // namespace process_pool_detail

// The process pool's transport (transport.h): chunks travel as messages through the shared
// mapping to forked workers; a waiting caller collects results itself (the Core is its Driver).
class ProcessTransport {
 public:
  static constexpr Delivery kDelivery = Delivery::kMessages;
  static constexpr auto kCallbacks = async_detail::CallbackRunner::Mode::kThread;
  // The channel's limits on one chunk's messages (see the header comment).
  static constexpr std::size_t kMaxArgumentBytes = std::size_t{32} << 20;
  static constexpr std::size_t kMaxResultBytes = std::size_t{16} << 20;

  // Forks the workers; with an initializer, returns once every worker has run it.
  explicit ProcessTransport(const PoolOptions& options);

  std::size_t workers() const { return process_pool_detail::core_workers(*core_); }
  void submit(std::shared_ptr<pool_detail::Job> job) {
    process_pool_detail::core_submit(*core_, std::move(job));
  }
  void check_open() { process_pool_detail::core_check_open(*core_); }
  std::shared_ptr<async_detail::Driver> driver() const {
    return process_pool_detail::core_driver(core_);
  }
  void close() { process_pool_detail::core_close(*core_); }
  void join() { process_pool_detail::core_join(*core_); }
  void terminate() { process_pool_detail::core_terminate(*core_); }
  bool owned_here() const { return process_pool_detail::core_owned_here(*core_); }
  // MessageTooLarge if an apply's arguments exceed kMaxArgumentBytes.
  static void check_argument_bytes(std::size_t bytes);

 private:
  std::shared_ptr<process_pool_detail::Core> core_;
};

class ProcessPool : public PoolFrontEnd<ProcessTransport> {
 public:
  static constexpr std::size_t kMaxArgumentBytes = ProcessTransport::kMaxArgumentBytes;
  static constexpr std::size_t kMaxResultBytes = ProcessTransport::kMaxResultBytes;

  // Forks `workers` worker processes (at least 1). Throws std::system_error if it cannot.
  explicit ProcessPool(std::size_t workers = default_workers())
      : PoolFrontEnd(PoolOptions{.workers = workers}) {}
  // With an initializer, returns once every worker has run it; throws InitializerError if one
  // threw or died. std::invalid_argument for a negative task_time_limit.
  explicit ProcessPool(const PoolOptions& options) : PoolFrontEnd(options) {}
  // The front end's (PoolFrontEnd, front_end.h) apply ... imap_unordered, close(), join() and
  // terminate(): apply_async throws MessageTooLarge at once if the arguments exceed
  // kMaxArgumentBytes; terminate() kills the workers (SIGKILL) and fails unfinished tasks with
  // PoolTerminated; the destructor is terminate() + join() and never hangs.
};

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_PROCESS_POOL_H_
