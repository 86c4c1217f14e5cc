#include "primitives/shared_array.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>
#include <unordered_map>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace procpar {
namespace shared_array_detail {

namespace {

constexpr std::uint64_t kMagic = 0x7072'6f63'7061'7231;  // "procpar1"

struct Key {
  std::uint64_t device;
  std::uint64_t inode;
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  std::size_t operator()(const Key& key) const {
    return std::hash<std::uint64_t>()(key.inode * 0x9e37'79b9'7f4a'7c15ULL ^ key.device);
  }
};

// A segment mapped in this process: one it created (owner_pid is this process), one inherited
// from an ancestor through fork (fd is the inherited descriptor), or one it mapped through
// /proc to resolve a view (fd is -1: closed once mapped).
struct Mapping {
  std::byte* base;
  std::size_t bytes;
  int fd;
  pid_t owner_pid;
};

struct Registry {
  std::mutex mutex;
  std::unordered_map<Key, Mapping, KeyHash> mappings;
  std::atomic<std::uint64_t> seen_epoch{0};
};

// Never destroyed: arrays with static storage may be freed after static destructors ran.
Registry& registry() {
  static Registry* const instance = new Registry;
  return *instance;
}

// Bumped whenever an array is freed. One page mapped MAP_SHARED before main(), so every
// process forked from this one (at any depth) shares it. Null only if that mmap failed; then
// every resolve sweeps.
std::atomic<std::uint64_t>* free_epoch = nullptr;

// Bumped whenever this process unmaps a segment it did not create, so that no thread's
// resolve cache keeps an address that is no longer mapped.
std::atomic<std::uint64_t> unmap_generation{0};

// The last few segments a thread resolved, so that per-element operations in a worker (a
// SharedSpan::add in a loop) cost a few loads, not the registry's mutex and hash lookup.
// Valid while neither the tree's free epoch nor this process's unmap generation has moved.
struct ResolveCache {
  static constexpr int kEntries = 4;
  struct Entry {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::byte* base = nullptr;
  };
  std::uint64_t epoch = 0;
  std::uint64_t generation = 0;
  int next = 0;
  Entry entries[kEntries];
};
thread_local ResolveCache resolve_cache;

void before_fork() { registry().mutex.lock(); }
void after_fork_in_parent() { registry().mutex.unlock(); }
void after_fork_in_child() { registry().mutex.unlock(); }

void initialise() {
  static const bool done = [] {
    registry();
    void* page = mmap(nullptr, sizeof(std::atomic<std::uint64_t>), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page != MAP_FAILED) free_epoch = new (page) std::atomic<std::uint64_t>(0);
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
    return true;
  }();
  (void)done;
}

// Before main(), so that the epoch page exists before any fork.
[[maybe_unused]] const bool initialised_before_main = (initialise(), true);

SegmentHeader* header_at(std::byte* base) { return reinterpret_cast<SegmentHeader*>(base); }

std::string errno_text(int error) { return std::strerror(error); }

// Faults every page in writable now: a write fault later costs 10-20 us per page here.
// Returns 0 or an errno; kernels before 5.14 lack MADV_POPULATE_WRITE and fault lazily.
int populate(void* base, std::size_t bytes) {
  if (madvise(base, bytes, MADV_POPULATE_WRITE) == 0 || errno == EINVAL) return 0;
  return errno;
}

// Closes a descriptor inherited through fork unless it names another file by now: code in
// this process (a pool task, say) may have closed it and reused its number for a file of its
// own, which must stay open.
void close_inherited(int fd, const Key& key) {
  struct stat status;
  if (fstat(fd, &status) == 0 && status.st_dev == key.device && status.st_ino == key.inode) {
    close(fd);
  }
}

// Drops mappings of segments other processes own and have freed. Registry mutex held. Skipped
// while the tree's free epoch has not moved, unless `always`: the epoch is shared only by the
// processes of one fork tree, and an array of an unrelated process (an MPI rank's piece) is
// freed without bumping it.
void sweep(Registry& registry, bool always = false) {
  if (free_epoch != nullptr) {
    const std::uint64_t epoch = free_epoch->load(std::memory_order_acquire);
    if (epoch == registry.seen_epoch.load(std::memory_order_relaxed) && !always) return;
    registry.seen_epoch.store(epoch, std::memory_order_relaxed);
  }
  for (auto it = registry.mappings.begin(); it != registry.mappings.end();) {
    const Mapping& mapping = it->second;
    if (mapping.owner_pid != current_pid() &&
        header_at(mapping.base)->freed.load(std::memory_order_acquire) != 0) {
      munmap(mapping.base, mapping.bytes);
      if (mapping.fd >= 0) close_inherited(mapping.fd, it->first);
      unmap_generation.fetch_add(1, std::memory_order_relaxed);
      it = registry.mappings.erase(it);
    } else {
      ++it;
    }
  }
}

std::string describe(const SegmentRef& ref) {
  return "memfd inode " + std::to_string(ref.inode) + " (descriptor " + std::to_string(ref.fd) +
         " of process " + std::to_string(ref.owner_pid) + ")";
}

[[noreturn]] void throw_size_error(const char* kind, std::size_t count, std::size_t element_size,
                                   std::size_t limit) {
  throw std::length_error(std::string(kind) + ": " + std::to_string(count) + " elements of " +
                          std::to_string(element_size) + " bytes exceed this machine's memory (" +
                          std::to_string(limit) + " bytes)");
}

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

}  // namespace

Segment::Segment(std::size_t element_size, std::size_t count, bool with_lock,
                 const char* array_kind) {
  initialise();
  const std::string kind = array_kind;
  const std::size_t memory =
      static_cast<std::size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<std::size_t>(getpagesize());
  if (count > (memory - kDataOffset) / element_size) {
    throw_size_error(array_kind, count, element_size, memory);
  }
  const std::size_t bytes = kDataOffset + count * element_size;

  int fd = memfd_create("procpar_array", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
  if (fd < 0 && errno == EINVAL) {  // kernels before 6.3 know no MFD_NOEXEC_SEAL
    fd = memfd_create("procpar_array", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  }
  if (fd < 0) {
    const int error = errno;
    throw_errno(error, kind + ": memfd_create failed" +
                           (error == EMFILE ? " (each live array holds one descriptor; raise "
                                              "the limit with ulimit -n)"
                                            : ""));
  }
  auto fail = [&](const std::string& what) {
    const int error = errno;
    close(fd);
    throw_errno(error, kind + " of " + std::to_string(count) + " elements: " + what);
  };
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) fail("ftruncate");
  // Fixed size: no process can shrink the file under another's mapping (SIGBUS).
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) fail("sealing");
  struct stat status;
  if (fstat(fd, &status) != 0) fail("fstat");
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) fail("mmap");
  if (const int error = populate(base, bytes); error != 0) {
    munmap(base, bytes);
    errno = error;
    fail("allocating " + std::to_string(bytes) + " bytes of shared memory");
  }

  SegmentHeader* header = new (base) SegmentHeader{};
  header->magic = kMagic;
  header->data_bytes = count * element_size;
  header->has_lock = with_lock ? 1 : 0;
  if (with_lock) {
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
    // A thread that locks twice gets EDEADLK (an error) rather than hanging.
    pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_ERRORCHECK);
    const int rc = pthread_mutex_init(&header->mutex, &attributes);
    pthread_mutexattr_destroy(&attributes);
    if (rc != 0) {
      munmap(base, bytes);
      errno = rc;
      fail("pthread_mutex_init");
    }
  }

  data_ = static_cast<std::byte*>(base) + kDataOffset;
  mapped_bytes_ = bytes;
  ref_.owner_data = reinterpret_cast<std::uint64_t>(data_);
  ref_.device = status.st_dev;
  ref_.inode = status.st_ino;
  ref_.owner_pid = current_pid();
  ref_.fd = fd;

  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.mappings[Key{ref_.device, ref_.inode}] =
      Mapping{static_cast<std::byte*>(base), bytes, fd, current_pid()};
}

Segment::Segment(Segment&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      mapped_bytes_(std::exchange(other.mapped_bytes_, 0)),
      ref_(std::exchange(other.ref_, SegmentRef{})) {}

Segment& Segment::operator=(Segment&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    mapped_bytes_ = std::exchange(other.mapped_bytes_, 0);
    ref_ = std::exchange(other.ref_, SegmentRef{});
  }
  return *this;
}

Segment::~Segment() { release(); }

void Segment::release() noexcept {
  if (data_ == nullptr) return;
  std::byte* const base = data_ - kDataOffset;
  const Key key{ref_.device, ref_.inode};
  Registry& r = registry();
  if (ref_.owner_pid == current_pid()) {
    {
      std::lock_guard<std::mutex> lock(r.mutex);
      r.mappings.erase(key);
    }
    // Freed first, then the epoch: a process that sees the new epoch sees the flag.
    header_at(base)->freed.store(1, std::memory_order_release);
    if (free_epoch != nullptr) free_epoch->fetch_add(1, std::memory_order_acq_rel);
    munmap(base, mapped_bytes_);
    close(ref_.fd);
  } else {
    // The copy a forked child inherited: drop it unless a sweep already has.
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.mappings.find(key);
    if (it != r.mappings.end() && it->second.base == base && it->second.fd == ref_.fd) {
      munmap(base, mapped_bytes_);
      close_inherited(ref_.fd, key);
      unmap_generation.fetch_add(1, std::memory_order_relaxed);
      r.mappings.erase(it);
    }
  }
  data_ = nullptr;
}

std::byte* SegmentRef::resolve() const {
  if (owner_pid == 0) return nullptr;  // an empty view
  ResolveCache& cache = resolve_cache;
  if (free_epoch != nullptr &&
      cache.epoch == free_epoch->load(std::memory_order_acquire) &&
      cache.generation == unmap_generation.load(std::memory_order_relaxed)) {
    for (const ResolveCache::Entry& entry : cache.entries) {
      if (entry.inode == inode && entry.device == device && entry.base != nullptr) {
        return entry.base + kDataOffset;
      }
    }
  }
  initialise();
  if (owner_pid == current_pid()) return reinterpret_cast<std::byte*>(owner_data);
  std::byte* const base = resolve_mapping();
  const std::uint64_t epoch = free_epoch == nullptr ? 0 : free_epoch->load(std::memory_order_acquire);
  const std::uint64_t generation = unmap_generation.load(std::memory_order_relaxed);
  if (cache.epoch != epoch || cache.generation != generation) {
    cache = ResolveCache{};
    cache.epoch = epoch;
    cache.generation = generation;
  }
  cache.entries[cache.next] = ResolveCache::Entry{device, inode, base};
  cache.next = (cache.next + 1) % ResolveCache::kEntries;
  return base + kDataOffset;
}

std::byte* SegmentRef::resolve_mapping() const {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  sweep(r);
  if (auto it = r.mappings.find(Key{device, inode}); it != r.mappings.end()) {
    return it->second.base;
  }
  // About to map another segment: first let go of every freed one, whoever owned it, so that
  // mappings of unrelated processes' freed arrays never accumulate (a few loads per mapping
  // held, against the open, mmap and populate that follow).
  sweep(r, /*always=*/true);

  const std::string path = "/proc/" + std::to_string(owner_pid) + "/fd/" + std::to_string(fd);
  const int mine = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (mine < 0) {
    const int error = errno;
    throw std::runtime_error("shared array view of " + describe(*this) + ": cannot open " + path +
                             " (" + errno_text(error) +
                             "): the array was freed, or its owner process has exited");
  }
  struct stat status;
  if (fstat(mine, &status) != 0 || status.st_dev != device || status.st_ino != inode) {
    close(mine);
    throw std::runtime_error("shared array view of " + describe(*this) + ": " + path +
                             " is no longer that array (it was freed and the descriptor reused)");
  }
  const auto bytes = static_cast<std::size_t>(status.st_size);
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, mine, 0);
  const int map_error = errno;
  close(mine);
  if (base == MAP_FAILED) {
    throw_errno(map_error, "shared array view of " + describe(*this) + ": mmap");
  }
  SegmentHeader* header = header_at(static_cast<std::byte*>(base));
  if (bytes < kDataOffset || header->magic != kMagic) {
    munmap(base, bytes);
    throw std::runtime_error("shared array view of " + describe(*this) +
                             ": the descriptor is not a procpar array");
  }
  if (header->freed.load(std::memory_order_acquire) != 0) {
    munmap(base, bytes);
    throw std::runtime_error("shared array view of " + describe(*this) +
                             ": the array was freed by its owner");
  }
  if (const int error = populate(base, bytes); error != 0) {
    munmap(base, bytes);
    throw_errno(error, "shared array view of " + describe(*this) + ": populating the mapping");
  }
  r.mappings[Key{device, inode}] =
      Mapping{static_cast<std::byte*>(base), bytes, -1, static_cast<pid_t>(owner_pid)};
  return static_cast<std::byte*>(base);
}

void recover_lock(SegmentHeader* header, int lock_error) {
  if (lock_error == EOWNERDEAD) {
    // The holder died inside its critical section: take the lock over. What it was writing
    // may be half-written; the count lets the owner notice.
    pthread_mutex_consistent(&header->mutex);
    header->lock_recoveries.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (lock_error == EDEADLK) {
    throw std::logic_error(
        "SharedArray lock: this thread already holds it (a load/store/add or a second lock() "
        "while a SharedSpan::Guard is alive)");
  }
  throw_errno(lock_error, "SharedArray lock");
}

void throw_out_of_range(const char* what, std::size_t index, std::size_t size) {
  throw std::out_of_range(std::string(what) + ": index " + std::to_string(index) +
                          " out of range for size " + std::to_string(size));
}

void throw_bad_subspan(const char* what, std::size_t offset, std::size_t count, std::size_t size) {
  throw std::out_of_range(std::string(what) + ": [" + std::to_string(offset) + ", " +
                          std::to_string(offset) + " + " + std::to_string(count) +
                          ") is not within size " + std::to_string(size));
}

}  // namespace shared_array_detail

void release_freed_arrays() {
  using namespace shared_array_detail;
  initialise();
  Registry& r = registry();
  if (free_epoch != nullptr && free_epoch->load(std::memory_order_acquire) ==
                                   r.seen_epoch.load(std::memory_order_relaxed)) {
    return;
  }
  std::lock_guard<std::mutex> lock(r.mutex);
  sweep(r);
}

}  // namespace procpar
