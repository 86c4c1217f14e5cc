#include "primitives/serialize.h"

#include <gtest/gtest.h>

#include <array>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace procpar {
namespace {

struct Point {
  double x;
  int y;
  bool operator==(const Point&) const = default;
};

struct NoDefault {
  explicit NoDefault(int v) : value(v) {}
  int value;
  bool operator==(const NoDefault&) const = default;
};

int twice(int x) { return 2 * x; }

// What the concept accepts and refuses is part of the contract: these fail the build if it moves.
static_assert(Serializable<int>);
static_assert(Serializable<Point>);
static_assert(Serializable<std::array<double, 4>>);
static_assert(Serializable<std::string>);
static_assert(Serializable<std::vector<std::pair<int, std::string>>>);
static_assert(Serializable<std::tuple<int, std::optional<std::vector<double>>>>);
static_assert(Serializable<std::map<std::string, std::vector<int>>>);
static_assert(Serializable<std::unordered_map<int, std::map<int, std::string>>>);
static_assert(Serializable<int (*)(int)>);  // function pointers stay valid in forked workers
static_assert(!Serializable<int*>);         // object pointers point into the sender's memory
static_assert(!Serializable<const char*>);
static_assert(!Serializable<std::list<int>>);
static_assert(!Serializable<std::unique_ptr<int>>);
static_assert(!Serializable<std::vector<std::list<int>>>);
static_assert(!Serializable<std::map<int, int*>>);
static_assert(!Serializable<std::tuple<int, std::shared_ptr<int>>>);

template <class T>
T round_trip(const T& value) {
  ByteWriter out;
  encode(out, value);
  ByteReader in(out.data(), out.size());
  T back = decode<T>(in);
  EXPECT_EQ(in.remaining(), 0u) << "decode left bytes unread";
  return back;
}

TEST(Serialize, TriviallyCopyableValuesRoundTrip) {
  EXPECT_EQ(round_trip(42), 42);
  EXPECT_EQ(round_trip(-1.5), -1.5);
  EXPECT_EQ(round_trip(Point{2.5, -7}), (Point{2.5, -7}));
  EXPECT_EQ(round_trip(NoDefault(9)), NoDefault(9));
  EXPECT_EQ(round_trip(&twice)(21), 42);
}

TEST(Serialize, TriviallyCopyableValueIsItsBytes) {
  ByteWriter out;
  encode(out, Point{1.0, 2});
  EXPECT_EQ(out.size(), sizeof(Point));
}

TEST(Serialize, StringsRoundTripIncludingEmbeddedZeros) {
  EXPECT_EQ(round_trip(std::string()), "");
  const std::string text("a\0b\xff", 4);
  EXPECT_EQ(round_trip(text), text);
  EXPECT_EQ(round_trip(std::string(100000, 'q')), std::string(100000, 'q'));
}

TEST(Serialize, VectorOfTriviallyCopyableIsLengthPlusOneBlock) {
  std::vector<double> values(1000);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.5 * static_cast<double>(i);
  ByteWriter out;
  encode(out, values);
  EXPECT_EQ(out.size(), sizeof(std::uint64_t) + values.size() * sizeof(double));
  ByteReader in(out.data(), out.size());
  EXPECT_EQ(decode<std::vector<double>>(in), values);
}

TEST(Serialize, NestedContainersRoundTrip) {
  EXPECT_EQ(round_trip(std::vector<bool>{true, false, true}), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(round_trip(std::vector<NoDefault>{NoDefault(1), NoDefault(2)}),
            (std::vector<NoDefault>{NoDefault(1), NoDefault(2)}));
  const std::vector<std::pair<int, std::string>> pairs{{1, "one"}, {2, ""}, {3, "three"}};
  EXPECT_EQ(round_trip(pairs), pairs);
  const std::tuple<int, std::string, std::optional<double>, std::optional<std::string>> tuple{
      7, "seven", std::nullopt, "x"};
  EXPECT_EQ(round_trip(tuple), tuple);
  const std::map<std::string, std::vector<int>> words{{"a", {1, 2}}, {"b", {}}, {"c", {3}}};
  EXPECT_EQ(round_trip(words), words);
  const std::unordered_map<int, std::vector<std::string>> groups{{1, {"x", "y"}}, {-4, {}}};
  EXPECT_EQ(round_trip(groups), groups);
  EXPECT_EQ(round_trip(std::vector<std::vector<int>>{{}, {1}, {2, 3}}),
            (std::vector<std::vector<int>>{{}, {1}, {2, 3}}));
}

TEST(Serialize, SeveralValuesShareOneBufferInOrder) {
  ByteWriter out;
  encode(out, 5);
  encode(out, std::string("mid"));
  encode(out, std::vector<int>{9, 8});
  ByteReader in(out.data(), out.size());
  EXPECT_EQ(decode<int>(in), 5);
  EXPECT_EQ(decode<std::string>(in), "mid");
  EXPECT_EQ(decode<std::vector<int>>(in), (std::vector<int>{9, 8}));
  EXPECT_EQ(in.remaining(), 0u);
}

TEST(Serialize, TruncatedMessageIsAClearError) {
  ByteWriter out;
  encode(out, std::vector<int>{1, 2, 3, 4});
  ByteReader in(out.data(), out.size() - 1);
  try {
    decode<std::vector<int>>(in);
    FAIL() << "a truncated message decoded";
  } catch (const DecodeError& error) {
    EXPECT_NE(std::string(error.what()).find("exceeds the message"), std::string::npos)
        << error.what();
  }
  ByteReader short_int(out.data(), 3);
  EXPECT_THROW(decode<int>(short_int), DecodeError);
}

TEST(Serialize, CorruptLengthDoesNotAllocateHugely) {
  ByteWriter out;
  encode(out, std::uint64_t{1} << 60);  // read back as the length of a string
  ByteReader in(out.data(), out.size());
  EXPECT_THROW(decode<std::string>(in), DecodeError);
}

TEST(Serialize, WriterReusesItsBufferAfterClear) {
  ByteWriter out;
  encode(out, std::string(5000, 'z'));
  const std::byte* first = out.data();
  out.clear();
  EXPECT_EQ(out.size(), 0u);
  encode(out, std::string(4000, 'y'));
  EXPECT_EQ(out.data(), first);
}

}  // namespace
}  // namespace procpar
