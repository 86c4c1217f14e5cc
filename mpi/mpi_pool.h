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
// Under `mpirun -np k`, rank 0 submits and ranks 1..k-1 run tasks: k - 1 workers. The
// constructor is collective over the communicator: on ranks other than 0 it serves tasks until
// rank 0's pool is joined (or destroyed), then returns a pool that is not the driver (every
// method but is_driver() then throws std::logic_error), as mpi4py's executor is None there.
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
// (mpi/mpi_pool_death_test), but no result survives either: there is no WorkerDied on MPI. A
// task cannot be stopped on another rank short of aborting the job: terminate() fails every
// unfinished result with PoolTerminated at once, and join() (and the destructor) then wait for
// the tasks already running on servers to end; their results are dropped. So PoolOptions'
// initializer, maxtasksperchild and task_time_limit are not offered (a server cannot be
// replaced or killed alone).
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
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "mpi/mpi_pool_transport.h"
#include "primitives/async_result.h"
#include "primitives/process_pool.h"
#include "primitives/serialize.h"
#include "primitives/task.h"

namespace procpar {

class MpiPool {
 public:
  // Collective over `comm` (see the header comment). Throws std::logic_error if MPI was not
  // initialised with MPI_THREAD_MULTIPLE.
  explicit MpiPool(MPI_Comm comm = MPI_COMM_WORLD)
      : dispatcher_(mpi_pool_detail::start(comm)) {}
  // Over MPI_COMM_WORLD. options.workers must be the servers mpirun gave (k - 1, or 1 at one
  // rank); initializer, maxtasksperchild and task_time_limit are refused: a server cannot be
  // replaced or killed alone. std::invalid_argument, on every rank alike, names what is wrong.
  explicit MpiPool(const PoolOptions& options)
      : dispatcher_(mpi_pool_detail::start(mpi_pool_detail::checked_world(options))) {}
  MpiPool(const MpiPool&) = delete;
  MpiPool& operator=(const MpiPool&) = delete;
  // terminate() + join() on rank 0.
  ~MpiPool() {
    if (dispatcher_ == nullptr) return;
    dispatcher_->terminate();
    dispatcher_->join();
    callback_runner_->stop();
  }

  // Whether this rank submits tasks (rank 0 of the communicator).
  bool is_driver() const { return dispatcher_ != nullptr; }

  // The server ranks, k - 1, or 1 for a single rank (which runs the tasks itself).
  std::size_t workers() const { return checked_dispatcher().workers(); }

  template <class F, class... Args>
  auto apply(F f, Args&&... args) {
    return apply_async(f, std::forward<Args>(args)...).state()->take_result();
  }

  template <class F, class... Args>
  auto apply_async(F f, Args&&... args) {
    return submit_apply(async_detail::NoHook{}, f, std::forward<Args>(args)...);
  }
  // With callbacks, run in the pool's callback thread (async_result.h).
  template <class V, class F, class... Args>
  auto apply_async(Callbacks<V> callbacks, F f, Args&&... args) {
    return submit_apply(callbacks_hook(std::move(callbacks)), f, std::forward<Args>(args)...);
  }

  template <class F, class T>
  auto map(F f, const std::vector<T>& items, std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    task_detail::check_map_task<decltype(fp), T>();
    return submit_map<decltype(fp), T, task_detail::MapResultOf<decltype(fp), T>,
                      process_pool_detail::CallItem>(fp, &items, {}, chunksize)
        ->take_result();
  }

  template <class F, class T>
  auto map_async(F f, const std::vector<T>& items, std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    task_detail::check_map_task<decltype(fp), T>();
    return AsyncResult(submit_map<decltype(fp), T, task_detail::MapResultOf<decltype(fp), T>,
                                  process_pool_detail::CallItem>(fp, nullptr, std::vector<T>(items),
                                                                 chunksize));
  }
  template <class V, class F, class T>
  auto map_async(Callbacks<V> callbacks, F f, const std::vector<T>& items,
                 std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    task_detail::check_map_task<decltype(fp), T>();
    return AsyncResult(submit_map<decltype(fp), T, task_detail::MapResultOf<decltype(fp), T>,
                                  process_pool_detail::CallItem>(
        fp, nullptr, std::vector<T>(items), chunksize, callbacks_hook(std::move(callbacks))));
  }

  template <class F, class... A>
  auto starmap(F f, const std::vector<std::tuple<A...>>& items, std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    using Tuple = std::tuple<A...>;
    task_detail::check_starmap_task<decltype(fp), Tuple>();
    return submit_map<decltype(fp), Tuple, task_detail::StarmapResultOf<decltype(fp), Tuple>,
                      process_pool_detail::CallTuple>(fp, &items, {}, chunksize)
        ->take_result();
  }

  template <class F, class... A>
  auto starmap_async(F f, const std::vector<std::tuple<A...>>& items, std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    using Tuple = std::tuple<A...>;
    task_detail::check_starmap_task<decltype(fp), Tuple>();
    return AsyncResult(
        submit_map<decltype(fp), Tuple, task_detail::StarmapResultOf<decltype(fp), Tuple>,
                   process_pool_detail::CallTuple>(fp, nullptr, std::vector<Tuple>(items),
                                                   chunksize));
  }
  template <class V, class F, class... A>
  auto starmap_async(Callbacks<V> callbacks, F f, const std::vector<std::tuple<A...>>& items,
                     std::size_t chunksize = 0) {
    auto fp = task_detail::as_function_pointer(f);
    using Tuple = std::tuple<A...>;
    task_detail::check_starmap_task<decltype(fp), Tuple>();
    return AsyncResult(
        submit_map<decltype(fp), Tuple, task_detail::StarmapResultOf<decltype(fp), Tuple>,
                   process_pool_detail::CallTuple>(fp, nullptr, std::vector<Tuple>(items),
                                                   chunksize,
                                                   callbacks_hook(std::move(callbacks))));
  }

  template <class F, class T>
  auto imap(F f, const std::vector<T>& items, std::size_t chunksize = 1) {
    return submit_stream(f, items, chunksize, /*unordered=*/false);
  }
  template <class F, class T>
  auto imap_unordered(F f, const std::vector<T>& items, std::size_t chunksize = 1) {
    return submit_stream(f, items, chunksize, /*unordered=*/true);
  }

  // No more submissions (they throw PoolClosed); submitted tasks still run.
  void close() { checked_dispatcher().close(); }
  // After close(): waits for every submitted task, then lets the servers return from the
  // constructor. After terminate(): waits for the tasks running on servers. Throws
  // std::logic_error on an open pool, as Python.
  void join() {
    checked_dispatcher().join();
    callback_runner_->stop();  // every result is complete: their callbacks are all queued
  }
  // Fails every unfinished task with PoolTerminated now (see the header comment).
  void terminate() { checked_dispatcher().terminate(); }

 private:
  mpi_pool_detail::Dispatcher& checked_dispatcher() const {
    if (dispatcher_ == nullptr) mpi_pool_detail::refuse_on_server();
    return *dispatcher_;
  }

  template <class V>
  async_detail::CallbacksHook<V> callbacks_hook(Callbacks<V>&& callbacks) const {
    return {callback_runner_, std::move(callbacks)};
  }

  // `hook` prepares the result's state before the task can run (attaches callbacks, or nothing).
  template <class Hook, class F, class... Args>
  auto submit_apply(Hook hook, F f, Args&&... args) {
    auto fp = task_detail::as_function_pointer(f);
    using Fp = decltype(fp);
    task_detail::check_task<Fp>();
    using R = std::decay_t<task_detail::ResultOf<Fp>>;
    checked_dispatcher().check_open();
    ByteWriter encoded;
    encode(encoded, task_detail::pack_arguments<Fp>(std::forward<Args>(args)...));
    mpi_pool_detail::check_argument_bytes(encoded.size());
    auto state = std::make_shared<async_detail::State<R>>(dispatcher_);
    hook(state);
    checked_dispatcher().submit(
        std::make_shared<process_pool_detail::ApplyJob<Fp, R>>(fp, std::move(encoded),
                                                                        state));
    return AsyncResult<R>(std::move(state));
  }

  template <class Fp, class Item, class R, class Call, class Hook = async_detail::NoHook>
  auto submit_map(Fp fp, const std::vector<Item>* borrowed, std::vector<Item>&& owned,
                  std::size_t chunksize, Hook hook = {}) {
    static_assert(std::is_void_v<R> || std::is_default_constructible_v<R>,
                  "procpar: map results must be default constructible");
    using Job = process_pool_detail::MapJob<Fp, Item, R, Call>;
    checked_dispatcher().check_open();
    const std::size_t n = borrowed != nullptr ? borrowed->size() : owned.size();
    auto state = std::make_shared<async_detail::State<typename Job::Value>>(dispatcher_);
    hook(state);
    if (n == 0) {
      state->set_value({});
      return state;
    }
    checked_dispatcher().submit(
        std::make_shared<Job>(fp, borrowed, std::move(owned),
                                      task_detail::plan_chunks(n, chunksize, workers()), state));
    return state;
  }

  template <class F, class T>
  auto submit_stream(F f, const std::vector<T>& items, std::size_t chunksize, bool unordered) {
    auto fp = task_detail::as_function_pointer(f);
    using Fp = decltype(fp);
    task_detail::check_map_task<Fp, T>();
    using R = task_detail::MapResultOf<Fp, T>;
    static_assert(!std::is_void_v<R>, "procpar: imap needs a function that returns a value");
    checked_dispatcher().check_open();
    auto state = std::make_shared<async_detail::StreamState<R>>(items.size(), dispatcher_);
    if (!items.empty()) {
      checked_dispatcher().submit(
          std::make_shared<process_pool_detail::StreamJob<Fp, T, R>>(
                      fp, std::vector<T>(items),
                      task_detail::plan_chunks(items.size(), chunksize == 0 ? 1 : chunksize,
                                               workers()),
                      state));
    }
    return ImapResult<R>(std::move(state), unordered);
  }

  std::shared_ptr<mpi_pool_detail::Dispatcher> dispatcher_;
  std::shared_ptr<async_detail::CallbackRunner> callback_runner_ =
      std::make_shared<async_detail::CallbackRunner>(async_detail::CallbackRunner::Mode::kThread);
};

}  // namespace procpar

#endif  // PROCPAR_MPI_MPI_POOL_H_
