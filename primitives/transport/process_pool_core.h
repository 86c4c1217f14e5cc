// The parent side of the process pool: Core owns the channel (process_pool_channel.h), forks
// and watches the workers, publishes work to them and delivers their results. ProcessPool
// (process_pool.h) is its interface; internal to the process pool.
#ifndef PROCPAR_PRIMITIVES_PROCESS_POOL_CORE_H_
#define PROCPAR_PRIMITIVES_PROCESS_POOL_CORE_H_

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "primitives/async_result.h"
#include "primitives/current_process.h"
#include "primitives/pool_options.h"
#include "primitives/process_pool.h"
#include "primitives/transport/process_pool_channel.h"

namespace procpar::process_pool_detail {

class Core final : public async_detail::Driver {
 public:
  explicit Core(const PoolOptions& options);
  ~Core() override;

  // A pool belongs to the process that created it. In a forked copy (a worker, or a child the
  // program forked) its lock may be held by a thread that does not exist there, and its
  // workers are not that process's children: refuse, never deadlock or kill another's workers.
  bool owned_here() const { return current_pid() == parent_pid_; }
  void check_owner() const;

  std::size_t workers() const { return workers_.size(); }
  void submit(std::shared_ptr<Job> job);
  void check_open();
  void close();
  void join();
  void terminate();

  void enter() override;
  void leave() override;
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
    bool live = false;
  };

  // All with mutex_ held, except the two threads' main functions.
  void service_main();
  void collector_main();
  void spawn(std::size_t index);
  void reap_exited();
  void handle_exit(std::size_t index, int wait_status);
  bool drain(std::size_t index);
  bool drain_all();
  void deliver(const RecordHeader& record, ByteReader& payload);
  void release(std::uint64_t position);
  void publish_pending();
  bool allocate_arena(std::size_t bytes, std::uint64_t* begin);
  void wake_workers(std::size_t tasks);
  void fail_everything(const async_detail::Failure& failure);
  void fail_pending(const async_detail::Failure& failure);
  void note_initializer(std::size_t index, std::uint32_t status, ByteReader& payload);
  async_detail::Failure exit_failure(std::size_t index, int wait_status) const;
  bool results_waiting() const;
  void wake_service();
  void announce_progress();

  Channel channel_;
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

}  // namespace procpar::process_pool_detail

#endif  // PROCPAR_PRIMITIVES_PROCESS_POOL_CORE_H_
