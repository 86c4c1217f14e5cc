// Pack (the seed's "Pack"): keep the elements whose flag is set, in their order.
//
//   std::size_t kept = pack(pool, in, flags, out);
//
// One contiguous piece per worker: (1) the set flags of each piece are counted, (2) the caller
// scans the p counts into output offsets, (3) each piece's kept elements are copied to its offset;
// in (1) and (3) the caller does the first piece while the pool does the others (run_pieces,
// partition.h). The data is read once (the flags twice; they are a fraction of its size), with no
// second pass to propagate offsets, and the copy loop is branchless: it stores every element and
// advances the output position by the flag, so its speed does not depend on how predictable the
// flags are.
//
// `flags` has one entry per element of `in`, any type that converts to bool; `out` needs room
// for the kept elements (a clear error otherwise) and must not overlap `in` or `flags`
// (std::invalid_argument: a piece's output may lie where another piece is still read, so not
// even in place is right). Returns how many
// were kept; out[kept..] is left as it was. Same result whatever the number of workers (no
// arithmetic on the elements). On a ProcessPool the three spans must live in RawArrays.
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

namespace procpar {
namespace pack_detail {

template <class Flag>
std::size_t count_piece(RawSpan<Flag> flags) {
  const Flag* data = flags.data();
  const std::size_t n = flags.size();
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) count += static_cast<bool>(data[i]);
  return count;
}

// Copies the kept elements of `in` to `out`, which has exactly room for them. The store of an
// element that is not kept lands where the next kept one will go, so it is harmless while the
// position is inside `out`; once `out` is full no flag is set any more and the loop stops
// before it could write past the piece's share of the output.
template <class T, class Flag>
void write_piece(RawSpan<T> in, RawSpan<Flag> flags, RawSpan<T> out) {
  const T* source = in.data();
  const Flag* keep = flags.data();
  T* target = out.data();
  const std::size_t n = in.size();
  const std::size_t room = out.size();
  std::size_t k = 0;
  for (std::size_t i = 0; i < n && k < room; ++i) {
    target[k] = source[i];
    k += static_cast<bool>(keep[i]);
  }
}

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
  if (n == 0) return 0;
  const std::vector<std::size_t> bounds = partition_bounds(n, workers);
  const std::vector<RawSpan<T>> in_pieces = split(in, bounds);
  const std::vector<RawSpan<Flag>> flag_pieces = split(flags, bounds);
  std::vector<std::tuple<RawSpan<Flag>>> count_tasks;
  for (const RawSpan<Flag>& piece : flag_pieces) count_tasks.emplace_back(piece);
  const std::vector<std::size_t> counts =
      run_pieces(pool, &pack_detail::count_piece<Flag>, count_tasks);
  std::size_t kept = 0;
  for (const std::size_t count : counts) kept += count;
  if (out.size() < kept) {
    throw std::invalid_argument("pack: output has room for " + std::to_string(out.size()) +
                                " elements but " + std::to_string(kept) + " are kept");
  }
  std::vector<std::tuple<RawSpan<T>, RawSpan<Flag>, RawSpan<T>>> writes;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < in_pieces.size(); ++i) {
    if (counts[i] == 0) continue;
    writes.emplace_back(in_pieces[i], flag_pieces[i], out.subspan(offset, counts[i]));
    offset += counts[i];
  }
  run_pieces(pool, &pack_detail::write_piece<T, Flag>, writes);
  return kept;
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_PACK_H_
