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
// predictable the flags are. For 8-byte elements and 1-byte flags it moves 4 elements at a
// time with AVX2 where the CPU has it (pack_detail::write_kept).
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

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "primitives/pool.h"
#include "primitives/partition.h"
#include "primitives/shared_array.h"
#include "primitives/single_pass.h"

namespace procpar {
namespace pack_detail {

// The common case, elements of 8 bytes (double, int64_t, a pointer) and flags of one byte
// (bool, uint8_t, char), has kernels with AVX2, used where the CPU has it (asked once, at run
// time: the build targets baseline x86-64). On the project's 2-core machine the branchless
// scalar loop costs about 3 cycles an element and bounds pack below the memory's speed; AVX2
// counts 32 flags with one compare and moves 4 kept elements with one permute (a table maps
// each 4-bit mask to the lanes that bring the kept elements to the front).
template <class Flag>
inline constexpr bool kByteFlags =
#if defined(__x86_64__)
    std::is_integral_v<Flag> && sizeof(Flag) == 1;
#else
    false;
#endif
template <class T, class Flag>
inline constexpr bool kVectorPack =
    kByteFlags<Flag> && std::is_trivially_copyable_v<T> && sizeof(T) == 8;

#if defined(__x86_64__)
inline bool cpu_has_avx2() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
  }();
  return has;
}

struct LeftPackTable {
  alignas(32) std::int32_t lanes[16][8];  // 32-bit lanes taking the kept 64-bit elements first
  std::uint8_t kept[16];
};
inline constexpr LeftPackTable kLeftPack = [] {
  LeftPackTable table{};  // lanes past the kept ones repeat element 0: stored, then overwritten
  for (int mask = 0; mask < 16; ++mask) {
    int k = 0;
    for (int j = 0; j < 4; ++j) {
      if ((mask >> j & 1) == 0) continue;
      table.lanes[mask][2 * k] = 2 * j;
      table.lanes[mask][2 * k + 1] = 2 * j + 1;
      ++k;
    }
    table.kept[mask] = static_cast<std::uint8_t>(k);
  }
  return table;
}();

// How many of n bytes are not zero, 32 at a time; returns the count of the first n - n % 32.
__attribute__((target("avx2,popcnt"))) inline std::size_t count_nonzero_bytes_avx2(
    const void* bytes, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(bytes);
  const __m256i zero = _mm256_setzero_si256();
  std::size_t count = 0;
  for (std::size_t i = 0; i + 32 <= n; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    count += 32 - static_cast<std::size_t>(
                      __builtin_popcount(static_cast<unsigned>(
                          _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, zero)))));
  }
  return count;
}

// write_kept's main loop: 16 elements a step while at least 16 places of `out` are left (each
// 32-byte store then stays inside `out`). Returns how far it got in `in` and in `out`.
__attribute__((target("avx2,popcnt"))) inline std::pair<std::size_t, std::size_t>
write_kept_avx2(const void* in, const void* keep, std::size_t n, void* out, std::size_t room) {
  const auto* from = static_cast<const std::uint64_t*>(in);
  const auto* flags = static_cast<const unsigned char*>(keep);
  auto* to = static_cast<std::uint64_t*>(out);
  const __m128i zero = _mm_setzero_si128();
  std::size_t i = 0, k = 0;
  for (; i + 16 <= n && room - k >= 16; i += 16) {
    const __m128i f = _mm_loadu_si128(reinterpret_cast<const __m128i*>(flags + i));
    const unsigned mask = ~static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(f, zero)));
    for (int quad = 0; quad < 4; ++quad) {
      const unsigned m = mask >> (4 * quad) & 15;
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(from + i + 4 * quad));
      const __m256i lanes =
          _mm256_load_si256(reinterpret_cast<const __m256i*>(kLeftPack.lanes[m]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(to + k),
                          _mm256_permutevar8x32_epi32(v, lanes));
      k += kLeftPack.kept[m];
    }
  }
  return {i, k};
}
#endif

template <class Flag>
std::size_t count_flags(const Flag* flags, std::size_t n) {
  std::size_t count = 0, i = 0;
#if defined(__x86_64__)
  if constexpr (kByteFlags<Flag>) {
    if (cpu_has_avx2()) {
      count = count_nonzero_bytes_avx2(flags, n);
      i = n - n % 32;
    }
  }
#endif
  for (; i < n; ++i) count += static_cast<bool>(flags[i]);
  return count;
}

template <class Flag>
std::size_t count_piece(RawSpan<Flag> flags) {
  return count_flags(flags.data(), flags.size());
}

// Copies the kept elements of in[0, n) to `out`, which has `room` places, at least as many as
// are kept; returns how many it wrote (min(kept, room)). The store of an element that is not
// kept lands where the next kept one will go, so it is harmless while the position is inside
// `out`; once `out` is full the loop stops before it could write past the block's share of the
// output. (The AVX2 loop stores 4 elements at a time in the same way.)
template <class T, class Flag>
std::size_t write_kept(const T* in, const Flag* keep, std::size_t n, T* out, std::size_t room) {
  std::size_t i = 0, k = 0;
#if defined(__x86_64__)
  if constexpr (kVectorPack<T, Flag>) {
    if (cpu_has_avx2()) std::tie(i, k) = write_kept_avx2(in, keep, n, out, room);
  }
#endif
  for (; i < n && k < room; ++i) {
    out[k] = in[i];
    k += static_cast<bool>(keep[i]);
  }
  return k;
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
