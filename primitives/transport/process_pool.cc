// The parent side of the process pool (process_pool_core.h), its lifecycle: the pool's two
// threads, forking, watching and replacing the workers, close/join/terminate, and the functions
// ProcessPool calls. The traffic over the channel is in process_pool_messages.cc.
#include "primitives/transport/process_pool_core.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "primitives/wait.h"

namespace procpar {
namespace process_pool_detail {
namespace {

// A forked copy of a pool has the handles of the pool's threads but not the threads, and
// std::thread's destructor aborts on a joinable handle: the copy's handles are kept here,
// reachable and never destroyed (joining or detaching a thread of another process is undefined).
void forget_thread(std::thread thread) {
  static std::mutex mutex;
  static auto* const forgotten = new std::vector<std::thread>;
  std::lock_guard lock(mutex);
  forgotten->push_back(std::move(thread));
}


std::string describe_duration(std::chrono::nanoseconds d) {
  const std::int64_t ns = d.count();
  if (ns % 1000000 == 0) return std::to_string(ns / 1000000) + " ms";
  if (ns % 1000 == 0) return std::to_string(ns / 1000) + " us";
  return std::to_string(ns) + " ns";
}

// Checked before the channel is mapped for them.
std::size_t checked_workers(const PoolOptions& options) {
  pool_options_detail::check_time_limit(options, "ProcessPool");
  if (options.workers == 0) {
    throw std::invalid_argument("ProcessPool: the number of workers must be at least 1");
  }
  if (options.workers > kOwnerMask / 2) {
    throw std::invalid_argument("ProcessPool: too many workers");
  }
  return options.workers;
}

}  // namespace

void Core::check_owner() const {
  if (!owned_here()) {
    throw std::logic_error("ProcessPool used in a forked copy of its process (a task, or a "
                           "child of fork()): a pool can only be used by the process that "
                           "created it");
  }
}

void Core::enter() {
  if (owned_here()) channel_.header().pollers.fetch_add(1, std::memory_order_seq_cst);
}

void Core::leave() {
  if (owned_here()) channel_.header().pollers.fetch_sub(1, std::memory_order_seq_cst);
}

Core::Core(const PoolOptions& options)
    : channel_(checked_workers(options)), workers_(options.workers), options_(options) {
  event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) throw_errno("ProcessPool: eventfd");
  parent_pid_ = current_pid();
  // The pool's own thread forks every worker: PR_SET_PDEATHSIG fires when the thread that
  // forked a child exits, so the forking thread must live exactly as long as the pool.
  service_ = std::thread([this] { service_main(); });
  collector_ = std::thread([this] { collector_main(); });
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return started_; });
  if (start_error_) {
    lock.unlock();
    terminate();
    join();
    std::rethrow_exception(start_error_);
  }
  if (!options_.initializer) return;
  changed_.wait(lock, [this] {
    return initialized_workers_ == workers_.size() || initializer_failure_.has_value();
  });
  if (initializer_failure_) {
    const async_detail::Failure failure = *initializer_failure_;
    lock.unlock();
    terminate();
    join();
    failure.raise();
  }
}

Core::~Core() {
  if (!owned_here()) {
    if (service_.joinable()) forget_thread(std::move(service_));
    if (collector_.joinable()) forget_thread(std::move(collector_));
  }
  if (event_fd_ >= 0) ::close(event_fd_);
}

void Core::service_main() {
  {
    std::lock_guard lock(mutex_);
    try {
      for (std::size_t i = 0; i < workers_.size(); ++i) spawn(i);
    } catch (...) {
      start_error_ = std::current_exception();
    }
    started_ = true;
  }
  changed_.notify_all();
  std::vector<pollfd> fds;
  std::vector<std::size_t> fd_worker;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      reap_exited();
      drain_all();
      publish_pending();
      if (service_exit_) return;
      fds.assign(1, pollfd{event_fd_, POLLIN, 0});
      fd_worker.clear();
      for (std::size_t i = 0; i < workers_.size(); ++i) {
        if (!workers_[i].alive) continue;
        fds.push_back(pollfd{workers_[i].pidfd, POLLIN, 0});
        fd_worker.push_back(i);
      }
    }
    const int ready = ::poll(fds.data(), fds.size(), -1);
    if (ready < 0 && errno != EINTR) std::abort();  // cannot watch the workers: never hang
    std::uint64_t count;
    while (read(event_fd_, &count, sizeof count) > 0) {
    }
    std::lock_guard lock(mutex_);
    for (std::size_t k = 1; k < fds.size(); ++k) {
      if (fds[k].revents != 0) workers_[fd_worker[k - 1]].exited = true;
      fds[k].revents = 0;
    }
  }
}

// Collects results that arrive while no caller waits. Workers wake it through a futex in the
// shared mapping rather than a descriptor, which a task could close (or reuse for a file of
// its own); a thread of its own because poll() cannot wait on a futex and the pidfds at once.
void Core::collector_main() {
  Header& h = channel_.header();
  for (;;) {
    // Read before looking at service_exit_: join() sets it, then bumps the signal, so a wake-up
    // for exit is never missed.
    const std::uint32_t seen = h.collector_signal.load(std::memory_order_seq_cst);
    bool terminated;
    {
      std::lock_guard lock(mutex_);
      if (service_exit_) return;
      drain_all();
      terminated = terminated_;  // killed workers' undrained rings are no results to wait for
    }
    h.collector_sleeping.store(1, std::memory_order_seq_cst);
    if (terminated || !results_waiting()) wait_detail::futex_wait(h.collector_signal, seen);
    h.collector_sleeping.store(0, std::memory_order_seq_cst);
  }
}

bool Core::results_waiting() const {
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    const WorkerControl& c = channel_.control(i);
    if (c.head.load(std::memory_order_seq_cst) != c.tail.load(std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

void Core::wake_service() {
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t written = write(event_fd_, &one, sizeof one);
}

void Core::spawn(std::size_t index) {
  next_token_ = next_token_ % static_cast<std::uint32_t>(kOwnerMask) + 1;
  const std::uint32_t token = next_token_;
  WorkerControl& c = channel_.control(index);
  c.head.store(0, std::memory_order_relaxed);
  c.tail.store(0, std::memory_order_relaxed);
  c.sleeping.store(0, std::memory_order_relaxed);
  c.waiting_for_space.store(0, std::memory_order_relaxed);
  c.deadline_ns.store(0, std::memory_order_relaxed);
  const pid_t pid = fork();
  if (pid < 0) throw_errno("ProcessPool: fork of a worker");
  if (pid == 0) {
    // Die with the parent. The parent may have died between fork() and prctl(): then we
    // have been re-parented already and must go at once.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent_pid_) _exit(1);
    for (const Worker& sibling : workers_) {
      if (sibling.pidfd >= 0) ::close(sibling.pidfd);
    }
    ::close(event_fd_);  // the worker wakes the parent through the mapping alone
    run_worker(channel_, options_, index, token);
  }
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    throw_errno("ProcessPool: pidfd_open of a worker");
  }
  workers_[index] = Worker{pid, pidfd, token, true, false};
  ++live_workers_;
}

void Core::reap_exited() {
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker& w = workers_[i];
    if (!w.alive || !w.exited) continue;
    w.exited = false;
    int status = 0;
    const pid_t reaped = waitpid(w.pid, &status, WNOHANG);
    if (reaped == 0) continue;                // not gone yet after all
    if (reaped < 0) status = 0;               // reaped elsewhere (SIGCHLD ignored): unknown
    handle_exit(i, status);
  }
}

void Core::handle_exit(std::size_t index, int wait_status) {
  Worker& w = workers_[index];
  // Results the worker published before it died are good.
  drain(index);
  std::vector<std::uint64_t> held;
  for (std::uint64_t position = free_tail_; position < published_; ++position) {
    if (inflight_[position % kSlots].live &&
        channel_.slot(position).word.load(std::memory_order_acquire) ==
            ((position << kOwnerBits) | w.token)) {
      held.push_back(position);
    }
  }
  const async_detail::Failure died = exit_failure(index, wait_status);
  if (options_.initializer && !w.initialized && !initializer_failure_) {
    // Died in its initializer: forking another would die the same way.
    initializer_failure_ = async_detail::Failure::initializer(
        "procpar::WorkerDied", WorkerDied(w.pid, wait_status).what());
  }
  Header& h = channel_.header();
  std::uint32_t token = w.token;
  h.spinner.compare_exchange_strong(token, 0);  // it may have died spinning
  ::close(w.pidfd);
  w = Worker{};
  --live_workers_;
  changed_.notify_all();
  // Replace the worker before failing its chunk, so that a caller who sees WorkerDied finds
  // the pool whole again.
  if (initializer_failure_ && !stopping_ && !terminated_) {
    // No replacement: the work no worker holds yet fails, unless live workers can still run it.
    if (live_workers_ == 0) {
      fail_everything(*initializer_failure_);
    } else {
      fail_pending(*initializer_failure_);
      // Published tasks may have been left to the dead worker (wake_workers() wakes no sleeper
      // while another worker spins): the live ones must look.
      bump_and_wake(h.task_signal);
    }
  } else if (!stopping_ && !terminated_) {
    try {
      spawn(index);
    } catch (const std::system_error&) {
      // Out of processes: carry on with fewer workers. With none left, nothing would run.
      if (live_workers_ == 0) fail_everything(died);
    }
  }
  for (std::uint64_t position : held) {
    Inflight& entry = inflight_[position % kSlots];
    if (!entry.live) continue;
    entry.job->fail(entry.chunk, died);
    release(position);
  }
  publish_pending();
}

void Core::note_initializer(std::size_t index, std::uint32_t status, ByteReader& payload) {
  if (status == kInitDone) {
    workers_[index].initialized = true;
    ++initialized_workers_;
  } else if (!initializer_failure_) {
    std::string type_name = decode<std::string>(payload);
    std::string message = decode<std::string>(payload);
    initializer_failure_ =
        async_detail::Failure::initializer(std::move(type_name), std::move(message));
  }
  changed_.notify_all();
}

// Why a worker that held a task ended: killed by its own timer at the task's deadline
// (TaskTimeout), or any other death (WorkerDied).
async_detail::Failure Core::exit_failure(std::size_t index, int wait_status) const {
  const std::int64_t deadline = channel_.control(index).deadline_ns.load(std::memory_order_acquire);
  if (deadline != 0 && WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGKILL &&
      steady_now_ns() >= deadline) {
    return async_detail::Failure::timed_out(
        "the task ran past the pool's task_time_limit of " +
        describe_duration(options_.task_time_limit) + ": its worker process " +
        std::to_string(workers_[index].pid) + " was killed and replaced");
  }
  return async_detail::Failure::worker_died(workers_[index].pid, wait_status);
}

void Core::submit(std::shared_ptr<Job> job) {
  check_owner();
  std::lock_guard lock(mutex_);
  if (!open_) throw PoolClosed();
  if (initializer_failure_) initializer_failure_->raise();
  outstanding_ += job->chunks();
  pending_.push_back(std::move(job));
  publish_pending();
}

void Core::check_open() {
  check_owner();
  std::lock_guard lock(mutex_);
  if (!open_) throw PoolClosed();
  if (initializer_failure_) initializer_failure_->raise();
}

bool Core::poll(bool must) {
  if (!owned_here()) return false;
  std::unique_lock lock(mutex_, std::defer_lock);
  if (must) {
    lock.lock();
  } else if (!lock.try_lock()) {
    return false;
  }
  if (terminated_ || joined_) return false;
  return drain_all();
}

void Core::close() {
  check_owner();
  std::lock_guard lock(mutex_);
  open_ = false;
}

void Core::terminate() {
  check_owner();
  {
    std::lock_guard lock(mutex_);
    open_ = false;
    if (terminated_ || joined_) return;
    terminated_ = true;
    for (Worker& w : workers_) {
      if (w.alive) kill(w.pid, SIGKILL);
    }
    for (Worker& w : workers_) {
      if (!w.alive) continue;
      while (waitpid(w.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      ::close(w.pidfd);
      w = Worker{};
    }
    live_workers_ = 0;
    fail_everything(async_detail::Failure::terminated());
  }
  changed_.notify_all();
}

void Core::join() {
  check_owner();
  std::unique_lock lock(mutex_);
  if (open_) throw std::logic_error("ProcessPool::join() before close() or terminate()");
  if (joined_) return;
  if (!terminated_) {
    changed_.wait(lock, [this] { return outstanding_ == 0 || terminated_; });
    stopping_ = true;
    Header& h = channel_.header();
    h.stop.store(1, std::memory_order_seq_cst);
    bump_and_wake(h.task_signal);
    changed_.wait(lock, [this] { return live_workers_ == 0 || terminated_; });
  }
  joined_ = true;
  service_exit_ = true;
  lock.unlock();
  wake_service();
  if (service_.joinable()) service_.join();
  bump_and_wake(channel_.header().collector_signal);
  if (collector_.joinable()) collector_.join();
  lock.lock();
  ::close(event_fd_);
  event_fd_ = -1;
}

// ---- the free functions ProcessPool's templates call -----------------------------------------

std::shared_ptr<Core> start_core(const PoolOptions& options) {
  return std::make_shared<Core>(options);
}
std::size_t core_workers(const Core& core) { return core.workers(); }
bool core_owned_here(const Core& core) { return core.owned_here(); }
std::shared_ptr<async_detail::Driver> core_driver(const std::shared_ptr<Core>& core) {
  return core;
}
void core_submit(Core& core, std::shared_ptr<Job> job) { core.submit(std::move(job)); }
void core_check_open(Core& core) { core.check_open(); }
void core_close(Core& core) { core.close(); }
void core_join(Core& core) { core.join(); }
void core_terminate(Core& core) { core.terminate(); }

}  // namespace process_pool_detail

ProcessTransport::ProcessTransport(const PoolOptions& options)
    : core_(process_pool_detail::start_core(options)) {}

void ProcessTransport::check_argument_bytes(std::size_t bytes) {
  if (bytes > kMaxArgumentBytes) {
    throw MessageTooLarge("ProcessPool: the task's arguments take " + std::to_string(bytes) +
                          " bytes, more than the channel's limit of " +
                          process_pool_detail::mebibytes(kMaxArgumentBytes) +
                          ": put bulk data in a RawArray and pass its span");
  }
}

}  // namespace procpar