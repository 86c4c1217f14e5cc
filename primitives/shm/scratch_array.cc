#include "primitives/scratch_array.h"

#include <pthread.h>

#include <algorithm>
#include <bit>
#include <mutex>
#include <utility>
#include <vector>

#include "primitives/current_process.h"

namespace procpar {
namespace shared_array_detail {
namespace {

// Smallest array made: a scratch array of a few elements still costs a page.
constexpr std::size_t kMinScratchBytes = 4096 - kDataOffset;

// The arrays given back and not leased again, all owned by `owner`. Segments are created and
// freed outside the mutex, so that it is never held while the shared arrays' registry is
// locked (their fork handlers lock both, in whichever order they were registered).
struct Cache {
  std::mutex mutex;
  pid_t owner = 0;
  std::vector<Segment> free;
  std::size_t free_bytes = 0;
};

Cache& cache() {
  static Cache* const instance = new Cache;  // never destroyed: leases may end after exit()
  return *instance;
}

std::size_t capacity(const Segment& segment) { return segment.header()->data_bytes; }

// In a forked child the cache holds its parent's arrays: hand them to `dropped` (whose
// destructors let go of the child's inherited mappings) and start afresh. Mutex held.
void adopt(Cache& c, std::vector<Segment>& dropped) {
  const pid_t self = current_pid();
  if (c.owner == self) return;
  for (Segment& segment : c.free) dropped.push_back(std::move(segment));
  c.free.clear();
  c.free_bytes = 0;
  c.owner = self;
}

void register_fork_handlers() {
  static const bool registered = [] {
    pthread_atfork([] { cache().mutex.lock(); }, [] { cache().mutex.unlock(); },
                   [] { cache().mutex.unlock(); });
    return true;
  }();
  (void)registered;
}

[[maybe_unused]] const bool registered_before_main = (register_fork_handlers(), true);

}  // namespace

Segment lease_scratch(std::size_t bytes) {
  Cache& c = cache();
  std::vector<Segment> dropped;
  Segment leased;
  {
    std::lock_guard lock(c.mutex);
    adopt(c, dropped);
    // The smallest that fits: large arrays stay for large calls.
    auto best = c.free.end();
    for (auto it = c.free.begin(); it != c.free.end(); ++it) {
      if (capacity(*it) >= bytes && (best == c.free.end() || capacity(*it) < capacity(*best))) {
        best = it;
      }
    }
    if (best != c.free.end()) {
      c.free_bytes -= capacity(*best);
      leased = std::move(*best);
      c.free.erase(best);
    }
  }
  if (leased.data() != nullptr) {
    std::memset(leased.data(), 0, bytes);
    return leased;
  }
  // Powers of two, so that calls of similar sizes share arrays.
  return Segment(1, std::bit_ceil(std::max(bytes, kMinScratchBytes)), false, "ScratchArray");
}

void return_scratch(Segment segment) noexcept {
  if (segment.data() == nullptr || segment.ref().owner_pid != current_pid()) return;
  Cache& c = cache();
  std::vector<Segment> dropped;
  std::lock_guard lock(c.mutex);
  adopt(c, dropped);
  c.free_bytes += capacity(segment);
  c.free.push_back(std::move(segment));
  // Over the limits: free the largest arrays first while over the bytes, then the smallest
  // while over the count.
  const auto by_capacity = [](const Segment& a, const Segment& b) {
    return capacity(a) < capacity(b);
  };
  std::sort(c.free.begin(), c.free.end(), by_capacity);
  while (c.free_bytes > kKeptBytes || c.free.size() > kKeptArrays) {
    auto victim = c.free_bytes > kKeptBytes ? c.free.end() - 1 : c.free.begin();
    c.free_bytes -= capacity(*victim);
    dropped.push_back(std::move(*victim));
    c.free.erase(victim);
  }
  // `dropped` is freed after the lock is released (declared before it).
}

}  // namespace shared_array_detail

void release_scratch() {
  using namespace shared_array_detail;
  Cache& c = cache();
  std::vector<Segment> dropped;
  std::lock_guard lock(c.mutex);
  adopt(c, dropped);
  for (Segment& segment : c.free) dropped.push_back(std::move(segment));
  c.free.clear();
  c.free_bytes = 0;
}

}  // namespace procpar
