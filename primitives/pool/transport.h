// The transport contract: what a backend supplies so that PoolFrontEnd<T> (front_end.h) is a
// complete pool. The front end writes apply ... imap_unordered, their _async and Callbacks
// forms, the task and argument checks, chunking and the results once; a transport only moves
// the chunks of a Job (job.h) to workers and their outcomes back. ProcessPool, ThreadPool and
// SerialPool are PoolFrontEnd<ProcessTransport>, <ThreadTransport> and <SerialTransport>.
//
// A transport T offers (checked by the Transport concept below):
//
//   static constexpr Delivery kDelivery
//       kInProcess: the transport ends a chunk by calling job.run_chunk(c) in a thread of this
//       process. kMessages: by job.encode_chunk(c, bytes), then in a worker job.runner() on
//       those bytes with job.function(), then job.deliver(c, result bytes) here.
//   static constexpr async_detail::CallbackRunner::Mode kCallbacks
//       where the results' callbacks run: kThread (a callback thread of the pool's) or kInline
//       (in the thread that completes the result; only for a transport that runs every chunk
//       in the submitting thread).
//   explicit T(const PoolOptions& options)
//       starts the workers. Throws std::invalid_argument for options.workers == 0 and for an
//       option the transport cannot honour (naming the pool and the option), InitializerError
//       if the initializer failed (having stopped what it started).
//   std::size_t workers() const
//   void submit(std::shared_ptr<pool_detail::Job> job)
//       takes every chunk of `job`, or none and throws: PoolClosed after close(), terminate()
//       or join(), or the error that refuses all work (InitializerError of a broken pool).
//       A job of zero chunks is never submitted.
//   void check_open()
//       throws what submit() would throw, taking nothing. The front end calls it where a
//       submission sends nothing (an empty map) and before encoding a message transport's
//       arguments.
//   std::shared_ptr<async_detail::Driver> driver()
//       the Driver through which a waiting caller collects results itself (completion.h), or
//       null: waiters then spin and sleep until the transport completes the result.
//   void close()        no more submissions; submitted chunks still end normally.
//   void join()         std::logic_error on an open transport (as Python). After close():
//                       returns once every submitted chunk has ended and the workers have
//                       stopped. After terminate(): once the workers have stopped.
//   void terminate()    no more submissions; every chunk not yet ended fails with
//                       Failure::terminated() (a chunk already running in process may be
//                       let finish instead, as threads cannot be stopped). Never hangs.
//   bool owned_here() const
//       whether this process may use the transport: false in a forked copy of the process that
//       made it (a task, or a child of fork()), where the front end's destructor leaves it
//       alone and its other calls may throw std::logic_error.
//   kMessages only: void check_argument_bytes(std::size_t bytes)
//       throws MessageTooLarge if an apply's encoded arguments cannot travel; the front end
//       calls it before submitting the apply.
//
// Rules every transport keeps:
//   Ending. Every chunk of a submitted job ends exactly once (run_chunk, deliver or fail), also
//     when a worker dies (Failure::worker_died: that chunk only, and the pool goes on), a chunk
//     is over a size limit (Failure::too_large), or the pool is terminated or destroyed. A
//     chunk whose encode_chunk or deliver throws fails with that exception
//     (Failure::from_current_exception()). Nothing hangs.
//   Order. Chunks are handed out in submission order to whichever worker is free (dynamic
//     scheduling, as Python); results may end in any order.
//   Threads. Every member may be called from any thread of the owning process, concurrently.
//     The transport may call a job's members with its own locks held (a job only records, and
//     callbacks are only queued); calls for one chunk never overlap.
//   Cost. A transport adds no work per chunk that its delivery does not need: the front end
//     allocates one job and one result state per submission, and nothing per chunk.
#ifndef PROCPAR_PRIMITIVES_TRANSPORT_H_
#define PROCPAR_PRIMITIVES_TRANSPORT_H_

#include <concepts>
#include <cstddef>
#include <memory>

#include "primitives/async_result.h"
#include "primitives/job.h"
#include "primitives/pool_options.h"

namespace procpar {

enum class Delivery { kInProcess, kMessages };

template <class T>
concept Transport =
    std::constructible_from<T, const PoolOptions&> &&
    requires(T& transport, const T& const_transport, std::shared_ptr<pool_detail::Job> job) {
      { T::kDelivery } -> std::convertible_to<Delivery>;
      { T::kCallbacks } -> std::convertible_to<async_detail::CallbackRunner::Mode>;
      { const_transport.workers() } -> std::same_as<std::size_t>;
      transport.submit(std::move(job));
      transport.check_open();
      { transport.driver() } -> std::convertible_to<std::shared_ptr<async_detail::Driver>>;
      transport.close();
      transport.join();
      transport.terminate();
      { const_transport.owned_here() } -> std::same_as<bool>;
    } &&
    (T::kDelivery != Delivery::kMessages ||
     requires(T& transport, std::size_t bytes) { transport.check_argument_bytes(bytes); });

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_TRANSPORT_H_
