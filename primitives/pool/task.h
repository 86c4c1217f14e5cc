// What a task is, checked at compile time, and how a map is cut into chunks: shared by the
// three pools so that they accept exactly the same tasks.
//
// A task function is a plain function pointer `R (*)(P...)`; a captureless lambda is converted
// to one. A closure with captures is refused: its state could not cross a process boundary.
// Parameters (decayed) and the result (unless void) must be Serializable; a task is called with
// lvalues, so parameters may be values or const references.
#ifndef PROCPAR_PRIMITIVES_TASK_H_
#define PROCPAR_PRIMITIVES_TASK_H_

#include <cstddef>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "primitives/pool.h"
#include "primitives/serialize.h"

namespace procpar {

// The default number of workers of every pool: the machine's hardware threads (at least 1).
inline std::size_t default_workers() {
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

namespace task_detail {

template <class F>
struct FunctionTraits {
  static constexpr bool is_function_pointer = false;
};
template <class R, class... P>
struct FunctionTraits<R (*)(P...)> {
  static constexpr bool is_function_pointer = true;
  using Result = R;
  using Args = std::tuple<std::decay_t<P>...>;
};
template <class R, class... P>
struct FunctionTraits<R (*)(P...) noexcept> : FunctionTraits<R (*)(P...)> {};

template <class F>
constexpr bool converts_to_function_pointer() {
  if constexpr (FunctionTraits<std::decay_t<F>>::is_function_pointer) {
    return true;
  } else if constexpr (requires(F f) { +f; }) {
    return FunctionTraits<decltype(+std::declval<F>())>::is_function_pointer;
  } else {
    return false;
  }
}

// The task function as a plain function pointer.
template <class F>
auto as_function_pointer(F f) {
  static_assert(converts_to_function_pointer<F>(),
                "procpar: a task must be a plain function or a captureless lambda (a function "
                "pointer). A closure's captured state cannot cross a process boundary: pass "
                "what it captures as arguments instead.");
  if constexpr (FunctionTraits<std::decay_t<F>>::is_function_pointer) {
    return f;
  } else {
    return +f;
  }
}

template <class Fp>
using ResultOf = typename FunctionTraits<Fp>::Result;
template <class Fp>
using ArgsOf = typename FunctionTraits<Fp>::Args;

template <class Tuple>
constexpr bool all_serializable = false;
template <class... T>
constexpr bool all_serializable<std::tuple<T...>> = (Serializable<T> && ...);

// Compile-time checks common to every submission of `Fp`.
template <class Fp>
constexpr void check_task() {
  using R = std::decay_t<ResultOf<Fp>>;
  static_assert(std::is_void_v<R> || Serializable<R>,
                "procpar: the task's result type is not Serializable (see serialize.h); return "
                "plain values, strings or containers of them, and put bulk data in a RawArray");
  static_assert(all_serializable<ArgsOf<Fp>>,
                "procpar: a parameter type of the task is not Serializable (see serialize.h); "
                "object pointers and references to non-serialisable objects cannot cross a "
                "process boundary: pass a RawSpan of a RawArray for bulk data");
}

// A map's function takes one item (as const T&) and returns a value.
template <class Fp, class T>
constexpr void check_map_task() {
  check_task<Fp>();
  static_assert(Serializable<T>, "procpar: the map's item type is not Serializable");
  static_assert(std::is_invocable_v<Fp, const T&>,
                "procpar: the map's function cannot be called with one item of the vector");
}

template <class Fp, class Tuple>
constexpr void check_starmap_task() {
  check_task<Fp>();
  static_assert(Serializable<Tuple>, "procpar: the starmap's argument tuples are not Serializable");
}

// Calls `f` with the parts of `args` as lvalues.
template <class Fp, class Tuple>
decltype(auto) call_with(Fp f, Tuple& args) {
  return std::apply([f](auto&... parts) -> decltype(auto) { return f(parts...); }, args);
}

// The arguments of apply/apply_async converted to the function's (decayed) parameter types.
template <class Fp, class... Args>
ArgsOf<Fp> pack_arguments(Args&&... args) {
  static_assert(std::tuple_size_v<ArgsOf<Fp>> == sizeof...(Args),
                "procpar: apply/apply_async got a different number of arguments than the "
                "task function takes");
  return ArgsOf<Fp>(std::forward<Args>(args)...);
}

// The result element of a map: what f returns, decayed.
template <class Fp, class Item>
using MapResultOf = std::decay_t<std::invoke_result_t<Fp, const Item&>>;
template <class Fp, class Tuple>
using StarmapResultOf =
    std::decay_t<decltype(call_with(std::declval<Fp>(), std::declval<Tuple&>()))>;

// How n items are cut into chunks of `chunksize` (the last may be shorter).
struct ChunkPlan {
  std::size_t n;
  std::size_t chunksize;
  std::size_t chunks;

  std::size_t first(std::size_t chunk) const { return chunk * chunksize; }
  std::size_t count(std::size_t chunk) const {
    const std::size_t begin = first(chunk);
    return n - begin < chunksize ? n - begin : chunksize;
  }
};

// chunksize 0 means the default: Python's ceil(n / (4 * workers)) (default_chunksize in pool.h).
inline ChunkPlan plan_chunks(std::size_t n, std::size_t chunksize, std::size_t workers) {
  const std::size_t size = chunksize == 0 ? default_chunksize(n, workers) : chunksize;
  return ChunkPlan{n, size, (n + size - 1) / size};
}

// A map's results are written by several workers at once into distinct elements; vector<bool>
// packs elements into shared words, so bool results are gathered as bytes first.
template <class R>
using ResultCell = std::conditional_t<std::is_same_v<R, bool>, unsigned char, R>;

template <class R>
std::vector<R> to_result_vector(std::vector<ResultCell<R>>&& cells) {
  if constexpr (std::is_same_v<ResultCell<R>, R>) {
    return std::move(cells);
  } else {
    return std::vector<R>(cells.begin(), cells.end());
  }
}

}  // namespace task_detail
}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_TASK_H_
