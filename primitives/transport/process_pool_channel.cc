#include "primitives/transport/process_pool_channel.h"

#include <sys/mman.h>

#include <cerrno>
#include <new>
#include <system_error>

namespace procpar::process_pool_detail {
namespace {
constexpr std::size_t kPage = 4096;
}  // namespace

Channel::Channel(std::size_t workers) {
  slots_ = round_up(sizeof(Header), kPage);
  controls_ = round_up(slots_ + kSlots * sizeof(Slot), kPage);
  arena_ = round_up(controls_ + workers * sizeof(WorkerControl), kPage);
  rings_ = arena_ + kArenaBytes;
  total_ = rings_ + workers * kRingBytes;
  // NORESERVE: only the pages the messages touch are ever allocated.
  void* base = mmap(nullptr, total_, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) throw_errno("ProcessPool: mmap of the shared channel");
  base_ = static_cast<std::byte*>(base);
  new (&header()) Header{};
  for (std::size_t i = 0; i < kSlots; ++i) {
    // A word no position can match until the slot is first published.
    new (&slot(i)) Slot{};
    slot(i).word.store(kOwnerMask, std::memory_order_relaxed);
  }
  for (std::size_t i = 0; i < workers; ++i) new (&control(i)) WorkerControl{};
}

Channel::~Channel() { munmap(base_, total_); }

std::string mebibytes(std::size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

std::string cut_to_fit(std::string text, std::size_t limit, const char* what) {
  if (text.size() <= limit) return text;
  const std::string note = "... [cut: the " + std::string(what) + " took " +
                           std::to_string(text.size()) + " bytes, more than the " +
                           mebibytes(limit) + " a failure may carry through the channel]";
  text.resize(limit - note.size());
  text += note;
  return text;
}

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             wait_detail::Clock::now().time_since_epoch())
      .count();
}

void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace procpar::process_pool_detail
