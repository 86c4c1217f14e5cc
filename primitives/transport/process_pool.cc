#include "primitives/process_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "primitives/shared_array.h"
#include "primitives/wait.h"

namespace procpar {
namespace process_pool_detail {
namespace {

// How the shared mapping is laid out, and the protocol over it.
//
// Tasks: a ring of kSlots slots. The parent writes a chunk's arguments into the argument arena,
// fills a slot and publishes it by storing word = position << 16. A worker claims a published
// slot with one compare-and-swap to (position << 16) | its token: the claim and the record of
// who holds the chunk are the same atomic write, so a worker that dies at any instant either
// holds a chunk the parent can see or holds nothing. Positions only grow, so a stale claim
// attempt on a reused slot fails.
//
// Results: each worker owns a ring of records {position, status, size, payload}, written by the
// worker alone and read by the parent alone (the parent lock serialises parent readers).
//
// Sleeping: idle workers spin (at most one at a time, so idle workers leave the cores to the
// busy ones) and then sleep on the futex task_signal; the parent wakes as many as it published
// tasks for. The parent's collector thread sleeps on the futex collector_signal; a worker
// bumps it after a result only when the collector is asleep and no caller is polling. Workers
// hold no descriptor of the pool's: a task may close every descriptor of its process, and the
// pool must still work. The parent's service thread sleeps in poll() on the workers' pidfds
// (and an eventfd only the parent writes).

constexpr std::size_t kSlots = 1024;
constexpr std::size_t kArenaBytes = ProcessPool::kMaxArgumentBytes * 2;
// Twice the largest record and a page: a record that must rewind always fits once the ring is
// drained (see push_result).
constexpr std::size_t kRingBytes = ProcessPool::kMaxResultBytes * 2 + 4096;
constexpr std::size_t kRecordAlign = 16;
// A ring that is empty and written past this offset starts again at 0, so that small messages
// keep reusing the same (already touched) pages.
constexpr std::uint64_t kRewindAfter = 64 << 10;
// An idle worker wakes this often to drop its mappings of arrays freed meanwhile (otherwise
// their memory stays allocated until the worker's next task). A timed sleep rather than a
// wake-up from the freeing process: an array is freed by whichever process owns it, which
// knows nothing of the pools whose workers mapped it, and the cost stays off the task path
// (a sleeping worker makes 10 futex calls a second; Python's Pool polls its workers at the
// same 0.1 s).
constexpr std::chrono::milliseconds kIdleReleaseInterval{100};
constexpr unsigned kOwnerBits = 16;
constexpr std::uint64_t kOwnerMask = (std::uint64_t{1} << kOwnerBits) - 1;

enum Status : std::uint32_t { kOk = 1, kTaskFailed = 2, kResultTooLarge = 3, kRewind = 4 };
// A worker's first record when the pool has an initializer (kInitFailed: type and message; the
// worker exits after it); kInitFailed also when a worker cannot arm its task_time_limit timer.
// Neither is a task's result: its position means nothing.
enum InitStatus : std::uint32_t { kInitDone = 5, kInitFailed = 6 };

struct RecordHeader {
  std::uint64_t position;
  std::uint32_t status;
  std::uint32_t size;
};
static_assert(sizeof(RecordHeader) == kRecordAlign);

struct alignas(64) Header {
  alignas(64) std::atomic<std::uint64_t> published;  // slots [0, published) have been written
  std::atomic<std::uint32_t> task_signal;            // futex: bumped on publish and on stop
  std::atomic<std::uint32_t> stop;                   // join(): idle workers exit
  alignas(64) std::atomic<std::uint64_t> claim_hint;  // every position below is claimed
  std::atomic<std::uint32_t> spinner;                 // token of the idle worker spinning, or 0
  alignas(64) std::atomic<std::uint32_t> collector_armed;  // the collector thread sleeps
  std::atomic<std::uint32_t> collector_signal;  // futex: bumped to wake the collector
  std::atomic<std::uint32_t> pollers;  // parent threads draining results while they wait
  alignas(64) std::atomic<std::uint32_t> progress;  // futex: bumped when a result arrives
  std::atomic<std::uint32_t> sleepers;              // parent threads asleep on `progress`
};

struct alignas(64) Slot {
  std::atomic<std::uint64_t> word;
  std::uintptr_t runner;
  std::uintptr_t function;
  std::uint64_t arg_offset;
  std::uint64_t arg_size;
};

struct alignas(64) WorkerControl {
  alignas(64) std::atomic<std::uint64_t> head;  // result bytes written (worker)
  std::atomic<std::uint32_t> sleeping;          // asleep on task_signal
  std::atomic<std::uint32_t> waiting_for_space;
  alignas(64) std::atomic<std::uint64_t> tail;  // result bytes consumed (parent)
  std::atomic<std::uint32_t> space_signal;      // futex: bumped when the parent consumes
  // task_time_limit only: the running task's deadline (steady clock, ns), 0 between tasks.
  // Read by the parent after the worker died, to tell a timeout from another death.
  alignas(64) std::atomic<std::int64_t> deadline_ns;
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "the channel's atomics must be lock-free to work across processes");

constexpr std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

constexpr std::size_t kPage = 4096;

struct Layout {
  std::size_t slots;
  std::size_t controls;
  std::size_t arena;
  std::size_t rings;
  std::size_t total;

  explicit Layout(std::size_t workers) {
    slots = round_up(sizeof(Header), kPage);
    controls = round_up(slots + kSlots * sizeof(Slot), kPage);
    arena = round_up(controls + workers * sizeof(WorkerControl), kPage);
    rings = arena + kArenaBytes;
    total = rings + workers * kRingBytes;
  }
};

std::string mebibytes(std::size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// A failure travels as a record in the worker's result ring like any result, so it must fit
// the channel's limit too (a record larger than the ring would wait for room forever). A type
// name or message longer than its share is cut, and says what it was.
constexpr std::size_t kMaxFailureTypeBytes = ProcessPool::kMaxResultBytes / 4;
constexpr std::size_t kMaxFailureMessageBytes = ProcessPool::kMaxResultBytes / 2;

std::string cut_to_fit(std::string text, std::size_t limit, const char* what) {
  if (text.size() <= limit) return text;
  const std::string note = "... [cut: the " + std::string(what) + " took " +
                           std::to_string(text.size()) + " bytes, more than the " +
                           mebibytes(limit) + " a failure may carry through the channel]";
  text.resize(limit - note.size());
  text += note;
  return text;
}

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// This process's id, kept current in forked children by an atfork handler, so that a pool can
// tell cheaply (no system call) whether it is being used by the process that owns it.
std::atomic<pid_t> current_pid{0};

pid_t this_process() {
  static const bool registered = [] {
    current_pid.store(getpid());
    pthread_atfork(nullptr, nullptr, [] { current_pid.store(getpid()); });
    return true;
  }();
  (void)registered;
  return current_pid.load(std::memory_order_relaxed);
}

// A forked copy of a pool has the handles of the pool's threads but not the threads, and
// std::thread's destructor aborts on a joinable handle: the copy's handles are kept here,
// reachable and never destroyed (joining or detaching a thread of another process is undefined).
void forget_thread(std::thread thread) {
  static std::mutex mutex;
  static auto* const forgotten = new std::vector<std::thread>;
  std::lock_guard lock(mutex);
  forgotten->push_back(std::move(thread));
}

}  // namespace

class Core final : public async_detail::Driver {
 public:
  explicit Core(const PoolOptions& options);
  ~Core() override;

  // A pool belongs to the process that created it. In a forked copy (a worker, or a child the
  // program forked) its lock may be held by a thread that does not exist there, and its
  // workers are not that process's children: refuse, never deadlock or kill another's workers.
  bool owned_here() const { return this_process() == parent_pid_; }
  void check_owner() const {
    if (!owned_here()) {
      throw std::logic_error("ProcessPool used in a forked copy of its process (a task, or a "
                             "child of fork()): a pool can only be used by the process that "
                             "created it");
    }
  }

  std::size_t workers() const { return workers_.size(); }
  void submit(std::shared_ptr<Job> job);
  void check_open();
  void close();
  void join();
  void terminate();

  void enter() override {
    if (owned_here()) header().pollers.fetch_add(1, std::memory_order_seq_cst);
  }
  void leave() override {
    if (owned_here()) header().pollers.fetch_sub(1, std::memory_order_seq_cst);
  }
  bool poll(bool must) override;
  std::uint32_t begin_sleep() override;
  void sleep(std::uint32_t seen, std::optional<wait_detail::Clock::time_point> deadline) override;
  void end_sleep() override;

 private:
  struct Worker {
    pid_t pid = 0;
    int pidfd = -1;
    std::uint32_t token = 0;
    bool alive = false;
    bool exited = false;  // its pidfd polled readable: reap it
    bool initialized = false;  // sent kInitDone (pools with an initializer)
  };
  struct Inflight {
    std::shared_ptr<Job> job;
    std::size_t chunk = 0;
    std::uint64_t arena_begin = 0;
    std::uint64_t arena_end = 0;
    bool live = false;
  };

  Header& header() const { return *reinterpret_cast<Header*>(base_); }
  Slot& slot(std::uint64_t position) const {
    return reinterpret_cast<Slot*>(base_ + layout_.slots)[position % kSlots];
  }
  WorkerControl& control(std::size_t index) const {
    return reinterpret_cast<WorkerControl*>(base_ + layout_.controls)[index];
  }
  std::byte* arena() const { return base_ + layout_.arena; }
  std::byte* ring(std::size_t index) const { return base_ + layout_.rings + index * kRingBytes; }

  // Parent side; all with mutex_ held.
  void service_main();
  void collector_main();
  void spawn(std::size_t index);
  void reap_exited();
  void handle_exit(std::size_t index, int wait_status);
  bool drain(std::size_t index);
  bool drain_all();
  void deliver(const RecordHeader& record, ByteReader& payload);
  void release(std::uint64_t position);
  void pump();
  bool allocate_arena(std::size_t bytes, std::uint64_t* begin);
  void publish(std::size_t count);
  void fail_everything(const async_detail::Failure& failure);
  void fail_pending(const async_detail::Failure& failure);
  void note_initializer(std::size_t index, std::uint32_t status, ByteReader& payload);
  async_detail::Failure exit_failure(std::size_t index, int wait_status) const;
  bool results_waiting() const;
  void wake_service();
  void wake_collector_to_exit();
  void announce_progress();

  // Worker side: runs in the forked child, touches only the mapping and its own stack/heap.
  [[noreturn]] void worker_main(std::size_t index, std::uint32_t token);
  void worker_initialize(std::size_t index);
  bool try_claim(std::uint32_t token, std::uint64_t* position);
  void idle_wait(std::size_t index, std::uint32_t token);
  void push_result(std::size_t index, std::uint64_t position, std::uint32_t status,
                   const ByteWriter& payload);
  void wake_collector();

  Layout layout_;
  std::byte* base_ = nullptr;
  int event_fd_ = -1;
  pid_t parent_pid_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;  // outstanding_, live_workers_ or started_ changed
  std::vector<Worker> workers_;
  std::size_t live_workers_ = 0;
  std::uint32_t next_token_ = 0;
  bool started_ = false;
  std::exception_ptr start_error_;
  PoolOptions options_;
  std::size_t initialized_workers_ = 0;  // kInitDone records received
  // The initializer failed (or a worker died in it): no more replacements, no more submissions.
  std::optional<async_detail::Failure> initializer_failure_;
  bool open_ = true;
  bool stopping_ = false;    // join(): workers were told to exit
  bool terminated_ = false;  // terminate(): workers were killed
  bool service_exit_ = false;
  bool joined_ = false;
  std::thread service_;    // forks and watches the workers
  std::thread collector_;  // delivers results when no caller is waiting

  std::deque<std::shared_ptr<Job>> pending_;  // jobs with chunks not yet published
  std::size_t pending_next_chunk_ = 0;        // of pending_.front()
  std::size_t outstanding_ = 0;               // chunks submitted, not yet delivered or failed
  std::vector<Inflight> inflight_ = std::vector<Inflight>(kSlots);
  std::uint64_t published_ = 0;  // next position to publish
  std::uint64_t free_tail_ = 0;  // oldest position not yet released
  std::uint64_t arena_head_ = 0;
  std::uint64_t arena_tail_ = 0;
  ByteWriter scratch_;          // the next chunk's arguments, encoded
  bool scratch_ready_ = false;  // scratch_ holds pending_.front()'s next chunk
};

Core::Core(const PoolOptions& options)
    : layout_(options.workers), workers_(options.workers), options_(options) {
  const std::size_t workers = options.workers;
  pool_options_detail::check_time_limit(options, "ProcessPool");
  if (workers == 0) {
    throw std::invalid_argument("ProcessPool: the number of workers must be at least 1");
  }
  if (workers > kOwnerMask / 2) throw std::invalid_argument("ProcessPool: too many workers");
  // Anonymous and shared: inherited by every fork, invisible in /dev/shm, gone with the last
  // process that maps it. NORESERVE: only the pages the messages touch are ever allocated.
  void* base = mmap(nullptr, layout_.total, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) throw_errno("ProcessPool: mmap of the shared channel");
  base_ = static_cast<std::byte*>(base);
  new (&header()) Header{};
  for (std::size_t i = 0; i < kSlots; ++i) {
    // A word no position can match until the slot is first published.
    new (&slot(i)) Slot{};
    slot(i).word.store(kOwnerMask, std::memory_order_relaxed);
  }
  for (std::size_t i = 0; i < workers; ++i) new (&control(i)) WorkerControl{};
  event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) {
    munmap(base_, layout_.total);
    throw_errno("ProcessPool: eventfd");
  }
  parent_pid_ = this_process();
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
    munmap(base_, layout_.total);
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
    munmap(base_, layout_.total);
    failure.raise();
  }
}

Core::~Core() {
  if (!owned_here()) {
    if (service_.joinable()) forget_thread(std::move(service_));
    if (collector_.joinable()) forget_thread(std::move(collector_));
  }
  if (event_fd_ >= 0) ::close(event_fd_);
  munmap(base_, layout_.total);
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
      pump();
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
  Header& h = header();
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
    h.collector_armed.store(1, std::memory_order_seq_cst);
    if (terminated || !results_waiting()) wait_detail::futex_wait(h.collector_signal, seen);
    h.collector_armed.store(0, std::memory_order_seq_cst);
  }
}

void Core::wake_collector_to_exit() {
  Header& h = header();
  h.collector_signal.fetch_add(1, std::memory_order_seq_cst);
  wait_detail::futex_wake(h.collector_signal);
}

bool Core::results_waiting() const {
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    const WorkerControl& c = control(i);
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
  WorkerControl& c = control(index);
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
    worker_main(index, token);
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
        slot(position).word.load(std::memory_order_acquire) ==
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
  Header& h = header();
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
      // Published tasks may have been left to the dead worker (publish() wakes no sleeper
      // while another worker spins): the live ones must look.
      h.task_signal.fetch_add(1, std::memory_order_seq_cst);
      wait_detail::futex_wake(h.task_signal);
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
  pump();
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

namespace {

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             wait_detail::Clock::now().time_since_epoch())
      .count();
}

std::string describe_duration(std::chrono::nanoseconds d) {
  const std::int64_t ns = d.count();
  if (ns % 1000000 == 0) return std::to_string(ns / 1000000) + " ms";
  if (ns % 1000 == 0) return std::to_string(ns / 1000) + " us";
  return std::to_string(ns) + " ns";
}

}  // namespace

// Why a worker that held a task ended: killed by its own timer at the task's deadline
// (TaskTimeout), or any other death (WorkerDied).
async_detail::Failure Core::exit_failure(std::size_t index, int wait_status) const {
  const std::int64_t deadline = control(index).deadline_ns.load(std::memory_order_acquire);
  if (deadline != 0 && WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGKILL &&
      steady_now_ns() >= deadline) {
    return async_detail::Failure::timed_out(
        "the task ran past the pool's task_time_limit of " +
        describe_duration(options_.task_time_limit) + ": its worker process " +
        std::to_string(workers_[index].pid) + " was killed and replaced");
  }
  return async_detail::Failure::worker_died(workers_[index].pid, wait_status);
}

bool Core::drain_all() {
  bool any = false;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    if (workers_[i].alive) any |= drain(i);
  }
  return any;
}

bool Core::drain(std::size_t index) {
  WorkerControl& c = control(index);
  std::uint64_t tail = c.tail.load(std::memory_order_relaxed);
  const std::uint64_t head = c.head.load(std::memory_order_acquire);
  if (tail == head) return false;
  std::byte* bytes = ring(index);
  while (tail != head) {
    const std::size_t offset = tail % kRingBytes;
    RecordHeader record;
    std::memcpy(&record, bytes + offset, sizeof record);
    if (record.status == kRewind) {
      tail += kRingBytes - offset;
    } else if (record.status == kInitDone || record.status == kInitFailed) {
      ByteReader payload(bytes + offset + sizeof record, record.size);
      note_initializer(index, record.status, payload);
      tail += round_up(sizeof record + record.size, kRecordAlign);
    } else {
      ByteReader payload(bytes + offset + sizeof record, record.size);
      deliver(record, payload);
      tail += round_up(sizeof record + record.size, kRecordAlign);
    }
    c.tail.store(tail, std::memory_order_seq_cst);
    if (c.waiting_for_space.load(std::memory_order_seq_cst) != 0) {
      c.space_signal.fetch_add(1, std::memory_order_seq_cst);
      wait_detail::futex_wake(c.space_signal);
    }
  }
  pump();
  return true;
}

void Core::deliver(const RecordHeader& record, ByteReader& payload) {
  Inflight& entry = inflight_[record.position % kSlots];
  if (!entry.live || record.position < free_tail_ || record.position >= published_) {
    // A result for a task that is not running: something overwrote the channel. Results can
    // no longer be trusted, and going on could hand a caller a wrong value.
    static const char message[] = "procpar::ProcessPool: result channel corrupted; aborting\n";
    [[maybe_unused]] ssize_t written = write(2, message, sizeof message - 1);
    std::abort();
  }
  try {
    switch (record.status) {
      case kOk:
        entry.job->deliver(entry.chunk, payload);
        break;
      case kTaskFailed: {
        std::string type_name = decode<std::string>(payload);
        std::string message = decode<std::string>(payload);
        entry.job->fail(entry.chunk,
                        async_detail::Failure::task(std::move(type_name), std::move(message)));
        break;
      }
      case kResultTooLarge:
        entry.job->fail(entry.chunk,
                        async_detail::Failure::too_large(decode<std::string>(payload)));
        break;
      default:
        throw DecodeError("procpar: unknown result status " + std::to_string(record.status));
    }
  } catch (...) {
    entry.job->fail(entry.chunk, async_detail::Failure::from_current_exception());
  }
  release(record.position);
}

void Core::release(std::uint64_t position) {
  Inflight& entry = inflight_[position % kSlots];
  entry.live = false;
  entry.job.reset();
  while (free_tail_ < published_ && !inflight_[free_tail_ % kSlots].live) ++free_tail_;
  if (free_tail_ == published_) {
    // Nothing in flight: start the arena again at its beginning, whose pages are warm.
    arena_head_ = arena_tail_ = round_up(arena_head_, kArenaBytes);
  } else {
    arena_tail_ = inflight_[free_tail_ % kSlots].arena_begin;
  }
  if (--outstanding_ == 0) changed_.notify_all();
  announce_progress();
}

// Wakes the callers asleep in a wait: a result they may be waiting for has been delivered
// or failed (by this thread, which may not be the one the worker woke).
void Core::announce_progress() {
  Header& h = header();
  if (h.sleepers.load(std::memory_order_seq_cst) != 0) {
    h.progress.fetch_add(1, std::memory_order_seq_cst);
    wait_detail::futex_wake(h.progress);
  }
}

std::uint32_t Core::begin_sleep() {
  check_owner();  // a forked copy's results can never arrive: fail rather than wait forever
  Header& h = header();
  h.sleepers.fetch_add(1, std::memory_order_seq_cst);
  return h.progress.load(std::memory_order_seq_cst);
}

void Core::sleep(std::uint32_t seen, std::optional<wait_detail::Clock::time_point> deadline) {
  wait_detail::futex_wait(header().progress, seen, deadline);
}

void Core::end_sleep() { header().sleepers.fetch_sub(1, std::memory_order_seq_cst); }

bool Core::allocate_arena(std::size_t bytes, std::uint64_t* begin) {
  std::uint64_t at = arena_head_;
  const std::size_t offset = at % kArenaBytes;
  if (offset + bytes > kArenaBytes) at += kArenaBytes - offset;  // keep messages contiguous
  if (at + bytes - arena_tail_ > kArenaBytes) return false;      // wait for completions
  *begin = at;
  arena_head_ = round_up(at + bytes, 64);
  return true;
}

void Core::pump() {
  std::size_t count = 0;
  while (!pending_.empty() && !terminated_) {
    if (published_ - free_tail_ >= kSlots) break;
    Job& job = *pending_.front();
    const std::size_t chunk = pending_next_chunk_;
    bool failed = false;
    if (!scratch_ready_) {
      scratch_.clear();
      try {
        job.encode_chunk(chunk, scratch_);
        if (scratch_.size() > ProcessPool::kMaxArgumentBytes) {
          job.fail(chunk, async_detail::Failure::too_large(
                              "the arguments of a chunk take " + std::to_string(scratch_.size()) +
                              " bytes, more than the channel's limit of " +
                              mebibytes(ProcessPool::kMaxArgumentBytes) +
                              ": put bulk data in a RawArray and pass its span, or use a smaller "
                              "chunksize"));
          failed = true;
        }
      } catch (...) {
        job.fail(chunk, async_detail::Failure::from_current_exception());
        failed = true;
      }
      scratch_ready_ = !failed;
    }
    if (!failed) {
      std::uint64_t begin;
      if (!allocate_arena(scratch_.size(), &begin)) break;
      std::memcpy(arena() + begin % kArenaBytes, scratch_.data(), scratch_.size());
      scratch_ready_ = false;
      const std::uint64_t position = published_++;
      Inflight& entry = inflight_[position % kSlots];
      entry.job = pending_.front();
      entry.chunk = chunk;
      entry.arena_begin = begin;
      entry.arena_end = begin + scratch_.size();
      entry.live = true;
      if (free_tail_ == position) arena_tail_ = begin;
      Slot& s = slot(position);
      s.runner = reinterpret_cast<std::uintptr_t>(job.runner());
      s.function = job.function();
      s.arg_offset = begin % kArenaBytes;
      s.arg_size = scratch_.size();
      s.word.store(position << kOwnerBits, std::memory_order_release);
      ++count;
    } else {
      if (--outstanding_ == 0) changed_.notify_all();
      announce_progress();
    }
    if (++pending_next_chunk_ == job.chunks()) {
      pending_.pop_front();
      pending_next_chunk_ = 0;
    }
  }
  if (count != 0) publish(count);
}

void Core::publish(std::size_t count) {
  Header& h = header();
  h.published.store(published_, std::memory_order_seq_cst);
  h.task_signal.fetch_add(1, std::memory_order_seq_cst);
  std::size_t wanted = count - (h.spinner.load(std::memory_order_seq_cst) != 0 ? 1 : 0);
  if (wanted == 0) return;
  std::size_t sleeping = 0;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    sleeping += control(i).sleeping.load(std::memory_order_seq_cst);
  }
  if (sleeping != 0) {
    wait_detail::futex_wake(h.task_signal, static_cast<int>(std::min(wanted, sleeping)));
  }
}

void Core::fail_everything(const async_detail::Failure& failure) {
  for (std::uint64_t position = free_tail_; position < published_; ++position) {
    Inflight& entry = inflight_[position % kSlots];
    if (!entry.live) continue;
    entry.job->fail(entry.chunk, failure);
    release(position);
  }
  fail_pending(failure);
}

// Fails the chunks not yet handed to the workers.
void Core::fail_pending(const async_detail::Failure& failure) {
  if (scratch_ready_) scratch_ready_ = false;
  while (!pending_.empty()) {
    Job& job = *pending_.front();
    for (std::size_t chunk = pending_next_chunk_; chunk < job.chunks(); ++chunk) {
      job.fail(chunk, failure);
      --outstanding_;
    }
    pending_.pop_front();
    pending_next_chunk_ = 0;
  }
  changed_.notify_all();
  announce_progress();
}

void Core::submit(std::shared_ptr<Job> job) {
  check_owner();
  std::lock_guard lock(mutex_);
  if (!open_) throw PoolClosed();
  if (initializer_failure_) initializer_failure_->raise();
  outstanding_ += job->chunks();
  pending_.push_back(std::move(job));
  pump();
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
    Header& h = header();
    h.stop.store(1, std::memory_order_seq_cst);
    h.task_signal.fetch_add(1, std::memory_order_seq_cst);
    wait_detail::futex_wake(h.task_signal);
    changed_.wait(lock, [this] { return live_workers_ == 0 || terminated_; });
  }
  joined_ = true;
  service_exit_ = true;
  lock.unlock();
  wake_service();
  if (service_.joinable()) service_.join();
  wake_collector_to_exit();
  if (collector_.joinable()) collector_.join();
  lock.lock();
  ::close(event_fd_);
  event_fd_ = -1;
}

// ---- worker side -----------------------------------------------------------------------------

void Core::worker_main(std::size_t index, std::uint32_t token) {
  ByteWriter results;
  ByteWriter failure;
  if (options_.initializer) worker_initialize(index);
  WorkerControl& control_block = control(index);
  const bool limited = options_.task_time_limit != std::chrono::nanoseconds::zero();
  timer_t timer{};
  itimerspec arm{};
  const itimerspec disarm{};
  if (limited) {
    // Delivers SIGKILL to this process when the running task's time is up: the kernel enforces
    // the limit, so a task stuck anywhere (a loop, a system call, a blocked signal) is stopped,
    // and a task that ends in time can never be hit (the timer is disarmed before its result
    // is pushed and before the next task is claimed).
    sigevent event{};
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = SIGKILL;
    if (timer_create(CLOCK_MONOTONIC, &event, &timer) != 0) {
      const std::string message = std::string("timer_create for the task_time_limit: ") +
                                  std::strerror(errno);
      failure.clear();
      encode(failure, std::string("std::system_error"));
      encode(failure, message);
      push_result(index, 0, kInitFailed, failure);
      _exit(1);
    }
    const std::int64_t ns = options_.task_time_limit.count();
    arm.it_value.tv_sec = static_cast<time_t>(ns / 1000000000);
    arm.it_value.tv_nsec = static_cast<long>(ns % 1000000000);
  }
  const std::size_t max_tasks = options_.maxtasksperchild;
  std::size_t tasks_done = 0;
  for (;;) {
    std::uint64_t position;
    while (!try_claim(token, &position)) {
      if (header().stop.load(std::memory_order_acquire) != 0) _exit(0);
      idle_wait(index, token);
    }
    const Slot& s = slot(position);
    const auto runner = reinterpret_cast<Runner>(s.runner);
    ByteReader arguments(arena() + s.arg_offset, s.arg_size);
    results.clear();
    std::uint32_t status = kOk;
    if (limited) {
      control_block.deadline_ns.store(steady_now_ns() + options_.task_time_limit.count(),
                                      std::memory_order_release);
      timer_settime(timer, 0, &arm, nullptr);
    }
    try {
      runner(s.function, arguments, results);
      if (results.size() > ProcessPool::kMaxResultBytes) {
        failure.clear();
        encode(failure, "the results of a chunk take " + std::to_string(results.size()) +
                            " bytes, more than the channel's limit of " +
                            mebibytes(ProcessPool::kMaxResultBytes) +
                            ": return bulk data through a RawArray, or use a smaller chunksize");
        status = kResultTooLarge;
      }
    } catch (...) {
      async_detail::Failure error = async_detail::Failure::from_current_exception();
      failure.clear();
      encode(failure, cut_to_fit(std::move(error.type_name), kMaxFailureTypeBytes,
                                 "exception's type name"));
      encode(failure, cut_to_fit(std::move(error.message), kMaxFailureMessageBytes,
                                 "exception's message"));
      status = kTaskFailed;
    }
    if (limited) {
      timer_settime(timer, 0, &disarm, nullptr);
      control_block.deadline_ns.store(0, std::memory_order_release);
    }
    push_result(index, position, status, status == kOk ? results : failure);
    release_freed_arrays();
    // As Python's maxtasksperchild: the parent sees the exit and forks a replacement.
    if (max_tasks != 0 && ++tasks_done == max_tasks) _exit(0);
  }
}

// Runs the initializer and reports it: kInitDone, or kInitFailed and exit (the parent forks
// no replacement for a failed initializer).
void Core::worker_initialize(std::size_t index) {
  ByteWriter record;
  std::optional<InitializerError> error = pool_options_detail::run_initializer(options_.initializer);
  if (!error) {
    push_result(index, 0, kInitDone, record);
    return;
  }
  // Cut as a task's failure is: the record crosses the same ring.
  encode(record, cut_to_fit(error->type_name(), kMaxFailureTypeBytes, "type name"));
  encode(record, cut_to_fit(error->message(), kMaxFailureMessageBytes, "message"));
  push_result(index, 0, kInitFailed, record);
  _exit(1);
}

bool Core::try_claim(std::uint32_t token, std::uint64_t* position) {
  Header& h = header();
  std::uint64_t t = h.claim_hint.load(std::memory_order_acquire);
  const std::uint64_t published = h.published.load(std::memory_order_acquire);
  for (; t < published; ++t) {
    Slot& s = slot(t);
    std::uint64_t expected = t << kOwnerBits;
    if (s.word.load(std::memory_order_relaxed) != expected) continue;
    if (s.word.compare_exchange_strong(expected, expected | token, std::memory_order_acq_rel)) {
      std::uint64_t hint = h.claim_hint.load(std::memory_order_relaxed);
      while (hint < t + 1 && !h.claim_hint.compare_exchange_weak(hint, t + 1)) {
      }
      *position = t;
      return true;
    }
  }
  return false;
}

void Core::idle_wait(std::size_t index, std::uint32_t token) {
  Header& h = header();
  const auto work_or_stop = [&h] {
    return h.claim_hint.load(std::memory_order_acquire) <
               h.published.load(std::memory_order_acquire) ||
           h.stop.load(std::memory_order_acquire) != 0;
  };
  // One idle worker spins; the others sleep at once, leaving the cores to busy processes.
  std::uint32_t none = 0;
  if (h.spinner.compare_exchange_strong(none, token)) {
    const bool found = wait_detail::spin_until(work_or_stop, wait_detail::kSpinBudget);
    h.spinner.store(0, std::memory_order_seq_cst);
    if (found) return;
  }
  WorkerControl& c = control(index);
  const std::uint32_t seen = h.task_signal.load(std::memory_order_seq_cst);
  c.sleeping.store(1, std::memory_order_seq_cst);
  while (!work_or_stop()) {
    wait_detail::futex_wait(h.task_signal, seen,
                            wait_detail::Clock::now() + kIdleReleaseInterval);
    if (h.task_signal.load(std::memory_order_seq_cst) != seen) break;  // woken: go and look
    // The timeout: let go of arrays freed meanwhile, and sleep on. A worker woken for a task
    // skips this; it releases after the task, as always.
    release_freed_arrays();
  }
  c.sleeping.store(0, std::memory_order_relaxed);
}

void Core::push_result(std::size_t index, std::uint64_t position, std::uint32_t status,
                       const ByteWriter& payload) {
  WorkerControl& c = control(index);
  Header& h = header();
  std::byte* bytes = ring(index);
  const std::uint64_t head = c.head.load(std::memory_order_relaxed);
  const std::size_t record = round_up(sizeof(RecordHeader) + payload.size(), kRecordAlign);
  const std::size_t offset = head % kRingBytes;
  const bool empty = c.tail.load(std::memory_order_acquire) == head;
  // Rewind when the record does not fit before the end, or, to reuse warm pages, when the ring
  // is empty (the skipped tail then counts as used, so only if the record fits in what the
  // rewind frees).
  const bool rewind =
      offset + record > kRingBytes || (empty && offset > kRewindAfter && record <= offset);
  const std::uint64_t start = rewind ? head + (kRingBytes - offset) : head;
  const std::uint64_t end = start + record;
  const auto has_space = [&] { return end - c.tail.load(std::memory_order_seq_cst) <= kRingBytes; };
  if (!has_space()) {
    wake_collector();
    while (!wait_detail::spin_until(has_space, wait_detail::kSpinBudget)) {
      const std::uint32_t seen = c.space_signal.load(std::memory_order_seq_cst);
      c.waiting_for_space.store(1, std::memory_order_seq_cst);
      wake_collector();
      if (!has_space()) wait_detail::futex_wait(c.space_signal, seen);
      c.waiting_for_space.store(0, std::memory_order_seq_cst);
    }
  }
  if (rewind) {
    const RecordHeader marker{0, kRewind, 0};
    std::memcpy(bytes + offset, &marker, sizeof marker);
  }
  const RecordHeader header_bytes{position, status, static_cast<std::uint32_t>(payload.size())};
  std::byte* at = bytes + start % kRingBytes;
  std::memcpy(at, &header_bytes, sizeof header_bytes);
  if (payload.size() != 0) std::memcpy(at + sizeof header_bytes, payload.data(), payload.size());
  c.head.store(end, std::memory_order_seq_cst);
  // Someone must collect the result: a caller spinning in a wait will; a caller asleep in a
  // wait is woken to do it; otherwise the parent's thread, if it sleeps.
  if (h.sleepers.load(std::memory_order_seq_cst) != 0) {
    h.progress.fetch_add(1, std::memory_order_seq_cst);
    wait_detail::futex_wake(h.progress);
  } else if (h.pollers.load(std::memory_order_seq_cst) == 0) {
    wake_collector();
  }
}

void Core::wake_collector() {
  Header& h = header();
  if (h.collector_armed.load(std::memory_order_seq_cst) != 0) {
    h.collector_signal.fetch_add(1, std::memory_order_seq_cst);
    wait_detail::futex_wake(h.collector_signal);
  }
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
