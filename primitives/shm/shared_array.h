// Arrays shared by the processes of a pool, the counterparts of multiprocessing's
// RawArray and Array:
//
//   RawArray<T> a(n);           n zero-initialised elements, no lock (multiprocessing.RawArray)
//   SharedArray<T> s(n);        n zero-initialised elements behind one process-shared lock
//                               (multiprocessing.Array): every load, store and add is atomic
//   RawSpan<T> v = a.span();    a view: v.data(), v.size(), v[i], v.subspan(offset, count)
//   SharedSpan<T> w = s.span(); w.load(i), w.store(i, x), w.add(i, x), each under the lock;
//                               auto g = w.lock(); ... g[i] ...  several operations at once
//
// The arrays own their memory; the views are trivially copyable handles, so a view can be
// passed as a task argument (or through a pipe) to any process forked from the owner, and it
// is valid there whether the array was created before or after that process was forked.
//
// Memory. Each array is one memfd (anonymous: no name in /dev/shm, nothing left behind when the
// program ends or crashes) mapped MAP_SHARED, header first, elements from a 128-byte aligned
// offset. Creating an array allocates and touches all of it at once (MADV_POPULATE_WRITE),
// because on the project's machines a lazy first touch costs 10-20 us per page. A size larger
// than the machine's memory is a std::length_error; each live array holds one descriptor in
// its owner (the limit is `ulimit -n`).
//
// Cost of the lock. A SharedSpan load/store/add costs about 50 ns uncontended (a robust,
// process-shared mutex: about 45 ns per lock and unlock here, against 15 ns for a plain
// pthread mutex) and more under contention; hold a Guard around many operations instead.
//
// Cost of data(). In the owning process a view's data() is one compare and an add (a process
// id kept by a fork handler against the view's owner id). In any other process the first
// data() of an array maps it through /proc/<owner pid>/fd/<fd> (one open, mmap and populate:
// about 0.4 us per page); later calls find it in a process-local cache keyed by the memfd's
// inode (a few loads when the thread resolved the same array recently, else a mutex and a hash
// lookup). Take data() once per task and loop over the pointer.
//
// Lifetime. A view is valid while its array lives: the owner must keep the array alive until
// every task that got one of its views has finished. In the owner, a view of a freed array is
// a dangling pointer, as with std::span. In other processes it is detected: the view carries
// the memfd's device and inode as well as the owner's pid and descriptor number, so a freed
// array whose descriptor number was reused by another file is reported, never read.
// Freeing an array bumps an epoch counter shared by the whole process tree; other processes
// then drop their mappings of freed arrays the next time they resolve a view or call
// release_freed_arrays() (ProcessPool workers call it between tasks, and every 0.1 s while
// idle), so a long-lived worker, busy or idle, does not keep dead arrays' memory alive.
//
// Processes must be created with fork() (current_process.h keeps the process id used by the
// fast path); an array may be created by any of them, and its views work in all of them.
#ifndef PROCPAR_PRIMITIVES_SHARED_ARRAY_H_
#define PROCPAR_PRIMITIVES_SHARED_ARRAY_H_

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "primitives/current_process.h"

namespace procpar {

// Drops this process's mappings (and inherited descriptors) of arrays that their owners have
// freed. One atomic load when no array was freed since the last call. An inherited descriptor
// that this process closed, and whose number now names another file, is left alone.
void release_freed_arrays();

namespace shared_array_detail {

// The start of every segment. The elements follow at kDataOffset.
struct SegmentHeader {
  std::uint64_t magic;
  std::uint64_t data_bytes;
  std::atomic<std::uint32_t> freed;  // set by the owner before it unmaps and closes
  std::uint32_t has_lock;
  std::atomic<std::uint64_t> lock_recoveries;  // times a dead holder's lock was taken over
  pthread_mutex_t mutex;                       // robust, process-shared (SharedArray only)
};
inline constexpr std::size_t kDataOffset = 128;
static_assert(sizeof(SegmentHeader) <= kDataOffset);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "the header's counters must be lock-free to be shared between processes");

// Where a segment lives, enough to find it from any process of the tree.
struct SegmentRef {
  std::uint64_t owner_data = 0;  // address of element 0 in the owner's mapping
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int32_t owner_pid = 0;  // 0: an empty, default-constructed view
  std::int32_t fd = -1;

  // Address of element 0 in this process.
  std::byte* data() const {
    if (owner_pid == current_pid()) [[likely]] {
      return reinterpret_cast<std::byte*>(owner_data);
    }
    return resolve();
  }
  SegmentHeader* header() const {
    return reinterpret_cast<SegmentHeader*>(data() - kDataOffset);
  }

 private:
  std::byte* resolve() const;          // element 0 in a process other than the owner
  std::byte* resolve_mapping() const;  // the segment's base, mapping it if need be
};

// One memfd and its mapping in the owning process; RawArray and SharedArray hold one.
class Segment {
 public:
  Segment() = default;
  // `array_kind` names the array in error messages.
  Segment(std::size_t element_size, std::size_t count, bool with_lock, const char* array_kind);
  Segment(Segment&& other) noexcept;
  Segment& operator=(Segment&& other) noexcept;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment();

  std::byte* data() const { return data_; }
  SegmentHeader* header() const { return reinterpret_cast<SegmentHeader*>(data_ - kDataOffset); }
  const SegmentRef& ref() const { return ref_; }

 private:
  void release() noexcept;

  std::byte* data_ = nullptr;
  std::size_t mapped_bytes_ = 0;
  SegmentRef ref_;
};

void recover_lock(SegmentHeader* header, int lock_error);

inline void lock(SegmentHeader* header) {
  const int rc = pthread_mutex_lock(&header->mutex);
  if (rc != 0) [[unlikely]] recover_lock(header, rc);
}

inline void unlock(SegmentHeader* header) { pthread_mutex_unlock(&header->mutex); }

[[noreturn]] void throw_out_of_range(const char* what, std::size_t index, std::size_t size);
[[noreturn]] void throw_bad_subspan(const char* what, std::size_t offset, std::size_t count,
                                    std::size_t size);

template <class T>
constexpr bool check_element_type() {
  static_assert(std::is_trivially_copyable_v<T>,
                "RawArray<T>/SharedArray<T>: T must be trivially copyable, because its bytes are "
                "shared between processes as they are (no constructors, destructors or pointers "
                "to the owner's heap can cross)");
  static_assert(!std::is_const_v<T> && !std::is_volatile_v<T>,
                "RawArray<T>/SharedArray<T>: T must not be const or volatile");
  static_assert(alignof(T) <= kDataOffset,
                "RawArray<T>/SharedArray<T>: T's alignment must not exceed 128 bytes");
  return true;
}

}  // namespace shared_array_detail

template <class T>
class RawArray;
template <class T>
class SharedArray;
template <class T>
class ScratchArray;

// A view of (part of) a RawArray. Trivially copyable: pass it to tasks by value.
// Element access is unsynchronised, as with multiprocessing.RawArray.
template <class T>
class RawSpan {
 public:
  static_assert(shared_array_detail::check_element_type<T>());
  using value_type = T;

  RawSpan() = default;  // empty: data() is nullptr, size() is 0

  // See the header comment for the cost: take it once per task.
  T* data() const { return reinterpret_cast<T*>(segment_.data()) + offset_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](std::size_t i) const { return data()[i]; }
  T* begin() const { return data(); }
  T* end() const { return data() + size_; }

  // Elements [offset, offset + count); throws std::out_of_range past the end.
  RawSpan subspan(std::size_t offset, std::size_t count) const {
    if (offset > size_ || count > size_ - offset) {
      shared_array_detail::throw_bad_subspan("RawSpan::subspan", offset, count, size_);
    }
    RawSpan part = *this;
    part.offset_ += offset;
    part.size_ = count;
    return part;
  }

 private:
  friend class RawArray<T>;
  friend class ScratchArray<T>;

  RawSpan(const shared_array_detail::SegmentRef& segment, std::size_t size)
      : segment_(segment), size_(size) {}

  shared_array_detail::SegmentRef segment_;
  std::uint64_t offset_ = 0;
  std::uint64_t size_ = 0;
};

// Whether two views share an element (for primitives that write one view while reading the
// other). Empty views overlap nothing.
template <class T>
bool overlap(RawSpan<T> a, RawSpan<T> b) {
  return !a.empty() && !b.empty() && a.data() < b.data() + b.size() &&
         b.data() < a.data() + a.size();
}

// A view of (part of) a SharedArray: every access takes the array's one lock (subspans share
// it, as the elements of a multiprocessing.Array share its lock). Trivially copyable.
//
// The lock is a robust process-shared mutex: if a process dies while holding it, the next
// locker takes it over instead of deadlocking. The elements that process was writing may then
// be half-written (a multi-element update interrupted in the middle); the array counts such
// takeovers in SharedArray::lock_recoveries().
template <class T>
class SharedSpan {
 public:
  static_assert(shared_array_detail::check_element_type<T>());
  using value_type = T;

  // Holds the lock for its lifetime and gives raw access to the elements meanwhile.
  class Guard {
   public:
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() { shared_array_detail::unlock(header_); }

    T* data() const { return data_; }
    std::size_t size() const { return size_; }
    T& operator[](std::size_t i) const { return data_[i]; }
    T* begin() const { return data_; }
    T* end() const { return data_ + size_; }

   private:
    friend class SharedSpan;

    explicit Guard(const SharedSpan& span)
        : data_(reinterpret_cast<T*>(span.segment_.data()) + span.offset_),
          header_(reinterpret_cast<shared_array_detail::SegmentHeader*>(
              reinterpret_cast<std::byte*>(data_ - span.offset_) -
              shared_array_detail::kDataOffset)),
          size_(span.size_) {
      shared_array_detail::lock(header_);
    }

    T* data_;
    shared_array_detail::SegmentHeader* header_;
    std::size_t size_;
  };

  SharedSpan() = default;  // empty: size() is 0; any access is an error

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Each takes and releases the lock once; the index is checked (std::out_of_range).
  T load(std::size_t i) const {
    check(i, "SharedSpan::load");
    Guard guard(*this);
    return guard[i];
  }
  void store(std::size_t i, const T& value) const {
    check(i, "SharedSpan::store");
    Guard guard(*this);
    guard[i] = value;
  }
  // Adds atomically (unlike `arr[i] += x` on a multiprocessing.Array, which locks twice) and
  // returns the new value.
  T add(std::size_t i, const T& delta) const
    requires requires(T a, const T& b) { a += b; }
  {
    check(i, "SharedSpan::add");
    Guard guard(*this);
    guard[i] += delta;
    return guard[i];
  }

  // Several operations under one lock: { auto g = span.lock(); g[0] += 1; g[1] -= 1; }
  Guard lock() const {
    if (segment_.owner_pid == 0) {
      throw std::logic_error("SharedSpan::lock: empty view (default-constructed, not taken from "
                             "a SharedArray)");
    }
    return Guard(*this);
  }

  // Elements [offset, offset + count), under the same lock; throws std::out_of_range past the end.
  SharedSpan subspan(std::size_t offset, std::size_t count) const {
    if (offset > size_ || count > size_ - offset) {
      shared_array_detail::throw_bad_subspan("SharedSpan::subspan", offset, count, size_);
    }
    SharedSpan part = *this;
    part.offset_ += offset;
    part.size_ = count;
    return part;
  }

 private:
  friend class SharedArray<T>;

  void check(std::size_t i, const char* what) const {
    if (i >= size_) shared_array_detail::throw_out_of_range(what, i, size_);
  }

  shared_array_detail::SegmentRef segment_;
  std::uint64_t offset_ = 0;
  std::uint64_t size_ = 0;
};

// n zero-initialised elements of T in shared memory, without a lock. Movable, not copyable.
// Throws std::length_error for a size that cannot be allocated, std::system_error if the
// kernel refuses the memory or the descriptor.
template <class T>
class RawArray {
 public:
  static_assert(shared_array_detail::check_element_type<T>());
  using value_type = T;

  explicit RawArray(std::size_t n) : segment_(sizeof(T), n, false, "RawArray"), size_(n) {}
  RawArray(RawArray&& other) noexcept
      : segment_(std::move(other.segment_)), size_(std::exchange(other.size_, 0)) {}
  RawArray& operator=(RawArray&& other) noexcept {
    segment_ = std::move(other.segment_);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() const { return reinterpret_cast<T*>(segment_.data()); }
  T& operator[](std::size_t i) const { return data()[i]; }
  T* begin() const { return data(); }
  T* end() const { return data() + size_; }

  RawSpan<T> span() const { return RawSpan<T>(segment_.ref(), size_); }

 private:
  shared_array_detail::Segment segment_;
  std::size_t size_;
};

// n zero-initialised elements of T in shared memory behind one robust process-shared lock.
// Access goes through span(). Movable, not copyable. Errors as RawArray.
template <class T>
class SharedArray {
 public:
  static_assert(shared_array_detail::check_element_type<T>());
  using value_type = T;

  explicit SharedArray(std::size_t n) : segment_(sizeof(T), n, true, "SharedArray"), size_(n) {}
  SharedArray(SharedArray&& other) noexcept
      : segment_(std::move(other.segment_)), size_(std::exchange(other.size_, 0)) {}
  SharedArray& operator=(SharedArray&& other) noexcept {
    segment_ = std::move(other.segment_);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  SharedSpan<T> span() const {
    SharedSpan<T> view;
    view.segment_ = segment_.ref();
    view.size_ = size_;
    return view;
  }

  // How many times a process took the lock over from a holder that had died.
  std::uint64_t lock_recoveries() const {
    return segment_.header()->lock_recoveries.load(std::memory_order_relaxed);
  }

 private:
  shared_array_detail::Segment segment_;
  std::size_t size_;
};

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_SHARED_ARRAY_H_
