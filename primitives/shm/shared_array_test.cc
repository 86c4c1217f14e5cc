#include "primitives/shared_array.h"

#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

namespace procpar {
namespace {

static_assert(std::is_trivially_copyable_v<RawSpan<double>>);
static_assert(std::is_trivially_copyable_v<SharedSpan<std::int64_t>>);
static_assert(!std::is_copy_constructible_v<RawArray<int>>);
static_assert(!std::is_copy_constructible_v<SharedArray<int>>);
static_assert(std::is_nothrow_move_constructible_v<RawArray<int>>);
static_assert(std::is_nothrow_move_assignable_v<SharedArray<int>>);

// ---------------------------------------------------------------------------------------------
// Helpers for tests that fork. Every forked child dies with the test process and exits on its
// own alarm; the parent's alarm fails the test instead of letting it hang.

constexpr unsigned kTestSeconds = 60;
constexpr unsigned kChildSeconds = 30;

void on_alarm(int) {
  static const char message[] = "watchdog: time limit exceeded, failing instead of hanging\n";
  [[maybe_unused]] ssize_t ignored = write(STDERR_FILENO, message, sizeof(message) - 1);
  _exit(124);
}

class WithWatchdog : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGALRM, on_alarm);
    alarm(kTestSeconds);
  }
  void TearDown() override { alarm(0); }
};

// Runs body() in a forked child; the child's exit status is body's result (121 if it threw).
template <class Body>
pid_t spawn(Body body) {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(120);
    alarm(kChildSeconds);
    int code = 121;
    try {
      code = body();
    } catch (const std::exception& error) {
      std::fprintf(stderr, "child %d threw: %s\n", getpid(), error.what());
    }
    _exit(code);
  }
  return pid;
}

// "exit N" or "signal N", to compare and to print.
std::string wait_status(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return "waitpid failed: " + std::string(strerror(errno));
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

class Pipe {
 public:
  Pipe() {
    if (pipe(fds_) != 0) throw std::runtime_error("pipe failed");
  }
  ~Pipe() {
    close(fds_[0]);
    close(fds_[1]);
  }
  template <class T>
  void send(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (write(fds_[1], &value, sizeof(T)) != static_cast<ssize_t>(sizeof(T))) {
      throw std::runtime_error("pipe write failed");
    }
  }
  template <class T>
  T receive() {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    auto* bytes = reinterpret_cast<char*>(&value);
    std::size_t got = 0;
    while (got < sizeof(T)) {
      const ssize_t n = read(fds_[0], bytes + got, sizeof(T) - got);
      if (n <= 0) throw std::runtime_error("pipe closed before a whole value arrived");
      got += static_cast<std::size_t>(n);
    }
    return value;
  }

 private:
  int fds_[2];
};

std::set<std::string> list_directory(const char* path) {
  std::set<std::string> names;
  if (DIR* dir = opendir(path)) {
    while (dirent* entry = readdir(dir)) names.insert(entry->d_name);
    closedir(dir);
  }
  return names;
}

std::size_t open_descriptors() { return list_directory("/proc/self/fd").size(); }

// Mappings of array segments in this process (each memfd is named "procpar_array").
int array_mappings() {
  std::ifstream maps("/proc/self/maps");
  int count = 0;
  for (std::string line; std::getline(maps, line);) {
    if (line.find("memfd:procpar_array") != std::string::npos) ++count;
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// One process.

TEST(RawArray, StartsZeroedAndKeepsWrites) {
  RawArray<double> a(1000);
  ASSERT_EQ(a.size(), 1000u);
  for (double x : a) ASSERT_EQ(x, 0.0);
  std::iota(a.begin(), a.end(), 1.0);
  EXPECT_EQ(a[0], 1.0);
  EXPECT_EQ(a[999], 1000.0);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % 64, 0u);
}

TEST(RawArray, SpanIsTheOwnersPointer) {
  RawArray<int> a(100);
  std::iota(a.begin(), a.end(), 0);
  const RawSpan<int> v = a.span();
  EXPECT_EQ(v.data(), a.data());
  EXPECT_EQ(v.size(), 100u);
  const RawSpan<int> part = v.subspan(10, 20);
  EXPECT_EQ(part.data(), a.data() + 10);
  EXPECT_EQ(part.size(), 20u);
  EXPECT_EQ(std::accumulate(part.begin(), part.end(), 0), (10 + 29) * 20 / 2);
  part[0] = -1;
  EXPECT_EQ(a[10], -1);
  EXPECT_EQ(part.subspan(5, 0).size(), 0u);
  EXPECT_EQ(v.subspan(100, 0).size(), 0u);
}

TEST(RawArray, SubspanPastTheEndIsAnError) {
  RawArray<int> a(10);
  EXPECT_THROW(a.span().subspan(11, 0), std::out_of_range);
  EXPECT_THROW(a.span().subspan(5, 6), std::out_of_range);
  EXPECT_THROW(a.span().subspan(1, SIZE_MAX), std::out_of_range);
  try {
    a.span().subspan(8, 3);
    FAIL() << "no error";
  } catch (const std::out_of_range& error) {
    EXPECT_STREQ(error.what(), "RawSpan::subspan: [8, 8 + 3) is not within size 10");
  }
}

TEST(RawArray, MovesItsMemory) {
  RawArray<int> a(10);
  a[3] = 42;
  int* const data = a.data();
  RawArray<int> b(std::move(a));
  EXPECT_EQ(b.data(), data);
  EXPECT_EQ(b[3], 42);
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  RawArray<int> c(5);
  c = std::move(b);
  EXPECT_EQ(c.size(), 10u);
  EXPECT_EQ(c[3], 42);
}

TEST(RawArray, EmptyArrayAndEmptyView) {
  RawArray<int> a(0);
  EXPECT_TRUE(a.empty());
  EXPECT_TRUE(a.span().empty());
  const RawSpan<int> none;
  EXPECT_EQ(none.data(), nullptr);
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.begin(), none.end());
}

TEST(RawArray, ImpossibleSizeIsAClearError) {
  try {
    RawArray<double> a(SIZE_MAX);
    FAIL() << "no error";
  } catch (const std::length_error& error) {
    EXPECT_NE(std::string(error.what()).find("RawArray: 18446744073709551615 elements of 8 bytes "
                                             "exceed this machine's memory"),
              std::string::npos)
        << error.what();
  }
  EXPECT_THROW(SharedArray<std::int64_t>(std::size_t{1} << 60), std::length_error);
}

TEST(SharedArray, LoadStoreAddUnderTheLock) {
  SharedArray<std::int64_t> s(4);
  const SharedSpan<std::int64_t> w = s.span();
  EXPECT_EQ(w.size(), 4u);
  EXPECT_EQ(w.load(2), 0);
  w.store(2, 40);
  EXPECT_EQ(w.add(2, 2), 42);
  EXPECT_EQ(w.load(2), 42);
  EXPECT_EQ(w.subspan(2, 2).load(0), 42);
  {
    auto guard = w.lock();
    guard[0] = 1;
    guard[1] = guard[0] + 1;
    EXPECT_EQ(guard.size(), 4u);
    EXPECT_EQ(std::accumulate(guard.begin(), guard.end(), std::int64_t{0}), 1 + 2 + 42);
  }
  EXPECT_EQ(s.lock_recoveries(), 0u);
}

TEST(SharedArray, BadIndexAndNestedLockAreErrors) {
  SharedArray<int> s(3);
  const SharedSpan<int> w = s.span();
  EXPECT_THROW(w.load(3), std::out_of_range);
  EXPECT_THROW(w.store(7, 1), std::out_of_range);
  EXPECT_THROW(w.subspan(1, 1).add(1, 1), std::out_of_range);
  EXPECT_THROW(w.subspan(2, 2), std::out_of_range);
  {
    auto guard = w.lock();
    // The same thread locking again would deadlock a plain mutex; here it is an error.
    EXPECT_THROW(w.load(0), std::logic_error);
    guard[0] = 5;
  }
  EXPECT_EQ(w.load(0), 5);  // the guard still released the lock
  EXPECT_THROW(SharedSpan<int>().lock(), std::logic_error);
  EXPECT_THROW(SharedSpan<int>().load(0), std::out_of_range);
}

TEST(SharedArray, LockedAddsFromThreadsAreExact) {
  SharedArray<std::int64_t> s(1);
  const SharedSpan<std::int64_t> w = s.span();
  constexpr int kThreads = 4;
  constexpr int kAdds = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([w] {
      for (int i = 0; i < kAdds; ++i) w.add(0, 1);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(w.load(0), std::int64_t{kThreads} * kAdds);
}

// ---------------------------------------------------------------------------------------------
// Several processes.

using ArraysAcrossProcesses = WithWatchdog;

TEST_F(ArraysAcrossProcesses, ChildSeesArraysCreatedBeforeTheFork) {
  RawArray<std::int64_t> a(5000);
  std::iota(a.begin(), a.end(), 0);
  SharedArray<std::int64_t> s(1);
  const RawSpan<std::int64_t> v = a.span();
  const SharedSpan<std::int64_t> w = s.span();
  const pid_t child = spawn([v, w] {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] != static_cast<std::int64_t>(i)) return 1;
    }
    for (std::int64_t& x : v) x = -x;
    w.add(0, 7);
    return 0;
  });
  ASSERT_EQ(wait_status(child), "exit 0");
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], -static_cast<std::int64_t>(i));
  EXPECT_EQ(w.load(0), 7);
}

TEST_F(ArraysAcrossProcesses, ChildSeesArraysCreatedAfterTheFork) {
  Pipe to_child;
  Pipe to_parent;
  const pid_t child = spawn([&to_child, &to_parent] {
    const auto v = to_child.receive<RawSpan<std::int64_t>>();
    const auto part = to_child.receive<RawSpan<std::int64_t>>();
    const auto w = to_child.receive<SharedSpan<std::int64_t>>();
    if (v.size() != 5000 || part.size() != 100) return 1;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] != static_cast<std::int64_t>(i)) return 2;
    }
    if (part.data() != v.data() + 1000) return 3;  // one mapping per array, however viewed
    for (std::int64_t& x : part) x = -1;
    w.add(1, 5);
    to_parent.send(char{'d'});
    return 0;
  });
  RawArray<std::int64_t> a(5000);
  std::iota(a.begin(), a.end(), 0);
  SharedArray<std::int64_t> s(2);
  to_child.send(a.span());
  to_child.send(a.span().subspan(1000, 100));
  to_child.send(s.span());
  EXPECT_EQ(to_parent.receive<char>(), 'd');
  ASSERT_EQ(wait_status(child), "exit 0");
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::int64_t expected = (i >= 1000 && i < 1100) ? -1 : static_cast<std::int64_t>(i);
    ASSERT_EQ(a[i], expected) << "at " << i;
  }
  EXPECT_EQ(s.span().load(1), 5);
}

TEST_F(ArraysAcrossProcesses, LockedAddsFromSeveralProcessesAreExact) {
  constexpr int kChildren = 4;
  constexpr int kAdds = 20000;
  SharedArray<std::int64_t> counter(1);
  SharedArray<std::int64_t> pair(2);  // invariant: pair[1] == 2 * pair[0], kept under one lock
  RawArray<std::int64_t> raw(1);
  const SharedSpan<std::int64_t> w = counter.span();
  const SharedSpan<std::int64_t> p = pair.span();
  const RawSpan<std::int64_t> r = raw.span();
  std::vector<pid_t> children;
  for (int c = 0; c < kChildren; ++c) {
    children.push_back(spawn([w, p, r] {
      volatile std::int64_t* unlocked = r.data();
      for (int i = 0; i < kAdds; ++i) {
        w.add(0, 1);
        *unlocked = *unlocked + 1;  // read-modify-write without a lock: may lose updates
        auto guard = p.lock();
        if (guard[1] != 2 * guard[0]) return 1;
        guard[0] += 1;
        guard[1] += 2;
      }
      return 0;
    }));
  }
  for (pid_t child : children) EXPECT_EQ(wait_status(child), "exit 0");
  EXPECT_EQ(w.load(0), std::int64_t{kChildren} * kAdds);
  EXPECT_EQ(p.load(0), std::int64_t{kChildren} * kAdds);
  EXPECT_EQ(p.load(1), 2 * std::int64_t{kChildren} * kAdds);
  EXPECT_LE(raw[0], std::int64_t{kChildren} * kAdds);
  RecordProperty("unlocked_total", std::to_string(raw[0]));
  RecordProperty("locked_total", std::to_string(w.load(0)));
}

// A child is SIGKILLed while it holds the lock, half-way through a two-element update.
void expect_lock_survives_killed_holder(const SharedArray<std::int64_t>& s, Pipe& to_child,
                                        Pipe& to_parent, pid_t holder) {
  to_child.send(s.span());
  ASSERT_EQ(to_parent.receive<char>(), 'L');
  kill(holder, SIGKILL);
  ASSERT_EQ(wait_status(holder), "signal 9");

  const SharedSpan<std::int64_t> w = s.span();
  EXPECT_EQ(w.load(0), 1);  // the half-written state is what the next owner finds
  EXPECT_EQ(w.load(1), 0);
  EXPECT_EQ(s.lock_recoveries(), 1u);
  w.store(1, 1);
  const pid_t next = spawn([w] { return w.add(1, 1) == 2 ? 0 : 1; });
  EXPECT_EQ(wait_status(next), "exit 0");
  EXPECT_EQ(w.load(1), 2);
  EXPECT_EQ(s.lock_recoveries(), 1u);
}

int hold_lock_until_killed(Pipe& to_child, Pipe& to_parent) {
  const auto w = to_child.receive<SharedSpan<std::int64_t>>();
  auto guard = w.lock();
  guard[0] = 1;
  to_parent.send(char{'L'});
  pause();
  guard[1] = 1;
  return 0;
}

TEST_F(ArraysAcrossProcesses, KilledLockHolderDoesNotDeadlockArrayMadeBeforeFork) {
  SharedArray<std::int64_t> s(2);
  Pipe to_child;
  Pipe to_parent;
  const pid_t holder =
      spawn([&to_child, &to_parent] { return hold_lock_until_killed(to_child, to_parent); });
  expect_lock_survives_killed_holder(s, to_child, to_parent, holder);
}

TEST_F(ArraysAcrossProcesses, KilledLockHolderDoesNotDeadlockArrayMadeAfterFork) {
  Pipe to_child;
  Pipe to_parent;
  const pid_t holder =
      spawn([&to_child, &to_parent] { return hold_lock_until_killed(to_child, to_parent); });
  SharedArray<std::int64_t> s(2);
  expect_lock_survives_killed_holder(s, to_child, to_parent, holder);
}

// A view kept after its array was freed must never read another array that reused the
// descriptor number: the inode in the view tells them apart.
TEST_F(ArraysAcrossProcesses, StaleViewIsAnErrorNotAnotherArray) {
  Pipe to_child;
  Pipe to_parent;
  const pid_t child = spawn([&to_child, &to_parent] {
    const auto old_view = to_child.receive<RawSpan<int>>();
    if (old_view[0] != 11) return 1;  // resolved and cached while alive
    to_parent.send(char{'r'});
    const auto new_view = to_child.receive<RawSpan<int>>();
    try {
      (void)old_view.data();
      return 2;  // a freed array must not resolve
    } catch (const std::runtime_error& error) {
      std::fprintf(stderr, "expected error: %s\n", error.what());
    }
    return new_view[0] == 22 ? 0 : 3;
  });
  const std::set<std::string> before = list_directory("/proc/self/fd");
  auto a = std::make_unique<RawArray<int>>(10);
  (*a)[0] = 11;
  const std::set<std::string> with_a = list_directory("/proc/self/fd");
  const RawSpan<int> old_view = a->span();
  to_child.send(old_view);
  ASSERT_EQ(to_parent.receive<char>(), 'r');
  a.reset();
  RawArray<int> b(10);
  b[0] = 22;
  // The kernel hands out the lowest free descriptor: b took the number a had.
  EXPECT_EQ(list_directory("/proc/self/fd"), with_a);
  EXPECT_NE(with_a, before);
  to_child.send(b.span());
  EXPECT_EQ(wait_status(child), "exit 0");
}

// A long-lived process drops its mappings of arrays the owner freed: both the mapping it made
// through /proc and the mapping and descriptor it inherited through fork.
TEST_F(ArraysAcrossProcesses, OtherProcessesDropMappingsOfFreedArrays) {
  auto inherited = std::make_unique<RawArray<int>>(4096);
  Pipe to_child;
  Pipe to_parent;
  const pid_t child = spawn([&to_child, &to_parent, inherited_view = inherited->span()] {
    const int start_mappings = array_mappings();
    const std::size_t start_descriptors = open_descriptors();
    const auto later_view = to_child.receive<RawSpan<int>>();
    later_view[0] = 1;
    inherited_view[0] = 2;  // uses the inherited mapping: no new one
    if (array_mappings() != start_mappings + 1) return 1;
    to_parent.send(char{'m'});
    if (to_child.receive<char>() != 'f') return 2;
    release_freed_arrays();
    if (array_mappings() != start_mappings - 1) return 3;
    if (open_descriptors() != start_descriptors - 1) return 4;
    return 0;
  });
  auto later = std::make_unique<RawArray<int>>(4096);
  to_child.send(later->span());
  ASSERT_EQ(to_parent.receive<char>(), 'm');
  EXPECT_EQ((*later)[0], 1);
  EXPECT_EQ((*inherited)[0], 2);
  later.reset();
  inherited.reset();
  to_child.send(char{'f'});
  EXPECT_EQ(wait_status(child), "exit 0");
}

TEST_F(ArraysAcrossProcesses, NothingLeftInDevShmOrDescriptorTable) {
  const std::set<std::string> shm_before = list_directory("/dev/shm");
  const std::size_t descriptors_before = open_descriptors();
  const int mappings_before = array_mappings();
  {
    std::vector<RawArray<double>> raw;
    std::vector<SharedArray<int>> locked;
    for (int i = 0; i < 8; ++i) {
      raw.emplace_back(1000 + i);
      locked.emplace_back(10 + i);
    }
    EXPECT_EQ(open_descriptors(), descriptors_before + 16);
    std::vector<RawSpan<double>> views;
    for (const auto& array : raw) views.push_back(array.span());
    const pid_t child = spawn([views] {
      for (const auto& view : views) view[0] = 1.0;
      return 0;
    });
    EXPECT_EQ(wait_status(child), "exit 0");
    EXPECT_EQ(list_directory("/dev/shm"), shm_before);
  }
  EXPECT_EQ(open_descriptors(), descriptors_before);
  EXPECT_EQ(array_mappings(), mappings_before);
  EXPECT_EQ(list_directory("/dev/shm"), shm_before);
}

}  // namespace
}  // namespace procpar
