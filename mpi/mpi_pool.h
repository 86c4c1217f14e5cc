// MpiPool: the Pool interface on MPI ranks, the counterpart of mpi4py's MPICommExecutor.
//
//   int main(int argc, char** argv) {
//     int provided = 0;
//     MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
//     {
//       procpar::MpiPool pool(MPI_COMM_WORLD);  // collective; ranks 1..k-1 serve in here
//       if (pool.is_driver()) {                  // rank 0 runs the program
//         std::vector<double> y = pool.map(f, xs);
//       }
//     }                                          // rank 0's pool ends: the servers return
//     MPI_Finalize();
//   }
//
// MpiPool is the pool front end (primitives/pool/front_end.h) over MpiTransport, which moves
// chunks between ranks (mpi_pool_transport.h). Under `mpirun -np k`, rank 0 submits and ranks
// 1..k-1 run tasks: k - 1 workers. The constructor is collective over the communicator: on
// ranks other than 0 it serves tasks until rank 0's pool is joined (or destroyed), then returns
// a pool that is not the driver (every method but is_driver() then throws std::logic_error),
// as mpi4py's executor is None there.
// The interface and semantics are those of docs/design.md, shared with ProcessPool, ThreadPool
// and SerialPool (apply ... imap_unordered, AsyncResult, callbacks, close/join/terminate).
// What is particular to MPI:
//
// One rank (k = 1): there is no server, and rank 0 runs each task itself, inline in the
// submitting thread (through the same encoding and decoding as a task sent to a server), as
// SerialPool does: workers() is 1 and every result is ready when its submission returns. A
// program written for k ranks thus runs, serially, under `mpirun -np 1`.
//
// Tasks. A task's function travels as its offset from a basis symbol of the executable
// (mpi_pool_function.h), because the ranks do not share an address space as forked workers do:
// it must be a function of the main executable (a function of a shared library is refused
// with std::invalid_argument when submitted), and every rank must run the same binary. What
// cannot travel at all (a closure with captures, an argument that is not Serializable) is
// refused at compile time, as on every pool. A task sees its server's memory, never rank 0's.
//
// Failures. A task's exception reaches the caller as TaskError (type name and message). A rank
// that dies ends the whole job: Open MPI's default error handler aborts every rank and mpirun
// exits non-zero (137 after a SIGKILL); nothing hangs and no process is left behind
// (mpi_pool_death_test_np1..4), but no result survives either: there is no WorkerDied on MPI. A
// task cannot be stopped on another rank short of aborting the job: terminate() fails every
// unfinished result with PoolTerminated at once, and join() (and the destructor) then wait for
// the tasks already running on servers to end; their results are dropped. PoolOptions'
// maxtasksperchild and task_time_limit are refused (a server cannot be replaced or killed
// alone), and so is an initializer: every rank runs the program, so set-up belongs before the
// pool, on every rank.
//
// Limits: one chunk's arguments or results at most 2^31 - 1 bytes (an MPI message's int count;
// more fails that chunk with MessageTooLarge). Bulk data belongs in a DistArray (dist_array.h),
// which keeps each piece with its owner.
//
// Cost: a round trip is one MPI message each way plus encoding; the caller polls for the reply
// itself while it waits. experiments/mpi_pool.cc measures apply against an MPI ping-pong.
#ifndef PROCPAR_MPI_MPI_POOL_H_
#define PROCPAR_MPI_MPI_POOL_H_

#include <mpi.h>

#include <cstddef>
#include <memory>
#include <utility>

#include "mpi/dist_array.h"
#include "mpi/mpi_pool_transport.h"
#include "primitives/async_result.h"
#include "primitives/front_end.h"
#include "primitives/job.h"
#include "primitives/pool_options.h"
#include "primitives/transport.h"

namespace procpar {

// The MPI pool's transport (primitives/pool/transport.h). On ranks other than 0 it holds no
// dispatcher: it has served and every member but owned_here() throws std::logic_error.
class MpiTransport {
 public:
  static constexpr Delivery kDelivery = Delivery::kMessages;
  static constexpr auto kCallbacks = async_detail::CallbackRunner::Mode::kThread;
  // One chunk's arguments or results at most (an MPI message's int count).
  static constexpr std::size_t kMaxMessageBytes = mpi_pool_detail::kMaxMessageBytes;

  // Collective over `comm`: see MpiPool.
  explicit MpiTransport(MPI_Comm comm) : dispatcher_(mpi_pool_detail::start(comm)) {}
  // Over MPI_COMM_WORLD. options.workers must be the servers mpirun gave (k - 1, or 1 at one
  // rank); initializer, maxtasksperchild and task_time_limit are refused: a server cannot be
  // replaced or killed alone. std::invalid_argument, on every rank alike, names what is wrong.
  explicit MpiTransport(const PoolOptions& options)
      : dispatcher_(mpi_pool_detail::start(mpi_pool_detail::checked_world(options))) {}

  std::size_t workers() const { return checked().workers(); }
  void submit(std::shared_ptr<pool_detail::Job> job) { checked().submit(std::move(job)); }
  void check_open() { checked().check_open(); }
  std::shared_ptr<async_detail::Driver> driver() const { return dispatcher_; }
  void close() { checked().close(); }
  void join() { checked().join(); }
  void terminate() { checked().terminate(); }
  bool owned_here() const { return dispatcher_ != nullptr && dispatcher_->owned_here(); }
  // MessageTooLarge if an apply's arguments cannot travel in one message.
  static void check_argument_bytes(std::size_t bytes) {
    mpi_pool_detail::check_argument_bytes(bytes);
  }

 private:
  mpi_pool_detail::Dispatcher& checked() const {
    if (dispatcher_ == nullptr) mpi_pool_detail::refuse_on_server();
    return *dispatcher_;
  }

  std::shared_ptr<mpi_pool_detail::Dispatcher> dispatcher_;
};

class MpiPool : public PoolFrontEnd<MpiTransport> {
 public:
  // Collective over `comm` (see the header comment). Throws std::logic_error if MPI was not
  // initialised with MPI_THREAD_MULTIPLE.
  explicit MpiPool(MPI_Comm comm = MPI_COMM_WORLD)
      : PoolFrontEnd(std::in_place, comm), is_driver_(mpi::rank_of(comm) == 0) {}
  // Over MPI_COMM_WORLD, checking the options (MpiTransport).
  explicit MpiPool(const PoolOptions& options)
      : PoolFrontEnd(options), is_driver_(mpi::rank_of(MPI_COMM_WORLD) == 0) {}

  // Whether this rank submits tasks (rank 0 of the communicator).
  bool is_driver() const { return is_driver_; }
  // The front end's (PoolFrontEnd, front_end.h) apply ... imap_unordered, close(), join() and
  // terminate(): workers() is the servers (1 at one rank, which runs the tasks itself);
  // terminate() fails unfinished tasks with PoolTerminated at once, and join() (and the
  // destructor) wait for the tasks already running on servers.

 private:
  bool is_driver_;
};

}  // namespace procpar

#endif  // PROCPAR_MPI_MPI_POOL_H_
