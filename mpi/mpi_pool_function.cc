#include "mpi/mpi_pool_function.h"

#include <dlfcn.h>
#include <sys/auxv.h>

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

// The load address of the image (executable or shared object) holding `address`, and its file.
struct Image {
  const void* base = nullptr;
  const char* file = nullptr;
};
Image image_of(const void* address) {
  Dl_info info{};
  if (dladdr(address, &info) == 0) return {};
  return {info.dli_fbase, info.dli_fname};
}

// The main executable's image: the one that holds its program headers (AT_PHDR), checked once
// to hold the basis as well.
const void* executable_base() {
  static const void* const base = [] {
    const Image executable = image_of(reinterpret_cast<const void*>(getauxval(AT_PHDR)));
    const Image basis_image = image_of(reinterpret_cast<const void*>(basis_address()));
    if (executable.base == nullptr || executable.base != basis_image.base) {
      throw std::logic_error(
          "procpar: the MPI pool's function basis is not in the main executable (was "
          "mpi_pool_function linked as a shared library?); functions cannot travel between "
          "ranks");
    }
    return executable.base;
  }();
  return base;
}

}  // namespace

std::int64_t function_offset(std::uintptr_t function) {
  const Image image = image_of(reinterpret_cast<const void*>(function));
  if (image.base != executable_base()) {
    char address[32];
    std::snprintf(address, sizeof address, "%#jx", static_cast<std::uintmax_t>(function));
    const std::string where = image.base == nullptr
                                  ? std::string("no loaded image")
                                  : "the shared library " + std::string(image.file);
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
  if (image_of(reinterpret_cast<const void*>(function)).base != executable_base()) {
    throw std::runtime_error("procpar: MpiPool: function offset " + std::to_string(offset) +
                             " points outside this executable: do all ranks run the same "
                             "binary?");
  }
  return function;
}

}  // namespace procpar::mpi
