#include "mpi/mpi_pool_transport.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "mpi/dist_array.h"
#include "mpi/mpi_pool_function.h"
#include "primitives/wait.h"

namespace procpar::mpi_pool_detail {
namespace {

using async_detail::Failure;
using pool_detail::Runner;

std::string too_large_message(const char* what, std::size_t bytes) {
  return std::string("procpar: MpiPool: a chunk's ") + what + " take " + std::to_string(bytes) +
         " bytes, over the " + std::to_string(kMaxMessageBytes) +
         " bytes of one MPI message; put bulk data in a DistArray and pass its span";
}

void encode_failure(ByteWriter& out, const Failure& failure) {
  encode(out, static_cast<std::uint8_t>(failure.kind));
  encode(out, failure.type_name);
  encode(out, failure.message);
}

Failure decode_failure(ByteReader& in) {
  const auto kind = static_cast<Failure::Kind>(decode<std::uint8_t>(in));
  std::string type_name = decode<std::string>(in);
  std::string message = decode<std::string>(in);
  if (kind == Failure::Kind::kTooLarge) return Failure::too_large(std::move(message));
  return Failure::task(std::move(type_name), std::move(message));
}

// Runs one task message; leaves the reply in `out` and returns its tag.
int run_task(const std::byte* task, std::size_t size, ByteWriter& out) {
  out.clear();
  try {
    ByteReader in(task, size);
    const auto runner = reinterpret_cast<Runner>(mpi::function_at(decode<std::int64_t>(in)));
    const std::uintptr_t function = mpi::function_at(decode<std::int64_t>(in));
    runner(function, in, out);
    if (out.size() <= kMaxMessageBytes) return kResult;
    const std::size_t bytes = out.size();
    out.clear();
    encode_failure(out, Failure::too_large(too_large_message("results", bytes)));
  } catch (...) {
    out.clear();
    encode_failure(out, Failure::from_current_exception());
  }
  return kFailure;
}

// A task message's runner and function offsets, before the chunk's arguments.
constexpr std::size_t kTaskHeaderBytes = 2 * sizeof(std::int64_t);

constexpr std::chrono::microseconds kServerSpin{200};
constexpr std::chrono::microseconds kServerMaxSleep{1000};
constexpr std::chrono::microseconds kPollFirstSleep{20};
constexpr std::chrono::microseconds kPollMaxSleep{200};
constexpr std::chrono::milliseconds kParkAfter{2};

}  // namespace

PostedReceive::PostedReceive(MPI_Comm comm, int source, MPI_Request* request)
    : comm_(comm), source_(source), request_(request), posted_(kPostedBytes) {
  *request_ = MPI_REQUEST_NULL;
}

PostedReceive::~PostedReceive() {
  if (*request_ == MPI_REQUEST_NULL) return;
  MPI_Cancel(request_);
  MPI_Wait(request_, MPI_STATUS_IGNORE);
}

void PostedReceive::post() {
  mpi::check(MPI_Irecv(posted_.data(), static_cast<int>(posted_.size()), MPI_BYTE, source_,
                       MPI_ANY_TAG, comm_, request_),
             "MPI_Irecv");
}

bool PostedReceive::test(MPI_Status& status) {
  int done = 0;
  mpi::check(MPI_Test(request_, &done, &status), "MPI_Test");
  return done != 0;
}

int PostedReceive::take(const MPI_Status& status) {
  int count = 0;
  mpi::check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  const int tag = status.MPI_TAG;
  if ((tag & kLongBit) == 0) {
    data_ = posted_.data();
    size_ = static_cast<std::size_t>(count);
    return tag;
  }
  ByteReader header(posted_.data(), static_cast<std::size_t>(count));
  long_.resize(decode<std::uint64_t>(header));
  mpi::check(MPI_Recv(long_.data(), static_cast<int>(long_.size()), MPI_BYTE, status.MPI_SOURCE,
                      kBody, comm_, MPI_STATUS_IGNORE),
             "MPI_Recv");
  data_ = long_.data();
  size_ = long_.size();
  return tag & ~kLongBit;
}

void send_message(const std::byte* data, std::size_t size, int rank, int tag, MPI_Comm comm) {
  if (size <= kPostedBytes) {
    mpi::check(MPI_Send(data, static_cast<int>(size), MPI_BYTE, rank, tag, comm), "MPI_Send");
    return;
  }
  ByteWriter header;
  encode(header, static_cast<std::uint64_t>(size));
  mpi::check(MPI_Send(header.data(), static_cast<int>(header.size()), MPI_BYTE, rank,
                      tag | kLongBit, comm),
             "MPI_Send");
  mpi::check(MPI_Send(data, static_cast<int>(size), MPI_BYTE, rank, kBody, comm), "MPI_Send");
}

std::shared_ptr<Dispatcher> start(MPI_Comm comm) {
  int initialised = 0;
  mpi::check(MPI_Initialized(&initialised), "MPI_Initialized");
  int level = MPI_THREAD_SINGLE;
  if (initialised != 0) mpi::check(MPI_Query_thread(&level), "MPI_Query_thread");
  if (level != MPI_THREAD_MULTIPLE) {
    throw std::logic_error(
        "procpar: MpiPool needs MPI initialised with MPI_THREAD_MULTIPLE (rank 0 calls MPI from "
        "the pool's thread and from waiting callers): call MPI_Init_thread(&argc, &argv, "
        "MPI_THREAD_MULTIPLE, &provided) and check `provided`");
  }
  MPI_Comm own = MPI_COMM_NULL;
  mpi::check(MPI_Comm_dup(comm, &own), "MPI_Comm_dup");
  if (mpi::rank_of(own) == 0) return std::make_shared<Dispatcher>(own);
  serve(own);
  mpi::check(MPI_Comm_free(&own), "MPI_Comm_free");
  return nullptr;
}

void serve(MPI_Comm comm) {
  MPI_Request request = MPI_REQUEST_NULL;
  PostedReceive task(comm, 0, &request);
  ByteWriter reply;
  task.post();
  for (;;) {
    MPI_Status status;
    const auto arrived = [&] { return task.test(status); };
    if (!wait_detail::spin_until(arrived, kServerSpin)) {
      // Idle: sleep, backing off, and look once per wake-up. (Spinning the whole budget again
      // after each sleep kept an idle server busy a sixth of the time or more, which, with more
      // ranks than cores, the busy ranks paid for.)
      auto pause = std::chrono::microseconds(10);
      do {
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, kServerMaxSleep);
      } while (!arrived());
    }
    if (task.take(status) == kShutdown) return;
    const int tag = run_task(task.data(), task.size(), reply);
    // The task is spent: the next receive goes up before the reply leaves, so the next task,
    // sent as soon as the reply lands, finds it posted.
    task.post();
    send_message(reply.data(), reply.size(), 0, tag, comm);
  }
}

MPI_Comm checked_world(const PoolOptions& options) {
  const int ranks = mpi::ranks_of(MPI_COMM_WORLD);
  const std::size_t servers = ranks == 1 ? 1 : static_cast<std::size_t>(ranks - 1);
  if (options.workers != servers) {
    throw std::invalid_argument(
        "MpiPool: workers = " + std::to_string(options.workers) + ", but the job's " +
        std::to_string(ranks) + " rank(s) give " + std::to_string(servers) +
        " (ranks 1..k-1 serve; one rank runs the tasks itself): start the job with mpirun -np " +
        std::to_string(options.workers + 1) + ", or ask for " + std::to_string(servers));
  }
  if (options.initializer) {
    throw std::invalid_argument(
        "MpiPool: an initializer is not offered: every rank runs the program, so call the "
        "set-up on every rank before making the pool");
  }
  if (options.maxtasksperchild != 0) {
    throw std::invalid_argument(
        "MpiPool: maxtasksperchild replaces workers, and a server rank cannot be replaced "
        "(ranks come from mpirun)");
  }
  if (options.task_time_limit != std::chrono::nanoseconds::zero()) {
    throw std::invalid_argument(
        "MpiPool: task_time_limit needs a worker that can be killed alone, and killing a rank "
        "aborts the whole job");
  }
  return MPI_COMM_WORLD;
}

void check_argument_bytes(std::size_t bytes) {
  if (bytes + kTaskHeaderBytes > kMaxMessageBytes) {
    throw MessageTooLarge(too_large_message("arguments", bytes + kTaskHeaderBytes));
  }
}

void refuse_on_server() {
  throw std::logic_error(
      "procpar: MpiPool: this rank served the pool's tasks; only rank 0 submits");
}

Dispatcher::Dispatcher(MPI_Comm comm) : comm_(comm), owner_(getpid()) {
  const int ranks = mpi::ranks_of(comm);
  servers_ = static_cast<std::size_t>(ranks - 1);
  running_.resize(static_cast<std::size_t>(ranks));
  reply_requests_.resize(servers_, MPI_REQUEST_NULL);
  completed_.resize(servers_);
  statuses_.resize(servers_);
  for (std::size_t server = 1; server <= servers_; ++server) {
    replies_.push_back(std::make_unique<PostedReceive>(comm, static_cast<int>(server),
                                                       &reply_requests_[server - 1]));
  }
  for (int rank = ranks - 1; rank >= 1; --rank) idle_.push_back(rank);
  if (servers_ != 0) progress_thread_ = std::thread([this] { progress_loop(); });
}

Dispatcher::~Dispatcher() {
  terminate();
  join();
}

std::size_t Dispatcher::workers() const { return servers_ == 0 ? 1 : servers_; }

bool Dispatcher::owned_here() const { return getpid() == owner_; }

void Dispatcher::check_open() {
  std::lock_guard lock(mutex_);
  if (closed_) throw PoolClosed();
}

void Dispatcher::submit(std::shared_ptr<Job> job) {
  // Refuses, here, a function that cannot travel (once per job, not per chunk).
  const std::int64_t runner = mpi::function_offset(reinterpret_cast<std::uintptr_t>(job->runner()));
  const std::int64_t function = mpi::function_offset(job->function());
  std::unique_lock lock(mutex_);
  if (closed_) throw PoolClosed();
  if (servers_ == 0) {
    // Without the lock: a task run here may itself use the pool, as on SerialPool.
    lock.unlock();
    for (std::size_t chunk = 0; chunk < job->chunks(); ++chunk) run_inline(*job, chunk);
    return;
  }
  queue_.push_back(Pending{std::move(job), runner, function});
  send_queued();
}

// A chunk whose encoding, run or delivery throws fails with that exception.
void Dispatcher::run_inline(Job& job, std::size_t chunk) {
  try {
    ByteWriter arguments;
    job.encode_chunk(chunk, arguments);
    ByteReader in(arguments.data(), arguments.size());
    ByteWriter results;
    job.runner()(job.function(), in, results);
    ByteReader out(results.data(), results.size());
    job.deliver(chunk, out);
  } catch (...) {
    job.fail(chunk, Failure::from_current_exception());
  }
}

void Dispatcher::send_queued() {
  while (!idle_.empty() && !queue_.empty()) {
    Pending& pending = queue_.front();
    std::shared_ptr<Job> holder = pending.job;
    Job& job = *holder;
    const std::size_t chunk = pending.next_chunk++;
    message_.clear();
    encode(message_, pending.runner_offset);
    encode(message_, pending.function_offset);
    if (pending.next_chunk == job.chunks()) queue_.pop_front();  // `pending` is gone after this
    try {
      job.encode_chunk(chunk, message_);
    } catch (...) {
      job.fail(chunk, Failure::from_current_exception());
      report_progress();
      continue;
    }
    if (message_.size() > kMaxMessageBytes) {
      job.fail(chunk, Failure::too_large(too_large_message("arguments", message_.size())));
      report_progress();
      continue;
    }
    const int server = idle_.back();
    idle_.pop_back();
    // Posted before the task goes, so the reply lands in place rather than in MPI's queue of
    // unexpected messages.
    replies_[static_cast<std::size_t>(server - 1)]->post();
    send_message(message_.data(), message_.size(), server, kTask, comm_);
    running_[static_cast<std::size_t>(server)] = Running{std::move(holder), chunk};
    ++chunks_sent_;
    if (busy_++ == 0 && progress_parked_) work_out_.notify_one();
  }
}

bool Dispatcher::receive_replies() {
  if (busy_ == 0) return false;
  int completed = 0;
  mpi::check(MPI_Testsome(static_cast<int>(reply_requests_.size()), reply_requests_.data(),
                          &completed, completed_.data(), statuses_.data()),
             "MPI_Testsome");
  if (completed == MPI_UNDEFINED || completed == 0) return false;
  for (int i = 0; i < completed; ++i) {
    const int server = completed_[static_cast<std::size_t>(i)] + 1;
    PostedReceive& reply = *replies_[static_cast<std::size_t>(server - 1)];
    const int tag = reply.take(statuses_[static_cast<std::size_t>(i)]);
    Running done = std::exchange(running_[static_cast<std::size_t>(server)], Running{});
    idle_.push_back(server);
    --busy_;
    if (done.job == nullptr) continue;  // terminated: the reply is dropped
    ByteReader in(reply.data(), reply.size());
    try {
      if (tag == kResult) {
        done.job->deliver(done.chunk, in);
      } else {
        done.job->fail(done.chunk, decode_failure(in));
      }
    } catch (...) {  // a malformed reply (DecodeError) or a deliver that threw
      done.job->fail(done.chunk, Failure::from_current_exception());
    }
  }
  send_queued();
  report_progress();
  return true;
}

void Dispatcher::report_progress() {
  progress_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) != 0) wait_detail::futex_wake(progress_);
}

void Dispatcher::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
}

void Dispatcher::fail_everything(const Failure& failure) {
  for (Pending& pending : queue_) {
    for (std::size_t chunk = pending.next_chunk; chunk < pending.job->chunks(); ++chunk) {
      pending.job->fail(chunk, failure);
    }
  }
  queue_.clear();
  for (Running& running : running_) {
    if (running.job != nullptr) running.job->fail(running.chunk, failure);
    running.job = nullptr;
  }
  report_progress();
}

void Dispatcher::terminate() {
  std::lock_guard lock(mutex_);
  closed_ = terminated_ = true;
  fail_everything(Failure::terminated());
}

void Dispatcher::poll_or_back_off(std::unique_lock<std::mutex>& lock,
                                  std::chrono::microseconds& pause) {
  if (receive_replies()) {
    pause = kPollFirstSleep;
    return;
  }
  lock.unlock();
  std::this_thread::sleep_for(pause);
  pause = std::min(pause * 2, kPollMaxSleep);
  lock.lock();
}

void Dispatcher::join() {
  std::unique_lock lock(mutex_);
  if (!closed_) throw std::logic_error("procpar: join() on an open pool: call close() first");
  if (joined_) return;
  auto pause = kPollFirstSleep;
  while (busy_ != 0 || !queue_.empty()) poll_or_back_off(lock, pause);
  for (int server = 1; server <= static_cast<int>(servers_); ++server) {
    send_message(nullptr, 0, server, kShutdown, comm_);
  }
  joined_ = stopping_ = true;
  lock.unlock();
  work_out_.notify_one();
  if (progress_thread_.joinable()) progress_thread_.join();
  mpi::check(MPI_Comm_free(&comm_), "MPI_Comm_free");
}

void Dispatcher::progress_loop() {
  std::unique_lock lock(mutex_);
  auto pause = kPollFirstSleep;
  while (!stopping_) {
    if (busy_ != 0 && pollers_.load(std::memory_order_seq_cst) == 0) {
      // Chunks out and no caller collecting their replies: poll, backing off.
      poll_or_back_off(lock, pause);
      continue;
    }
    // Nothing out, or a caller collects the replies: keep out of the way. (Looking every few
    // hundred microseconds while a caller polled took the mutex from it, which then slept in the
    // kernel, and with as many spinning ranks as cores preempted a spinner at each look: an
    // apply's round trip swung between 1 and 3 us.) leave() wakes us when the last caller leaves
    // with chunks still out; we look again after kParkAfter, and when no chunk went out in that
    // time, park until a sender wakes us, so a stream of applies costs no wake-up call each.
    pause = kPollFirstSleep;
    const auto needed = [this] {
      return stopping_ || (busy_ != 0 && pollers_.load(std::memory_order_seq_cst) == 0);
    };
    const std::uint64_t sent = chunks_sent_;
    waiting_.store(true, std::memory_order_seq_cst);
    if (!work_out_.wait_for(lock, kParkAfter, needed) && chunks_sent_ == sent && busy_ == 0) {
      progress_parked_ = true;
      work_out_.wait(lock, needed);
      progress_parked_ = false;
    }
    waiting_.store(false, std::memory_order_relaxed);
  }
}

void Dispatcher::enter() { pollers_.fetch_add(1, std::memory_order_seq_cst); }

void Dispatcher::leave() {
  // The flag is set before the progress thread looks at pollers_, and read here after the
  // count drops (both sequentially consistent), so one of the two sees the other.
  if (pollers_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
      busy_.load(std::memory_order_seq_cst) != 0 &&
      waiting_.load(std::memory_order_seq_cst)) {
    std::lock_guard lock(mutex_);
    work_out_.notify_one();
  }
}

bool Dispatcher::poll(bool must) {
  std::unique_lock lock(mutex_, std::defer_lock);
  if (must) {
    lock.lock();
  } else if (!lock.try_lock()) {
    return false;
  }
  if (joined_) return false;
  return receive_replies();
}

std::uint32_t Dispatcher::begin_sleep() {
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  return progress_.load(std::memory_order_seq_cst);
}

void Dispatcher::sleep(std::uint32_t seen,
                       std::optional<wait_detail::Clock::time_point> deadline) {
  wait_detail::futex_wait(progress_, seen, deadline);
}

void Dispatcher::end_sleep() { sleepers_.fetch_sub(1, std::memory_order_seq_cst); }

}  // namespace procpar::mpi_pool_detail
