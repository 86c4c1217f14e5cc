// ImapResult<R>, what imap and imap_unordered return (async_result.h describes it), and the
// StreamState behind it.
#ifndef PROCPAR_PRIMITIVES_IMAP_RESULT_H_
#define PROCPAR_PRIMITIVES_IMAP_RESULT_H_

#include <cstddef>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "primitives/completion.h"
#include "primitives/pool_errors.h"

namespace procpar {
namespace async_detail {

// The shared state behind an ImapResult: one slot per item, filled a chunk at a time.
template <class R>
class StreamState {
 public:
  StreamState(std::size_t n, std::shared_ptr<Driver> driver)
      : signal_(std::move(driver)), values_(n), errors_(n), ready_(n, 0) {
    arrival_.reserve(n);
  }

  std::size_t size() const { return values_.size(); }

  // Items [first, first + values.size()) finished with these values.
  void set_values(std::size_t first, std::vector<R>&& values) {
    {
      std::lock_guard lock(mutex_);
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (ready_[first + i]) continue;  // already failed by terminate()
        values_[first + i].emplace(std::move(values[i]));
        arrive(first + i);
      }
    }
    signal_.notify();
  }
  // Items [first, first + count) failed together (their chunk failed).
  void set_error(std::size_t first, std::size_t count, const Failure& error) {
    {
      std::lock_guard lock(mutex_);
      for (std::size_t i = first; i < first + count; ++i) {
        if (ready_[i]) continue;
        errors_[i] = error;
        arrive(i);
      }
    }
    signal_.notify();
  }
  // Fails every item that has not arrived (the pool was terminated).
  void fail_unfinished(const Failure& error) {
    {
      std::lock_guard lock(mutex_);
      for (std::size_t i = 0; i < ready_.size(); ++i) {
        if (!ready_[i]) {
          errors_[i] = error;
          arrive(i);
        }
      }
    }
    signal_.notify();
  }

  // The item at position `k` of the iteration (index order, or arrival order if unordered).
  const R& at(std::size_t k, bool unordered) {
    std::size_t index = 0;
    signal_.wait(
        [&] {
          std::lock_guard lock(mutex_);
          if (unordered) {
            if (arrival_.size() <= k) return false;
            index = arrival_[k];
            return true;
          }
          index = k;
          return ready_[k] != 0;
        },
        std::nullopt);
    std::lock_guard lock(mutex_);
    if (errors_[index]) errors_[index]->raise();
    return *values_[index];
  }

 private:
  void arrive(std::size_t i) {
    ready_[i] = 1;
    arrival_.push_back(i);
  }

  Signal signal_;
  std::mutex mutex_;
  std::vector<std::optional<R>> values_;
  std::vector<std::optional<Failure>> errors_;
  std::vector<unsigned char> ready_;
  std::vector<std::size_t> arrival_;
};

}  // namespace async_detail

template <class R>
class ImapResult {
 public:
  ImapResult(std::shared_ptr<async_detail::StreamState<R>> state, bool unordered)
      : state_(std::move(state)), unordered_(unordered) {}

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = R;
    using difference_type = std::ptrdiff_t;
    using pointer = const R*;
    using reference = const R&;

    iterator() = default;
    iterator(async_detail::StreamState<R>* state, std::size_t position, bool unordered)
        : state_(state), position_(position), unordered_(unordered) {}

    // Blocks until this position's result has arrived; rethrows its task's error.
    const R& operator*() const { return state_->at(position_, unordered_); }
    const R* operator->() const { return &**this; }
    iterator& operator++() {
      ++position_;
      return *this;
    }
    void operator++(int) { ++position_; }
    bool operator==(const iterator& other) const { return position_ == other.position_; }

   private:
    async_detail::StreamState<R>* state_ = nullptr;
    std::size_t position_ = 0;
    bool unordered_ = false;
  };

  iterator begin() const { return iterator(state_.get(), 0, unordered_); }
  iterator end() const { return iterator(state_.get(), state_->size(), unordered_); }
  std::size_t size() const { return state_->size(); }

 private:
  std::shared_ptr<async_detail::StreamState<R>> state_;
  bool unordered_;
};

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_IMAP_RESULT_H_
