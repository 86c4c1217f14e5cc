// Scratch shared memory for one call of a primitive, leased from a per-process cache:
//
//   ScratchArray<BoardEntry> board(blocks);   n zero-initialised elements, as a RawArray
//   pool.map(task, ... board.span() ...);     its view works in every worker, as a RawArray's
//                                             // the destructor gives the memory back
//
// Why. A fresh shared array costs more than a small call of a primitive: the first touch of
// its pages (about 15 us per 4 KiB page on the project's machines) and each worker's first
// mapping of it. A lease reuses an array that a previous call of this process gave back, so
// its pages are warm and the workers have it mapped already; only the elements asked for are
// zeroed again.
//
// The cache is per process and fork-aware: a forked child never gets its parent's arrays (it
// makes its own; the inherited mappings are dropped), and leases held at the same time (by
// two threads, or a call nested in another) get different arrays. Arrays in the cache stay
// allocated until the process ends or calls release_scratch(); the cache keeps at most
// kKeptArrays of them and kKeptBytes in all, and frees the rest as they are given back.
// They are memfds like every RawArray: a crash leaves nothing behind.
#ifndef PROCPAR_PRIMITIVES_SCRATCH_ARRAY_H_
#define PROCPAR_PRIMITIVES_SCRATCH_ARRAY_H_

#include <cstddef>
#include <cstring>

#include "primitives/shared_array.h"

namespace procpar {

// Frees the arrays this process's scratch cache holds (not those leased now).
void release_scratch();

namespace shared_array_detail {

inline constexpr std::size_t kKeptArrays = 8;
inline constexpr std::size_t kKeptBytes = std::size_t{64} << 20;

// A segment with at least `bytes` data bytes, the first `bytes` zero: a cached one if one is
// free, else a new one.
Segment lease_scratch(std::size_t bytes);
// Back to the cache (or freed, if the cache is full or the segment is another process's).
void return_scratch(Segment segment) noexcept;

}  // namespace shared_array_detail

// n zero-initialised elements of T in shared memory, leased for the object's lifetime.
// Neither copyable nor movable: the lease is a scope. Errors as RawArray.
template <class T>
class ScratchArray {
 public:
  static_assert(shared_array_detail::check_element_type<T>());

  explicit ScratchArray(std::size_t n)
      : segment_(shared_array_detail::lease_scratch(n * sizeof(T))), size_(n) {}
  ScratchArray(const ScratchArray&) = delete;
  ScratchArray& operator=(const ScratchArray&) = delete;
  ~ScratchArray() { shared_array_detail::return_scratch(std::move(segment_)); }

  std::size_t size() const { return size_; }
  T* data() const { return reinterpret_cast<T*>(segment_.data()); }
  T& operator[](std::size_t i) const { return data()[i]; }

  RawSpan<T> span() const { return RawSpan<T>(segment_.ref(), size_); }

 private:
  shared_array_detail::Segment segment_;
  std::size_t size_;
};

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_SCRATCH_ARRAY_H_
