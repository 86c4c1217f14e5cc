#include "primitives/thread_pool.h"

#include <stdexcept>

#include "primitives/wait.h"

namespace procpar {

ThreadTransport::ThreadTransport(const PoolOptions& options) {
  if (options.workers == 0) {
    throw std::invalid_argument("ThreadPool: the number of workers must be at least 1");
  }
  pool_options_detail::refuse_process_only_options(options, "ThreadPool");
  threads_.reserve(options.workers);
  for (std::size_t i = 0; i < options.workers; ++i) start_worker(options);
  if (!options.initializer) return;
  std::unique_lock lock(mutex_);
  all_done_.wait(lock, [&] { return initialized_ == options.workers; });
  if (initializer_error_) {
    const InitializerError error = *initializer_error_;
    lock.unlock();
    terminate();
    join();
    throw error;
  }
}

// A worker whose initializer threw ends at once; the constructor then stops the others.
void ThreadTransport::start_worker(const PoolOptions& options) {
  if (!options.initializer) {
    threads_.emplace_back([this] { worker_loop(); });
    return;
  }
  threads_.emplace_back([this, initializer = options.initializer] {
    std::optional<InitializerError> error = pool_options_detail::run_initializer(initializer);
    const bool ok = !error;
    {
      std::lock_guard lock(mutex_);
      if (error && !initializer_error_) initializer_error_ = std::move(error);
      ++initialized_;
    }
    all_done_.notify_all();
    if (ok) worker_loop();
  });
}

void ThreadTransport::check_open() {
  std::lock_guard lock(mutex_);
  if (!open_) throw PoolClosed();
}

void ThreadTransport::submit(std::shared_ptr<pool_detail::Job> job) {
  const std::size_t chunks = job->chunks();
  bool wake;
  {
    std::lock_guard lock(mutex_);
    if (!open_) throw PoolClosed();
    queue_.push_back(std::move(job));
    outstanding_.fetch_add(chunks, std::memory_order_relaxed);
    unclaimed_.fetch_add(chunks, std::memory_order_release);
    // A single task goes to the spinning worker if there is one (a spinner that gives up
    // looks at the queue under the lock before it sleeps, so the task is never stranded).
    wake = sleepers_ != 0 && (chunks > 1 || !spinner_.load(std::memory_order_acquire));
  }
  if (wake) {
    if (chunks == 1) {
      work_ready_.notify_one();
    } else {
      work_ready_.notify_all();
    }
  }
}

void ThreadTransport::worker_loop() {
  for (;;) {
    // One idle worker spins, so that a task submitted within the budget is picked up without a
    // kernel wake-up; the others sleep at once and leave the cores to the busy threads.
    if (!spinner_.exchange(true, std::memory_order_acquire)) {
      wait_detail::spin_until(
          [this] { return unclaimed_.load(std::memory_order_acquire) != 0; },
          wait_detail::kSpinBudget);
      spinner_.store(false, std::memory_order_release);
    }
    std::shared_ptr<pool_detail::Job> job;
    std::size_t chunk;
    {
      std::unique_lock lock(mutex_);
      while (queue_.empty() && !stopping_) {
        ++sleepers_;
        work_ready_.wait(lock);
        --sleepers_;
      }
      if (queue_.empty()) return;  // stopping, and nothing left to run
      job = queue_.front();
      chunk = next_chunk_++;
      if (next_chunk_ == job->chunks()) {
        queue_.pop_front();
        next_chunk_ = 0;
      }
      unclaimed_.fetch_sub(1, std::memory_order_relaxed);
    }
    job->run_chunk(chunk);
    job.reset();  // the job's last reference may hold the caller's items: drop it before join
    if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard lock(mutex_);
      all_done_.notify_all();
    }
  }
}

void ThreadTransport::close() {
  std::lock_guard lock(mutex_);
  open_ = false;
}

void ThreadTransport::terminate() {
  std::deque<std::shared_ptr<pool_detail::Job>> dropped;
  std::size_t front_started = 0;
  {
    std::lock_guard lock(mutex_);
    open_ = false;
    stopping_ = true;
    dropped.swap(queue_);
    front_started = next_chunk_;
    next_chunk_ = 0;
  }
  work_ready_.notify_all();
  const async_detail::Failure terminated = async_detail::Failure::terminated();
  std::size_t cancelled = 0;
  for (std::size_t i = 0; i < dropped.size(); ++i) {
    const std::size_t count = dropped[i]->chunks() - (i == 0 ? front_started : 0);
    for (std::size_t chunk = dropped[i]->chunks() - count; chunk < dropped[i]->chunks(); ++chunk) {
      dropped[i]->fail(chunk, terminated);
    }
    cancelled += count;
  }
  if (cancelled != 0) {
    unclaimed_.fetch_sub(cancelled, std::memory_order_relaxed);
    if (outstanding_.fetch_sub(cancelled, std::memory_order_acq_rel) == cancelled) {
      std::lock_guard lock(mutex_);
      all_done_.notify_all();
    }
  }
}

void ThreadTransport::join() {
  {
    std::unique_lock lock(mutex_);
    if (open_) throw std::logic_error("ThreadPool::join() before close() or terminate()");
    if (joined_) return;
    all_done_.wait(lock, [this] { return outstanding_.load(std::memory_order_acquire) == 0; });
    stopping_ = true;
    joined_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

}  // namespace procpar
