#include "mpi/mpi_pool_function.h"

#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace procpar::mpi {
namespace {

// The basis. This library is linked statically (mpi/BUILD: linkstatic), so the basis lies in the
// executable, and its distance to any other function of the executable is fixed at link time.
// noinline and used: the symbol must exist, as one address, in every build of the binary.
[[gnu::noinline, gnu::used]] void basis() { asm volatile(""); }

std::uintptr_t basis_address() { return reinterpret_cast<std::uintptr_t>(&basis); }

// The addresses the main executable's loadable segments span, found once (dl_iterate_phdr lists
// the main program first), and checked to hold the basis. A check against them costs two
// compares, where dladdr walks every loaded object's symbols (about 2.5 us here with Open MPI's
// libraries loaded): dladdr is kept for naming the library in an error.
struct Span {
  std::uintptr_t begin = UINTPTR_MAX;
  std::uintptr_t end = 0;
  bool holds(std::uintptr_t address) const { return begin <= address && address < end; }
};

const Span& executable() {
  static const Span span = [] {
    Span found;
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* data) {
          auto& span = *static_cast<Span*>(data);
          for (int i = 0; i < info->dlpi_phnum; ++i) {
            const ElfW(Phdr)& segment = info->dlpi_phdr[i];
            if (segment.p_type != PT_LOAD) continue;
            const std::uintptr_t begin = info->dlpi_addr + segment.p_vaddr;
            span.begin = std::min(span.begin, begin);
            span.end = std::max(span.end, begin + segment.p_memsz);
          }
          return 1;  // the main program only
        },
        &found);
    if (!found.holds(basis_address())) {
      throw std::logic_error(
          "procpar: the MPI pool's function basis is not in the main executable (was "
          "mpi_pool_function linked as a shared library?); functions cannot travel between "
          "ranks");
    }
    return found;
  }();
  return span;
}

}  // namespace

std::int64_t function_offset(std::uintptr_t function) {
  if (!executable().holds(function)) {
    char address[32];
    std::snprintf(address, sizeof address, "%#jx", static_cast<std::uintmax_t>(function));
    Dl_info info{};
    const std::string where = dladdr(reinterpret_cast<const void*>(function), &info) == 0
                                  ? std::string("no loaded image")
                                  : "the shared library " + std::string(info.dli_fname);
    throw std::invalid_argument(
        std::string("procpar: MpiPool: the task function at ") + address + " lies in " + where +
        ", not in the main executable; another rank may load that library at another address, "
        "so the function cannot be sent to it: define the task (or a wrapper that calls it) in "
        "the program itself");
  }
  return static_cast<std::int64_t>(function - basis_address());
}

std::uintptr_t function_at(std::int64_t offset) {
  const std::uintptr_t function = basis_address() + static_cast<std::uintptr_t>(offset);
  if (!executable().holds(function)) {
    throw std::runtime_error("procpar: MpiPool: function offset " + std::to_string(offset) +
                             " points outside this executable: do all ranks run the same "
                             "binary?");
  }
  return function;
}

}  // namespace procpar::mpi
