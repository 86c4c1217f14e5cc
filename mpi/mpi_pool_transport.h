// The MPI pool's transport: how a task travels from rank 0 to a server rank and how its result
// comes back. MpiTransport (mpi_pool.h) is its face to the pool front end; this is the machinery.
//
// Ranks. The pool lives on its own duplicate of the caller's communicator, so its messages never
// match the program's. Rank 0 submits; ranks 1..k-1 run serve() until rank 0 shuts the pool
// down. Each server holds at most one chunk at a time and is handed the next when it returns a
// result (dynamic scheduling, as the process pool's workers claim the next chunk).
//
// Messages (point-to-point, MPI_BYTE):
//   kTask     0 -> server: runner offset, function offset (mpi_pool_function.h), the chunk's
//             arguments as its Job encodes them
//   kResult   server -> 0: the chunk's results as the runner encoded them
//   kFailure  server -> 0: the Failure's kind, exception type name and message
//   kShutdown 0 -> server: empty; the server returns from serve()
// Every receive is posted ahead into a buffer of kPostedBytes (a server's for its next task, rank
// 0's for a server's reply as the task goes out) and completed by MPI_Test, rather than found by
// MPI_Improbe and taken by MPI_Mrecv: in Open MPI 4.1 the probe and the matched receive cost
// about 0.5 us more per round trip than a posted receive (measured at 2 ranks on 2 cores). A
// message longer than the posted buffer travels as a header (its tag with kLongBit, its length)
// followed by the body (kBody) that the receiver then receives at its length.
// Threads on rank 0 (MPI must be initialised with MPI_THREAD_MULTIPLE: rank 0's threads call
// MPI while the program may too). One mutex guards the dispatcher's state and every MPI call it
// makes on the pool's communicator. A submission sends at once when a server is idle; a caller
// waiting for a result polls for replies itself (async_detail::Driver), so a round trip is one
// message each way with no thread hand-off; the dispatcher's progress thread polls only while
// chunks are out and no caller is polling (with a backoff of 20-200 us between polls), so that
// results without a waiting caller (map_async, callbacks) still arrive and queued chunks still
// go out. While a caller polls, the progress thread waits for the last one to leave with chunks
// still out. When no chunk went out for 2 ms, it parks until one does; before that, senders do
// not wake it (it looks again within 2 ms), so back-to-back applies pay no wake-up each.
//
// Waiting on a server rank. A server spins on MPI_Test of its posted receive for a short budget (a new task usually
// follows a result at once) and then sleeps between probes with a backoff up to 1 ms, rather
// than sitting in a blocking MPI_Wait, which Open MPI implements as a busy loop: on a machine
// with fewer cores than ranks idle servers would otherwise take the CPU from rank 0.
#ifndef PROCPAR_MPI_MPI_POOL_TRANSPORT_H_
#define PROCPAR_MPI_MPI_POOL_TRANSPORT_H_

#include <mpi.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "primitives/async_result.h"
#include "primitives/job.h"
#include "primitives/pool_options.h"
#include "primitives/serialize.h"

namespace procpar::mpi_pool_detail {

using pool_detail::Job;

enum Tag : int { kTask = 1, kResult = 2, kFailure = 3, kShutdown = 4, kBody = 5, kLongBit = 8 };

// The length of every posted receive: Open MPI's eager limit on shared memory (vader) is 4 KiB,
// beyond which a message costs a rendezvous anyway, so the extra header costs little there. Rank
// 0 keeps one such buffer per server.
inline constexpr std::size_t kPostedBytes = 4096;

// A receive posted ahead from one peer of `comm`, any tag, into its own buffer. Its request
// lives in a slot the owner gives (rank 0 keeps its replies' requests side by side for
// MPI_Testsome); MPI_REQUEST_NULL there when nothing is posted.
class PostedReceive {
 public:
  PostedReceive(MPI_Comm comm, int source, MPI_Request* request);
  PostedReceive(const PostedReceive&) = delete;
  PostedReceive& operator=(const PostedReceive&) = delete;
  // Cancels a receive still posted (a pool torn down by an exception).
  ~PostedReceive();
  // Posts the receive; the message taken last is gone.
  void post();
  // Whether the posted receive has completed (MPI_Test); if so, its status is in `status`.
  bool test(MPI_Status& status);
  // The completed receive's tag (kLongBit cleared); its message is then data() and size(), the
  // body received first if it came long. Valid until the next post().
  int take(const MPI_Status& status);
  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  MPI_Comm comm_;
  int source_;
  MPI_Request* request_;
  std::vector<std::byte> posted_;
  std::vector<std::byte> long_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

// Sends a message of `size` bytes to `rank` (MPI_Send): in one message up to kPostedBytes, else
// a header and the body.
void send_message(const std::byte* data, std::size_t size, int rank, int tag, MPI_Comm comm);

// An MPI message's size is an int: one chunk's arguments or results may be at most this long
// (more fails that chunk with MessageTooLarge).
inline constexpr std::size_t kMaxMessageBytes = 0x7fffffff;

class Dispatcher;

// Collective over `comm` (every rank calls it): makes the pool's own duplicate of `comm`. On rank
// 0 returns the dispatcher; on every other rank serves tasks until rank 0's pool is joined, then
// returns null. Throws std::logic_error, on every rank alike, if MPI is not initialised with
// MPI_THREAD_MULTIPLE.
std::shared_ptr<Dispatcher> start(MPI_Comm comm);

// The loop of ranks 1..k-1: runs tasks from rank 0 of `comm` until kShutdown.
void serve(MPI_Comm comm);

// MPI_COMM_WORLD, once `options` are checked for a pool over it: workers must be the servers
// mpirun gave (k - 1, or 1 at one rank, which runs the tasks itself); an initializer,
// maxtasksperchild and task_time_limit are refused. Throws std::invalid_argument naming what is
// wrong; every rank checks the same options alike, so none is left waiting in MPI_Comm_dup.
MPI_Comm checked_world(const PoolOptions& options);

// Throws MessageTooLarge if an apply's `bytes` of arguments cannot travel in one message.
void check_argument_bytes(std::size_t bytes);

// Throws the std::logic_error of a pool's method called on a rank that served.
[[noreturn]] void refuse_on_server();

// Rank 0's side: sends chunks to idle servers, receives their replies, completes the jobs. With
// no server (k = 1) each chunk runs inline in the submitting thread, through the same encode,
// run and decode steps, as SerialPool runs tasks.
class Dispatcher final : public async_detail::Driver,
                         public std::enable_shared_from_this<Dispatcher> {
 public:
  // `comm`: the pool's own communicator, of which this process is rank 0.
  explicit Dispatcher(MPI_Comm comm);
  ~Dispatcher() override;

  // Servers, or 1 when there is none (rank 0 then runs the tasks itself).
  std::size_t workers() const;
  // Whether this is the process that made the dispatcher (not a fork of it).
  bool owned_here() const;
  // Throws PoolClosed after close() or terminate().
  void check_open();
  // Queues the job's chunks; sends what idle servers can take now. Throws std::invalid_argument
  // (mpi_pool_function.h) if the job's function is not in the main executable, PoolClosed
  // after close().
  void submit(std::shared_ptr<Job> job);
  void close();
  // Waits for every chunk sent or queued, then shuts the servers down and frees the
  // communicator (collective with the servers' serve()). std::logic_error on an open pool.
  void join();
  // Fails every queued and running chunk with PoolTerminated at once. A chunk already running
  // on a server cannot be stopped short of aborting the job: its server finishes it and its
  // reply is dropped; join() waits for that.
  void terminate();

  // async_detail::Driver: waiting callers poll for replies themselves.
  void enter() override;
  void leave() override;
  bool poll(bool must) override;
  std::uint32_t begin_sleep() override;
  void sleep(std::uint32_t seen, std::optional<wait_detail::Clock::time_point> deadline) override;
  void end_sleep() override;

 private:
  struct Pending {
    std::shared_ptr<Job> job;
    std::int64_t runner_offset;  // mpi_pool_function.h
    std::int64_t function_offset;
    std::size_t next_chunk = 0;
  };
  struct Running {
    std::shared_ptr<Job> job;  // null once terminate() has failed the chunk
    std::size_t chunk = 0;
  };

  // Each with mutex_ held.
  bool receive_replies();
  void send_queued();
  void fail_everything(const async_detail::Failure& failure);
  void report_progress();
  // Receives what replies have come; if none, sleeps `pause` without the lock and doubles it
  // (up to 200 us); a reply resets it.
  void poll_or_back_off(std::unique_lock<std::mutex>& lock, std::chrono::microseconds& pause);

  // Without it (k = 1).
  void run_inline(Job& job, std::size_t chunk);

  void progress_loop();

  MPI_Comm comm_;
  pid_t owner_;
  std::size_t servers_;
  std::mutex mutex_;
  std::condition_variable work_out_;  // wakes the parked progress thread when a chunk goes out
  bool progress_parked_ = false;
  std::uint64_t chunks_sent_ = 0;
  std::deque<Pending> queue_;
  std::vector<Running> running_;  // by server rank (index 0 unused)
  // By server rank - 1: the receive of its reply, posted as its chunk goes out, and its request
  // (side by side, for MPI_Testsome; declared first, as the receives point into it).
  std::vector<MPI_Request> reply_requests_;
  std::vector<std::unique_ptr<PostedReceive>> replies_;
  std::vector<int> completed_;
  std::vector<MPI_Status> statuses_;
  std::vector<int> idle_;         // server ranks with nothing to do
  // Servers holding a chunk (terminated ones included); changed under mutex_, read by leave().
  std::atomic<std::size_t> busy_{0};
  ByteWriter message_;
  bool closed_ = false;
  bool terminated_ = false;
  bool joined_ = false;
  bool stopping_ = false;
  std::atomic<int> pollers_{0};
  std::atomic<bool> waiting_{false};  // the progress thread waits (for leave(), or parked)
  std::atomic<int> sleepers_{0};
  std::atomic<std::uint32_t> progress_{0};
  std::thread progress_thread_;
};

}  // namespace procpar::mpi_pool_detail

#endif  // PROCPAR_MPI_MPI_POOL_TRANSPORT_H_
