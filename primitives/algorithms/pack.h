// Pack (the seed's "Pack"): keep the elements whose flag is set, in their order.
//
//   std::size_t kept = pack(pool, in, flags, out);
//
// One round of the pool over blocks (single_pass.h): each block's set flags are counted and
// published, the block's output offset is the sum of the counts before it (looked back from
// the nearest block that has published its offset), and its kept elements are copied there
// while its flags are still in cache. The caller claims blocks beside min(p, blocks) - 1 tasks.
// The data is read from memory once, and the copy loop is branchless: it stores every element
// and advances the output position by the flag, so its speed does not depend on how
// predictable the flags are.
//
// `flags` has one entry per element of `in`, any type that converts to bool; `out` needs room
// for the kept elements (a clear error otherwise, with `out` untouched: when `out` is shorter
// than `in`, the flags are counted in a round of their own first) and must not overlap `in` or
// `flags` (std::invalid_argument: a block's output may lie where another block is still read,
// so not even in place is right). Returns how many were kept; out[kept..] is left as it was.
// Same result whatever the number of workers (no arithmetic on the elements). On a
// ProcessPool the three spans must live in RawArrays.
#ifndef PROCPAR_PRIMITIVES_PACK_H_
#define PROCPAR_PRIMITIVES_PACK_H_

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "primitives/pool.h"
#include "primitives/partition.h"
#include "primitives/shared_array.h"
#include "primitives/single_pass.h"

namespace procpar {
namespace pack_detail {

template <class Flag>
std::size_t count_flags(const Flag* flags, std::size_t n) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) count += static_cast<bool>(flags[i]);
  return count;
}

template <class Flag>
std::size_t count_piece(RawSpan<Flag> flags) {
  return count_flags(flags.data(), flags.size());
}

// Copies the kept elements of in[0, n) to `out`, which has exactly `room` places for them. The
// store of an element that is not kept lands where the next kept one will go, so it is
// harmless while the position is inside `out`; once `out` is full no flag is set any more and
// the loop stops before it could write past the block's share of the output.
template <class T, class Flag>
void write_kept(const T* in, const Flag* keep, std::size_t n, T* out, std::size_t room) {
  std::size_t k = 0;
  for (std::size_t i = 0; i < n && k < room; ++i) {
    out[k] = in[i];
    k += static_cast<bool>(keep[i]);
  }
}

// write_kept over views: `out` has exactly room for the kept elements of `in`.
template <class T, class Flag>
void write_piece(RawSpan<T> in, RawSpan<Flag> flags, RawSpan<T> out) {
  write_kept(in.data(), flags.data(), in.size(), out.data(), out.size());
}

// pack's kernel (single_pass.h): a block's summary is its count of set flags; it is finished by
// writing its kept elements from its prefix, the count of all kept before it.
template <class T, class Flag>
struct PackKernel {
  using Summary = std::size_t;
  RawSpan<T> in;
  RawSpan<Flag> flags;
  RawSpan<T> out;

  struct Bound {
    const T* in;
    const Flag* flags;
    T* out;
    std::size_t fold(std::size_t begin, std::size_t end) const {
      return count_flags(flags + begin, end - begin);
    }
    std::size_t combine(std::size_t a, std::size_t b) const { return a + b; }
    void finish(std::size_t begin, std::size_t end, std::size_t prefix,
                std::size_t count) const {
      write_kept(in + begin, flags + begin, end - begin, out + prefix, count);
    }
  };

  std::size_t size() const { return in.size(); }
  // What a block reads from memory per element: the element and its flag.
  std::size_t bytes_per_element() const { return sizeof(T) + sizeof(Flag); }
  std::size_t identity() const { return 0; }
  Bound bind() const { return Bound{in.data(), flags.data(), out.data()}; }
};

}  // namespace pack_detail

template <Pool P, class T, class Flag>
std::size_t pack(P& pool, RawSpan<T> in, RawSpan<Flag> flags, RawSpan<T> out) {
  static_assert(std::is_constructible_v<bool, const Flag&>, "pack: a flag must convert to bool");
  if (flags.size() != in.size()) {
    throw std::invalid_argument("pack: input has " + std::to_string(in.size()) +
                                " elements but " + std::to_string(flags.size()) + " flags");
  }
  bool output_overlaps = overlap(out, in);
  if constexpr (std::is_same_v<Flag, T>) output_overlaps = output_overlaps || overlap(out, flags);
  if (output_overlaps) {
    throw std::invalid_argument(
        "pack: the output overlaps the input or the flags (pack into another array)");
  }
  const std::size_t workers = checked_workers(pool, "pack");
  const std::size_t n = in.size();
  if (out.size() < n) {
    // The blocks write as soon as they know their offsets: find out first whether all fits.
    const std::vector<std::size_t> bounds = partition_bounds(n, workers);
    std::vector<std::tuple<RawSpan<Flag>>> count_tasks;
    for (const RawSpan<Flag>& piece : split(flags, bounds)) count_tasks.emplace_back(piece);
    std::size_t kept = 0;
    for (const std::size_t count :
         run_pieces(pool, &pack_detail::count_piece<Flag>, count_tasks)) {
      kept += count;
    }
    if (out.size() < kept) {
      throw std::invalid_argument("pack: output has room for " + std::to_string(out.size()) +
                                  " elements but " + std::to_string(kept) + " are kept");
    }
  }
  return single_pass(pool, pack_detail::PackKernel<T, Flag>{in, flags, out}, "pack");
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_PACK_H_
