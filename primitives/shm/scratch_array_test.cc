#include "primitives/scratch_array.h"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace procpar {
namespace {

std::size_t open_descriptors() {
  std::size_t count = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

// Runs body() in a forked child and returns its exit status (0: body returned true).
template <class Body>
int in_child(Body body) {
  const pid_t pid = fork();
  if (pid == 0) _exit(body() ? 0 : 1);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(ScratchArrayTest, IsZeroedAndWritableThroughItsSpan) {
  release_scratch();
  ScratchArray<std::uint64_t> scratch(1000);
  ASSERT_EQ(scratch.size(), 1000u);
  const RawSpan<std::uint64_t> view = scratch.span();
  ASSERT_EQ(view.size(), 1000u);
  for (std::size_t i = 0; i < view.size(); ++i) {
    ASSERT_EQ(view[i], 0u) << i;
    view[i] = i + 1;
  }
  EXPECT_EQ(scratch[999], 1000u);
}

TEST(ScratchArrayTest, ReusesAGivenBackArrayZeroedAgain) {
  release_scratch();
  std::uint64_t* first = nullptr;
  {
    ScratchArray<std::uint64_t> scratch(512);
    first = scratch.data();
    for (std::size_t i = 0; i < 512; ++i) scratch[i] = 7;
  }
  ScratchArray<std::uint64_t> again(300);  // smaller: fits the same array
  EXPECT_EQ(again.data(), first);
  for (std::size_t i = 0; i < again.size(); ++i) ASSERT_EQ(again[i], 0u) << i;
}

TEST(ScratchArrayTest, LeasesHeldTogetherAreDistinct) {
  release_scratch();
  ScratchArray<double> outer(100);
  ScratchArray<double> inner(100);
  EXPECT_NE(outer.data(), inner.data());
  std::thread other([&] {
    ScratchArray<double> third(100);
    EXPECT_NE(third.data(), outer.data());
    EXPECT_NE(third.data(), inner.data());
  });
  other.join();
}

TEST(ScratchArrayTest, TooSmallACachedArrayIsNotLeased) {
  release_scratch();
  std::byte* small = nullptr;
  {
    ScratchArray<std::byte> scratch(100);
    small = scratch.data();
  }
  ScratchArray<std::byte> large(std::size_t{1} << 20);
  EXPECT_NE(large.data(), small);
  large[large.size() - 1] = std::byte{1};
}

TEST(ScratchArrayTest, AForkedChildGetsItsOwnArrayNotItsParents) {
  release_scratch();
  std::uint64_t* parents = nullptr;
  {
    ScratchArray<std::uint64_t> scratch(64);
    parents = scratch.data();
    scratch[0] = 42;
  }
  // The cache now holds the parent's array (its first element zeroed at the next lease only).
  const int status = in_child([&] {
    ScratchArray<std::uint64_t> child(64);
    if (child.data() == parents) return false;  // would share the parent's memory
    if (child.span().data() != child.data()) return false;
    child[0] = 99;
    return child[0] == 99;
  });
  EXPECT_EQ(status, 0);
  ScratchArray<std::uint64_t> again(64);
  EXPECT_EQ(again.data(), parents);  // still in the parent's cache, not disturbed by the child
  EXPECT_EQ(again[0], 0u);
}

TEST(ScratchArrayTest, ReleaseFreesTheCachedArrays) {
  release_scratch();
  const std::size_t before = open_descriptors();
  {
    ScratchArray<double> a(10);
    ScratchArray<double> b(5000);
    EXPECT_EQ(open_descriptors(), before + 2);
  }
  EXPECT_EQ(open_descriptors(), before + 2);  // kept for the next lease
  release_scratch();
  EXPECT_EQ(open_descriptors(), before);
}

TEST(ScratchArrayTest, KeepsAtMostItsLimitOfArrays) {
  release_scratch();
  const std::size_t before = open_descriptors();
  {
    std::vector<std::unique_ptr<ScratchArray<char>>> held;
    for (std::size_t i = 0; i < shared_array_detail::kKeptArrays + 3; ++i) {
      held.push_back(std::make_unique<ScratchArray<char>>(100));
    }
  }
  EXPECT_EQ(open_descriptors(), before + shared_array_detail::kKeptArrays);
  {
    // Larger than the cache may keep: freed when given back.
    ScratchArray<char> huge(shared_array_detail::kKeptBytes + 1);
  }
  EXPECT_EQ(open_descriptors(), before + shared_array_detail::kKeptArrays);
  release_scratch();
  EXPECT_EQ(open_descriptors(), before);
}

}  // namespace
}  // namespace procpar
