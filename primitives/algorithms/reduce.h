// Reduction of a sequence with an associative operator, three ways (the seed's "Reduction"):
//
//   reduce_serial(in, identity)              one pass in the caller, at memory bandwidth
//   reduce_tree<Op>(pool, in, identity)      the seed's PRAM algorithm: log2(n) rounds, each
//                                            combining evens[i] and odds[i], every pair its own
//                                            pool task. Slow by design: it pays a task per pair.
//   reduce_partitioned<Op>(pool, in, id)     the seed's partitioned reduction, in contiguous
//                                            blocks that the workers claim as they go (at least
//                                            one per worker for all but small inputs), each
//                                            reduced serially; the caller reduces the partials.
//
// Every result is in[0] op in[1] op ... op in[n-1] (the operands regrouped, never reordered), or
// `identity` when `in` is empty. Op is a stateless function-object type (std::plus<>, a user
// struct), named as a template argument so that task functions are plain function pointers.
//
// Same bits whatever the number of workers? Yes for all three: their grouping depends on n only
// (reduce_partitioned's blocks are cut by n and sizeof(T), never by p). Floating-point sums stay
// within the usual bound (n - 1) * eps/2 * sum |x_i|.
//
// On a ProcessPool the input must live in a RawArray (shared_array.h): tasks carry RawSpan
// views and index ranges, never copies of the data.
#ifndef PROCPAR_PRIMITIVES_REDUCE_H_
#define PROCPAR_PRIMITIVES_REDUCE_H_

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "primitives/partition.h"
#include "primitives/pool.h"
#include "primitives/scratch_array.h"
#include "primitives/shared_array.h"
#include "primitives/single_pass.h"

namespace procpar {

// Op is default-constructible, holds no state, and combines two T into a T. Associativity is
// the caller's promise: the primitives regroup operands but never reorder them.
template <class Op, class T>
concept AssociativeOperator =
    std::default_initializable<Op> && std::is_empty_v<Op> &&
    requires(const Op& op, const T& a, const T& b) {
      { op(a, b) } -> std::convertible_to<T>;
    };

// Whether Op(a, b) == Op(b, a) on T. The serial kernels then keep interleaved accumulators,
// which the compiler turns into vector lanes (this reorders operands); for operators that are
// only associative they keep contiguous blocks in order instead (no vector lanes).
// Specialise it for a commutative operator of your own to get the vectorised kernel.
template <class Op, class T>
struct is_commutative : std::false_type {};
template <class T>
  requires std::is_arithmetic_v<T>
struct is_commutative<std::plus<>, T> : std::true_type {};
template <class T>
  requires std::is_arithmetic_v<T>
struct is_commutative<std::plus<T>, T> : std::true_type {};
template <class T>
  requires std::is_arithmetic_v<T>
struct is_commutative<std::multiplies<>, T> : std::true_type {};
template <class T>
  requires std::is_arithmetic_v<T>
struct is_commutative<std::multiplies<T>, T> : std::true_type {};
template <std::integral T>
struct is_commutative<std::bit_and<>, T> : std::true_type {};
template <std::integral T>
struct is_commutative<std::bit_or<>, T> : std::true_type {};
template <std::integral T>
struct is_commutative<std::bit_xor<>, T> : std::true_type {};

template <class Op, class T>
inline constexpr bool is_commutative_v = is_commutative<Op, T>::value;

namespace reduce_detail {

// Independent accumulators: enough to hide the operator's latency. For a commutative operator
// they are vector lanes, 64 bytes of them (one 512-bit register, two 256-bit ones): at memory
// bandwidth that hides an addition's latency, and more lanes were slower. On the 2-core Zen 4
// machine (AVX-512), summing 2^22 or 2^25 doubles of a RawArray on one core took 10-15% longer
// with 128 or 256 bytes of lanes than with 64 (scratch measurement, medians of 15 calls); the
// OpenMP and oneTBB peers' loops keep one register too. Otherwise separate scalar chains.
template <class Op, class T>
inline constexpr std::size_t kAccumulators =
    is_commutative_v<Op, T> ? std::max<std::size_t>(8, 64 / sizeof(T)) : 8;

template <class T, std::size_t... I>
std::array<T, sizeof...(I)> first_elements(const T* data, std::size_t stride,
                                           std::index_sequence<I...>) {
  return {data[I * stride]...};
}

}  // namespace reduce_detail

// in[0] op in[1] op ... op in[n-1] for n >= 1, at memory bandwidth for cheap operators
// (independent accumulators: see is_commutative). The grouping depends on n only.
template <class Op, class T>
  requires AssociativeOperator<Op, T>
T fold(const T* data, std::size_t n) {
  if (n == 0) throw std::invalid_argument("fold: empty input has no value (use reduce_serial)");
  const Op op{};
  constexpr std::size_t k = reduce_detail::kAccumulators<Op, T>;
  if (n < 2 * k) {
    T acc = data[0];
    for (std::size_t i = 1; i < n; ++i) acc = op(acc, data[i]);
    return acc;
  }
  if constexpr (is_commutative_v<Op, T>) {
    // Lane j accumulates in[j], in[j + k], ...: k independent chains in vector registers.
    std::array<T, k> acc =
        reduce_detail::first_elements(data, 1, std::make_index_sequence<k>{});
    const std::size_t body_end = n - n % k;
    for (std::size_t i = k; i < body_end; i += k) {
      const T* block = data + i;
      for (std::size_t j = 0; j < k; ++j) acc[j] = op(acc[j], block[j]);
    }
    for (std::size_t width = k / 2; width > 0; width /= 2) {
      for (std::size_t j = 0; j < width; ++j) acc[j] = op(acc[j], acc[j + width]);
    }
    T result = acc[0];
    for (std::size_t i = body_end; i < n; ++i) result = op(result, data[i]);
    return result;
  } else {
    // Chain j folds the contiguous block [j m, (j + 1) m) in order; the chains are combined
    // left to right, then the tail: the operands keep their order.
    const std::size_t m = n / k;
    std::array<T, k> acc =
        reduce_detail::first_elements(data, m, std::make_index_sequence<k>{});
    for (std::size_t i = 1; i < m; ++i) {
      for (std::size_t j = 0; j < k; ++j) acc[j] = op(acc[j], data[j * m + i]);
    }
    T result = acc[0];
    for (std::size_t j = 1; j < k; ++j) result = op(result, acc[j]);
    for (std::size_t i = k * m; i < n; ++i) result = op(result, data[i]);
    return result;
  }
}

// Serial reduction in the caller: `identity` for an empty input, else fold(in).
template <class Op, class T>
  requires AssociativeOperator<Op, T>
T reduce_serial(std::span<const T> in, T identity) {
  return in.empty() ? identity : fold<Op>(in.data(), in.size());
}

namespace reduce_detail {

template <class Op, class T>
T fold_piece(RawSpan<T> piece) {
  return fold<Op>(piece.data(), piece.size());
}

// One pair of the tree: out[i] = in[2i] op in[2i+1]. A separate task per pair, as in the seed.
template <class T>
struct PairTask {
  RawSpan<T> in;
  RawSpan<T> out;
  std::size_t i;
};

template <class Op, class T>
void combine_pair(PairTask<T> task) {
  const T* in = task.in.data();
  task.out.data()[task.i] = Op{}(in[2 * task.i], in[2 * task.i + 1]);
}

}  // namespace reduce_detail

// The seed's reduction tree: round after round, tmp[i] = level[2i] op level[2i+1] with every
// pair a separate pool task (chunksize 1), an odd last element carried to the next level, until
// one element remains: ceil(log2 n) rounds, n - 1 tasks. The levels live in a scratch array of
// about n elements leased for the call (scratch_array.h). Same bits whatever the number of workers.
// Cost: one pool round trip per pair; on a ProcessPool about a message each way per pair.
template <class Op, Pool P, class T>
  requires AssociativeOperator<Op, T>
T reduce_tree(P& pool, RawSpan<T> in, T identity) {
  checked_workers(pool, "reduce_tree");
  const std::size_t n = in.size();
  if (n == 0) return identity;
  if (n == 1) return in[0];
  // Level sizes n/2 rounded up, then halving again: they sum to less than n.
  std::size_t scratch_size = 0;
  for (std::size_t m = n; m > 1; m = (m + 1) / 2) scratch_size += (m + 1) / 2;
  const ScratchArray<T> scratch(scratch_size);
  RawSpan<T> level = in;
  std::size_t offset = 0;
  std::vector<reduce_detail::PairTask<T>> tasks;
  while (level.size() > 1) {
    const std::size_t m = level.size();
    RawSpan<T> next = scratch.span().subspan(offset, (m + 1) / 2);
    offset += next.size();
    tasks.clear();
    for (std::size_t i = 0; i < m / 2; ++i) tasks.push_back({level, next, i});
    pool.map(&reduce_detail::combine_pair<Op, T>, tasks, 1);
    if (m % 2 == 1) next[m / 2] = level[m - 1];
    level = next;
  }
  return level[0];
}

namespace reduce_detail {

// reduce_partitioned's kernel (single_pass.h): a block's summary is its fold.
template <class Op, class T>
struct ReduceKernel {
  using Summary = T;
  RawSpan<T> in;
  T identity_value;

  struct Bound {
    const T* in;
    T fold(std::size_t begin, std::size_t end) const {
      return procpar::fold<Op>(in + begin, end - begin);
    }
    T combine(const T& a, const T& b) const { return Op{}(a, b); }
  };

  std::size_t size() const { return in.size(); }
  std::size_t bytes_per_element() const { return sizeof(T); }
  T identity() const { return identity_value; }
  Bound bind() const { return Bound{in.data()}; }
};

}  // namespace reduce_detail

// The seed's partitioned reduction: contiguous blocks folded serially, claimed as they go by
// the caller and min(p, blocks) - 1 tasks in one round of the pool (fold_blocks,
// single_pass.h); the caller folds the blocks' results in order. The seed gives each worker
// one piece; blocks claimed dynamically keep a worker that is slowed (a shared core, a busier
// memory channel) from holding the others up, and make the result's bits independent of p.
// Blocks are up to 1 MiB; a small input is cut into 4 blocks of at least 8 KiB. Cost: n
// element reads at memory bandwidth shared by the workers, one pool round trip, and a shared
// counter and a cache line per block.
template <class Op, Pool P, class T>
  requires AssociativeOperator<Op, T>
T reduce_partitioned(P& pool, RawSpan<T> in, T identity) {
  return fold_blocks(pool, reduce_detail::ReduceKernel<Op, T>{in, identity},
                     "reduce_partitioned");
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_REDUCE_H_
