// A task's function as data another rank can use: its offset from a basis symbol of the
// executable (UPC++'s global_fnptr). The ranks of an MPI job run the same binary, but each may
// load it at another address (PIE, address-space randomisation), so a raw function pointer is
// meaningless elsewhere; the distance between two functions of the same image is not.
//
//   std::int64_t offset = function_offset(reinterpret_cast<std::uintptr_t>(&task));
//   ... on another rank of the same binary:
//   auto f = reinterpret_cast<R (*)(A...)>(function_at(offset));
//
// Only functions of the main executable can travel this way: a function of a shared library
// (libc, a plugin loaded with dlopen) lies in an image that another rank may load at another
// distance from the executable, or not at all. function_offset refuses one with
// std::invalid_argument naming the library it comes from. What is not a function
// pointer at all (a closure with captures) is refused at compile time by task.h, as on every
// pool.
//
// Cost: two compares with the executable's address span, found once with dl_iterate_phdr;
// dladdr() (about 2.5 us here) only to name the library of a refused function.
#ifndef PROCPAR_MPI_MPI_POOL_FUNCTION_H_
#define PROCPAR_MPI_MPI_POOL_FUNCTION_H_

#include <cstdint>

namespace procpar::mpi {

// `function`'s offset from the basis. Throws std::invalid_argument if it is not in the main
// executable.
std::int64_t function_offset(std::uintptr_t function);

// The function at `offset` from the basis, in this process. Throws std::runtime_error if that
// lies outside the executable (a rank running another binary).
std::uintptr_t function_at(std::int64_t offset);

}  // namespace procpar::mpi

#endif  // PROCPAR_MPI_MPI_POOL_FUNCTION_H_
