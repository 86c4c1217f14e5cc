// Serialisation of task arguments and results into a flat byte buffer.
//
// What crosses a process boundary must be a value that means the same thing in another address
// space. `Serializable<T>` accepts:
//   - trivially copyable types (copied as their bytes; this includes RawSpan/SharedSpan handles
//     and function pointers, which stay valid because workers are forks of the parent),
//   - std::string, std::vector, std::pair, std::tuple, std::optional, std::map and
//     std::unordered_map whose parts are Serializable.
// Object pointers are refused: they point into the sender's memory (put bulk data in a RawArray
// and pass its span instead). Anything else fails to compile at `encode`/`decode` with a
// static_assert; the compiler's "required from" note names the offending type.
//
// Cost: a trivially copyable value is one memcpy of its bytes; a vector of trivially copyable
// elements is a length and one memcpy of the whole block; other containers cost one step per
// element. Lengths are 64-bit, native byte order (both ends are the same machine).
//
//   ByteWriter w;
//   encode(w, std::vector<int>{1, 2, 3});
//   ByteReader r(w.data(), w.size());
//   auto v = decode<std::vector<int>>(r);
#ifndef PROCPAR_PRIMITIVES_SERIALIZE_H_
#define PROCPAR_PRIMITIVES_SERIALIZE_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace procpar {

// A message that does not decode (truncated or trailing bytes): a bug or a corrupted channel.
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A growable byte buffer. Unlike std::vector<std::byte> it does not zero what it grows into,
// and clear() keeps the capacity, so one writer reused for many messages allocates rarely.
class ByteWriter {
 public:
  ByteWriter() = default;
  ByteWriter(const ByteWriter&) = delete;
  ByteWriter& operator=(const ByteWriter&) = delete;
  ByteWriter(ByteWriter&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  ~ByteWriter() { std::free(data_); }

  // Appends `n` uninitialised bytes and returns where they start.
  std::byte* extend(std::size_t n) {
    if (size_ + n > capacity_) grow(size_ + n);
    std::byte* at = data_ + size_;
    size_ += n;
    return at;
  }
  void write(const void* bytes, std::size_t n) {
    if (n != 0) std::memcpy(extend(n), bytes, n);
  }

  const std::byte* data() const { return data_; }
  std::byte* data() { return data_; }
  std::size_t size() const { return size_; }
  void clear() { size_ = 0; }

 private:
  void grow(std::size_t needed) {
    std::size_t capacity = capacity_ == 0 ? 256 : capacity_;
    while (capacity < needed) capacity *= 2;
    void* grown = std::realloc(data_, capacity);
    if (grown == nullptr) throw std::bad_alloc();
    data_ = static_cast<std::byte*>(grown);
    capacity_ = capacity;
  }

  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// Reads a message in place (no copy of the buffer); every read is bounds-checked.
class ByteReader {
 public:
  ByteReader(const std::byte* data, std::size_t size) : at_(data), end_(data + size) {}

  // Returns the next `n` bytes and moves past them.
  const std::byte* take(std::size_t n) {
    if (static_cast<std::size_t>(end_ - at_) < n) {
      throw DecodeError("procpar::decode: message truncated (wanted " + std::to_string(n) +
                        " more bytes, " + std::to_string(end_ - at_) + " left)");
    }
    const std::byte* from = at_;
    at_ += n;
    return from;
  }
  void read(void* bytes, std::size_t n) {
    if (n != 0) std::memcpy(bytes, take(n), n);
  }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - at_); }

 private:
  const std::byte* at_;
  const std::byte* end_;
};

namespace serialize_detail {

template <class T>
constexpr bool is_object_pointer =
    std::is_pointer_v<T> && !std::is_function_v<std::remove_pointer_t<T>>;

template <class T>
constexpr bool is_plain_bytes = std::is_trivially_copyable_v<T> && !is_object_pointer<T> &&
                                !std::is_member_pointer_v<T> && !std::is_array_v<T>;

template <class T>
struct Check : std::bool_constant<is_plain_bytes<T>> {};
template <class C, class Tr, class A>
struct Check<std::basic_string<C, Tr, A>> : std::bool_constant<is_plain_bytes<C>> {};
template <class T, class A>
struct Check<std::vector<T, A>> : Check<T> {};
template <class A, class B>
struct Check<std::pair<A, B>> : std::bool_constant<Check<A>::value && Check<B>::value> {};
template <class... T>
struct Check<std::tuple<T...>> : std::bool_constant<(Check<T>::value && ...)> {};
template <class T>
struct Check<std::optional<T>> : Check<T> {};
template <class K, class V, class C, class A>
struct Check<std::map<K, V, C, A>> : std::bool_constant<Check<K>::value && Check<V>::value> {};
template <class K, class V, class H, class E, class A>
struct Check<std::unordered_map<K, V, H, E, A>>
    : std::bool_constant<Check<K>::value && Check<V>::value> {};

template <class T>
struct IsVector : std::false_type {};
template <class T, class A>
struct IsVector<std::vector<T, A>> : std::true_type {};
template <class T>
struct IsString : std::false_type {};
template <class C, class Tr, class A>
struct IsString<std::basic_string<C, Tr, A>> : std::true_type {};
template <class T>
struct IsPair : std::false_type {};
template <class A, class B>
struct IsPair<std::pair<A, B>> : std::true_type {};
template <class T>
struct IsTuple : std::false_type {};
template <class... T>
struct IsTuple<std::tuple<T...>> : std::true_type {};
template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <class T>
struct IsMap : std::false_type {};
template <class K, class V, class C, class A>
struct IsMap<std::map<K, V, C, A>> : std::true_type {};
template <class K, class V, class H, class E, class A>
struct IsMap<std::unordered_map<K, V, H, E, A>> : std::true_type {};

}  // namespace serialize_detail

template <class T>
concept Serializable = serialize_detail::Check<std::remove_cv_t<T>>::value;

namespace serialize_detail {

inline void write_length(ByteWriter& out, std::size_t n) {
  const std::uint64_t length = n;
  out.write(&length, sizeof length);
}

inline std::size_t read_length(ByteReader& in, std::size_t min_element_bytes) {
  std::uint64_t length;
  in.read(&length, sizeof length);
  // A length that the remaining bytes cannot hold is corruption; refusing it early also keeps a
  // corrupted length from turning into a huge allocation.
  if (min_element_bytes != 0 && length > in.remaining() / min_element_bytes) {
    throw DecodeError("procpar::decode: length " + std::to_string(length) +
                      " exceeds the message (" + std::to_string(in.remaining()) + " bytes left)");
  }
  return static_cast<std::size_t>(length);
}

template <class T>
T read_bytes(ByteReader& in) {
  struct Raw {
    std::byte bytes[sizeof(T)];
  } raw;
  in.read(raw.bytes, sizeof(T));
  return std::bit_cast<T>(raw);
}

}  // namespace serialize_detail

template <class T>
void encode(ByteWriter& out, const T& value) {
  static_assert(Serializable<T>,
                "procpar::encode: this type is not Serializable (see the 'required from' note "
                "for which). Allowed: trivially copyable types other than object pointers, "
                "std::string, and std::vector/pair/tuple/optional/map/unordered_map of those. "
                "Put bulk data in a RawArray and pass its span.");
  using namespace serialize_detail;
  if constexpr (IsString<T>::value) {
    write_length(out, value.size());
    out.write(value.data(), value.size() * sizeof(typename T::value_type));
  } else if constexpr (IsVector<T>::value) {
    using E = typename T::value_type;
    write_length(out, value.size());
    if constexpr (is_plain_bytes<E> && !std::is_same_v<E, bool>) {
      out.write(value.data(), value.size() * sizeof(E));
    } else {
      for (const auto& element : value) encode(out, static_cast<const E&>(element));
    }
  } else if constexpr (IsPair<T>::value) {
    encode(out, value.first);
    encode(out, value.second);
  } else if constexpr (IsTuple<T>::value) {
    std::apply([&out](const auto&... parts) { (encode(out, parts), ...); }, value);
  } else if constexpr (IsOptional<T>::value) {
    const std::uint8_t present = value.has_value() ? 1 : 0;
    out.write(&present, 1);
    if (present) encode(out, *value);
  } else if constexpr (IsMap<T>::value) {
    write_length(out, value.size());
    for (const auto& [key, mapped] : value) {
      encode(out, key);
      encode(out, mapped);
    }
  } else if constexpr (Serializable<T>) {
    out.write(&value, sizeof(T));
  }
}

template <class T>
T decode(ByteReader& in) {
  static_assert(Serializable<T>,
                "procpar::decode: this type is not Serializable (see the 'required from' note "
                "for which). Allowed: trivially copyable types other than object pointers, "
                "std::string, and std::vector/pair/tuple/optional/map/unordered_map of those.");
  using namespace serialize_detail;
  if constexpr (IsString<T>::value) {
    using C = typename T::value_type;
    const std::size_t n = read_length(in, sizeof(C));
    T text(n, C{});
    in.read(text.data(), n * sizeof(C));
    return text;
  } else if constexpr (IsVector<T>::value) {
    using E = typename T::value_type;
    if constexpr (is_plain_bytes<E> && !std::is_same_v<E, bool> &&
                  std::is_default_constructible_v<E>) {
      const std::size_t n = read_length(in, sizeof(E));
      T elements(n);
      in.read(elements.data(), n * sizeof(E));
      return elements;
    } else {
      const std::size_t n = read_length(in, 1);
      T elements;
      elements.reserve(n);
      for (std::size_t i = 0; i < n; ++i) elements.push_back(decode<E>(in));
      return elements;
    }
  } else if constexpr (IsPair<T>::value) {
    auto first = decode<typename T::first_type>(in);
    auto second = decode<typename T::second_type>(in);
    return T(std::move(first), std::move(second));
  } else if constexpr (IsTuple<T>::value) {
    // Braced initialisation evaluates left to right, matching the order of encode.
    return [&in]<std::size_t... I>(std::index_sequence<I...>) {
      return T{decode<std::tuple_element_t<I, T>>(in)...};
    }(std::make_index_sequence<std::tuple_size_v<T>>{});
  } else if constexpr (IsOptional<T>::value) {
    std::uint8_t present;
    in.read(&present, 1);
    if (present > 1) throw DecodeError("procpar::decode: bad optional flag");
    if (present == 0) return T{};
    return T(decode<typename T::value_type>(in));
  } else if constexpr (IsMap<T>::value) {
    const std::size_t n = read_length(in, 1);
    T entries;
    for (std::size_t i = 0; i < n; ++i) {
      auto key = decode<typename T::key_type>(in);
      auto mapped = decode<typename T::mapped_type>(in);
      entries.emplace(std::move(key), std::move(mapped));
    }
    return entries;
  } else if constexpr (Serializable<T>) {
    return read_bytes<T>(in);
  } else {
    // Unreachable after the static_assert; keeps the function well-formed for the diagnostic.
    throw DecodeError("procpar::decode: type is not Serializable");
  }
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_SERIALIZE_H_
