#include "primitives/process_pool.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "primitives/pool_contract.h"
#include "primitives/shared_array.h"

namespace procpar {
namespace contract {
INSTANTIATE_TYPED_TEST_SUITE_P(Process, PoolContract, ProcessPool);
}  // namespace contract

namespace {

using namespace std::chrono_literals;
using contract::Watchdog;

// ---- tasks ---------------------------------------------------------------------------------

int identity(int x) { return x; }

// Item `kDeadly` kills its worker in the way named by `how`; every other item returns itself.
constexpr int kDeadly = 7;
enum class Death { kSigkill, kSegfault, kAbort, kExit };
int die_on_deadly(int x, Death how) {
  if (x != kDeadly) return x;
  switch (how) {
    case Death::kSigkill:
      kill(getpid(), SIGKILL);
      break;
    case Death::kSegfault: {
      // A real invalid write: to a read-only page (a null store would be caught earlier by
      // UBSan); and the default action, which a sanitizer's handler would turn into an exit.
      signal(SIGSEGV, SIG_DFL);
      void* page = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      *static_cast<volatile int*>(page) = 1;
      break;
    }
    case Death::kAbort:
      signal(SIGABRT, SIG_DFL);
      std::abort();
    case Death::kExit:
      _exit(3);
  }
  return -1;
}
int die_sigkill(int x) { return die_on_deadly(x, Death::kSigkill); }

int sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

int global_counter = 0;
int bump_global(int) { return ++global_counter; }

std::vector<char> bytes_of_size(std::size_t n) { return std::vector<char>(n, 'x'); }
std::size_t size_of(const std::string& s) { return s.size(); }

int throw_message_of_size(int bytes) { throw std::runtime_error(std::string(bytes, 'e')); }

// A type whose demangled name doubles with each level: Nest<19> is about 20 MiB long.
template <class A, class B>
struct Pair {};
template <int N>
struct Nest {
  using type = Pair<typename Nest<N - 1>::type, typename Nest<N - 1>::type>;
};
template <>
struct Nest<0> {
  using type = int;
};
int throw_huge_type(int) { throw Nest<19>::type{}; }

// Closes every descriptor above stderr, as some daemonising code does, then gives the others
// time to take tasks too. Returns the worker's pid.
int close_descriptors(int) {
  for (int fd = 3; fd < 4096; ++fd) ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return static_cast<int>(getpid());
}

int lock_and_die(SharedSpan<int> counter) {
  auto guard = counter.lock();
  guard[0] += 1;
  kill(getpid(), SIGKILL);
  return 0;
}
int locked_add(SharedSpan<int> counter) { return counter.add(0, 10); }

// ---- helpers ---------------------------------------------------------------------------------

std::size_t open_descriptors() {
  std::size_t count = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the directory stream itself
}

std::set<std::string> dev_shm_entries() {
  std::set<std::string> names;
  if (DIR* dir = opendir("/dev/shm")) {
    while (dirent* entry = readdir(dir)) names.insert(entry->d_name);
    closedir(dir);
  }
  return names;
}

// The children of this process, from /proc (every thread's list).
std::vector<pid_t> children() {
  std::vector<pid_t> pids;
  DIR* tasks = opendir("/proc/self/task");
  while (dirent* task = readdir(tasks)) {
    if (task->d_name[0] == '.') continue;
    std::ifstream list(std::string("/proc/self/task/") + task->d_name + "/children");
    pid_t pid;
    while (list >> pid) pids.push_back(pid);
  }
  closedir(tasks);
  return pids;
}

// Alive means neither gone nor a zombie.
bool process_alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const std::size_t close_paren = line.rfind(')');
  return close_paren != std::string::npos && line.size() > close_paren + 2 &&
         line[close_paren + 2] != 'Z' && line[close_paren + 2] != 'X';
}

int pid_after_sleep(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return static_cast<int>(getpid());
}

// The workers that served rounds of short tasks: with dynamic scheduling, every worker
// (rounds repeat, up to a few seconds, until `expected` distinct workers took part, so that a
// worker the busy machine did not schedule in time does not fail the test).
std::set<int> distinct_worker_pids(ProcessPool& pool, std::size_t expected) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  std::set<int> seen;
  do {
    const std::vector<int> pids =
        pool.map(pid_after_sleep, std::vector<int>(20 * expected, 2), 1);
    seen = std::set<int>(pids.begin(), pids.end());
  } while (seen.size() < expected && std::chrono::steady_clock::now() < deadline);
  return seen;
}

// ---- worker death ----------------------------------------------------------------------------

class WorkerDeath : public ::testing::TestWithParam<Death> {
 protected:
  Watchdog watchdog_{60};
};

TEST_P(WorkerDeath, FailsOnlyTheChunkItHeldAndThePoolGoesOn) {
  const Death how = GetParam();
  ProcessPool pool(2);
  std::vector<AsyncResult<int>> results;
  for (int i = 0; i < 20; ++i) results.push_back(pool.apply_async(die_on_deadly, i, how));
  for (int i = 0; i < 20; ++i) {
    if (i == kDeadly) {
      try {
        results[i].get();
        ADD_FAILURE() << "the task whose worker died returned";
      } catch (const WorkerDied& error) {
        const std::string what = error.what();
        switch (how) {
          case Death::kSigkill:
            EXPECT_EQ(error.signal(), SIGKILL);
            EXPECT_NE(what.find("SIGKILL"), std::string::npos) << what;
            break;
          case Death::kSegfault:
            EXPECT_EQ(error.signal(), SIGSEGV);
            EXPECT_NE(what.find("SIGSEGV"), std::string::npos) << what;
            break;
          case Death::kAbort:
            EXPECT_EQ(error.signal(), SIGABRT);
            EXPECT_NE(what.find("SIGABRT"), std::string::npos) << what;
            break;
          case Death::kExit:
            EXPECT_EQ(error.exit_status(), 3);
            EXPECT_NE(what.find("exited with status 3"), std::string::npos) << what;
            break;
        }
      }
    } else {
      EXPECT_EQ(results[i].get(), i) << "a task next to the dead one was affected";
    }
  }
  // The dead worker was replaced: both workers serve tasks again.
  EXPECT_EQ(pool.map(identity, std::vector<int>{1, 2, 3}), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(distinct_worker_pids(pool, 2).size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(EveryKind, WorkerDeath,
                         ::testing::Values(Death::kSigkill, Death::kSegfault, Death::kAbort,
                                           Death::kExit),
                         [](const ::testing::TestParamInfo<Death>& info) {
                           switch (info.param) {
                             case Death::kSigkill: return std::string("Sigkill");
                             case Death::kSegfault: return std::string("Segfault");
                             case Death::kAbort: return std::string("Abort");
                             case Death::kExit: return std::string("Exit");
                           }
                           return std::string("Unknown");
                         });

TEST(ProcessPool, DeathFailsTheMapAndImapFailsOnlyTheDeadChunk) {
  Watchdog watchdog(60);
  ProcessPool pool(2);
  std::vector<int> items(30);
  for (int i = 0; i < 30; ++i) items[i] = i;
  EXPECT_THROW(pool.map(die_sigkill, items, 1), WorkerDied);
  EXPECT_THROW(pool.map(die_sigkill, items), WorkerDied);
  int index = 0;
  auto stream = pool.imap(die_sigkill, items, 3);  // chunk 2 holds items 6, 7, 8
  for (auto it = stream.begin(); it != stream.end(); ++it, ++index) {
    if (index / 3 == kDeadly / 3) {
      EXPECT_THROW(*it, WorkerDied) << "item " << index;
    } else {
      EXPECT_EQ(*it, index);
    }
  }
  EXPECT_EQ(index, 30);
}

TEST(ProcessPool, AnIdleWorkerKilledFromOutsideIsReplaced) {
  Watchdog watchdog(60);
  ProcessPool pool(2);
  const std::set<int> before = distinct_worker_pids(pool, 2);
  ASSERT_EQ(before.size(), 2u);
  kill(*before.begin(), SIGKILL);
  std::set<int> after;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  do {  // until the replacement has been forked and served tasks
    after = distinct_worker_pids(pool, 2);
  } while ((after.size() < 2 || after.count(*before.begin()) != 0) &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(after.size(), 2u);
  EXPECT_EQ(after.count(*before.begin()), 0u);
  EXPECT_EQ(after.count(*before.rbegin()), 1u);
}

TEST(ProcessPool, AKillWhileHoldingASharedArrayLockDoesNotDeadlock) {
  Watchdog watchdog(60);
  SharedArray<int> counter(1);
  ProcessPool pool(2);
  EXPECT_THROW(pool.apply(lock_and_die, counter.span()), WorkerDied);
  EXPECT_EQ(pool.apply(locked_add, counter.span()), 11);  // the next owner recovered the lock
  EXPECT_EQ(counter.span().load(0), 11);
}

// ---- lifetime: no zombies, descriptors, shared memory or orphans -------------------------------

TEST(ProcessPool, LeavesNoProcessDescriptorOrSharedMemoryBehind) {
  Watchdog watchdog(60);
  const std::size_t fds_before = open_descriptors();
  const std::set<std::string> shm_before = dev_shm_entries();
  {
    ProcessPool pool(3);
    EXPECT_EQ(children().size(), 3u);
    EXPECT_EQ(pool.map(identity, std::vector<int>(100, 5)), std::vector<int>(100, 5));
    EXPECT_THROW(pool.apply(die_sigkill, kDeadly), WorkerDied);  // one replacement
    EXPECT_EQ(children().size(), 3u);
  }
  EXPECT_TRUE(children().empty()) << "a worker (or its zombie) outlived the pool";
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);  // nothing left to reap
  EXPECT_EQ(open_descriptors(), fds_before);
  EXPECT_EQ(dev_shm_entries(), shm_before);
  {
    ProcessPool pool(2);  // close + join: the workers exit by themselves
    auto result = pool.apply_async(identity, 1);
    pool.close();
    pool.join();
    EXPECT_EQ(result.value(), 1);
    EXPECT_TRUE(children().empty());
  }
  EXPECT_EQ(open_descriptors(), fds_before);
}

TEST(ProcessPool, WorkersDieWithTheirParent) {
  Watchdog watchdog(60);
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t parent = fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // if the test itself dies, do not linger
    ::close(pipe_fds[0]);
    ProcessPool pool(3);
    std::set<int> pids = distinct_worker_pids(pool, 3);
    for (int pid : pids) {
      if (write(pipe_fds[1], &pid, sizeof pid) != sizeof pid) _exit(1);
    }
    ::close(pipe_fds[1]);
    for (;;) pause();  // killed by the test
  }
  ::close(pipe_fds[1]);
  // Exactly three reads: the workers hold the pipe's write end too, so it never reaches EOF.
  std::vector<pid_t> workers;
  int pid;
  while (workers.size() < 3 && read(pipe_fds[0], &pid, sizeof pid) == sizeof pid) {
    workers.push_back(pid);
  }
  ::close(pipe_fds[0]);
  ASSERT_EQ(workers.size(), 3u);
  for (pid_t worker : workers) EXPECT_TRUE(process_alive(worker));
  kill(parent, SIGKILL);
  waitpid(parent, nullptr, 0);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (pid_t worker : workers) {
    while (process_alive(worker) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    EXPECT_FALSE(process_alive(worker)) << "worker " << worker << " outlived its parent";
  }
}

// ---- termination and waiting ----------------------------------------------------------------

TEST(ProcessPool, TerminateKillsRunningTasksAndFailsEveryUnfinishedResult) {
  Watchdog watchdog(60);
  ProcessPool pool(2);
  auto slow = pool.apply_async(sleep_ms, 20000);
  auto queued = pool.map_async(sleep_ms, std::vector<int>(50, 20000), 1);
  auto stream = pool.imap(sleep_ms, std::vector<int>(5, 20000));
  std::this_thread::sleep_for(20ms);
  const auto start = std::chrono::steady_clock::now();
  pool.terminate();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_THROW(slow.get(), PoolTerminated);
  EXPECT_THROW(queued.get(), PoolTerminated);
  EXPECT_THROW(*stream.begin(), PoolTerminated);
  EXPECT_THROW(pool.apply_async(identity, 1), PoolClosed);
  pool.join();
  EXPECT_TRUE(children().empty());
}

TEST(ProcessPool, DestructorNeverWaitsForRunningTasks) {
  Watchdog watchdog(60);
  const auto start = std::chrono::steady_clock::now();
  AsyncResult<int> orphaned = [] {
    ProcessPool pool(2);
    return pool.apply_async(sleep_ms, 60000);
  }();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_THROW(orphaned.get(), PoolTerminated);
}

TEST(ProcessPool, ValueOfARunningTaskIsNotReadyAndASleepingCallerIsWoken) {
  Watchdog watchdog(60);
  ProcessPool pool(1);
  auto result = pool.apply_async(sleep_ms, 50);  // far longer than the caller's spin
  EXPECT_FALSE(result.ready());
  EXPECT_THROW(result.value(), NotReady);
  EXPECT_FALSE(result.wait_for(1ms));
  EXPECT_EQ(result.get(), 50);
  auto mapped = pool.map_async(sleep_ms, std::vector<int>(4, 10), 1);
  mapped.wait();
  EXPECT_EQ(mapped.value(), std::vector<int>(4, 10));
}

// ---- fork semantics, limits, oversubscription, concurrency -----------------------------------

TEST(ProcessPool, WorkersHaveTheirOwnMemory) {
  Watchdog watchdog(60);
  global_counter = 100;
  ProcessPool pool(1);
  EXPECT_EQ(pool.apply(bump_global, 0), 101);  // the worker's copy, forked at 100
  EXPECT_EQ(pool.apply(bump_global, 0), 102);  // the same worker keeps its copy
  EXPECT_EQ(global_counter, 100);              // the parent's is untouched
}

TEST(ProcessPool, MessagesOverTheLimitFailOnlyTheirTask) {
  Watchdog watchdog(60);
  ProcessPool pool(2);
  // A result over the limit: an error of that task, not a hang or a crash.
  try {
    pool.apply(bytes_of_size, ProcessPool::kMaxResultBytes + 1);
    ADD_FAILURE() << "an oversized result came back";
  } catch (const MessageTooLarge& error) {
    EXPECT_NE(std::string(error.what()).find("RawArray"), std::string::npos) << error.what();
  }
  EXPECT_EQ(pool.apply(bytes_of_size, 1000).size(), 1000u);  // a result just under it is fine
  // Arguments over the limit are refused at submission.
  const std::string huge(ProcessPool::kMaxArgumentBytes + 1, 'a');
  EXPECT_THROW(pool.apply_async(size_of, huge), MessageTooLarge);
  // A map chunk over the limit fails the map; smaller chunks of the same items go through.
  const std::vector<std::string> big_items(2, std::string(ProcessPool::kMaxArgumentBytes / 2 + 16, 'b'));
  EXPECT_THROW(pool.map(size_of, big_items, 2), MessageTooLarge);
  EXPECT_EQ(pool.map(size_of, big_items, 1),
            std::vector<std::size_t>(2, ProcessPool::kMaxArgumentBytes / 2 + 16));
}

// A failure must reach its caller whatever the task threw: one that does not fit the channel
// is cut (saying so) rather than waiting forever for room, and the only worker goes on.
TEST(ProcessPool, AFailureTooLargeForTheChannelIsCutNotHung) {
  Watchdog watchdog(120);
  ProcessPool pool(1);
  const int huge = 33 << 20;
  auto result = pool.apply_async(throw_message_of_size, huge);
  ASSERT_TRUE(result.wait_for(20s)) << "a task's huge exception message hung its result";
  try {
    result.get();
    ADD_FAILURE() << "the throwing task returned";
  } catch (const TaskError& error) {
    EXPECT_EQ(error.type_name(), "std::runtime_error");
    const std::string& message = error.message();
    EXPECT_LE(message.size(), ProcessPool::kMaxResultBytes);
    EXPECT_EQ(message.substr(0, 1000), std::string(1000, 'e'));
    const std::string tail = message.substr(message.size() - 300);
    EXPECT_NE(tail.find("cut"), std::string::npos) << tail;
    EXPECT_NE(tail.find(std::to_string(huge) + " bytes"), std::string::npos) << tail;
  }
  EXPECT_EQ(pool.apply(identity, 5), 5);

  auto odd_type = pool.apply_async(throw_huge_type, 0);
  ASSERT_TRUE(odd_type.wait_for(20s)) << "a task's exception with a huge type name hung";
  try {
    odd_type.get();
    ADD_FAILURE() << "the throwing task returned";
  } catch (const TaskError& error) {
    EXPECT_LE(error.type_name().size(), ProcessPool::kMaxResultBytes);
    EXPECT_EQ(error.type_name().rfind("procpar::", 0), 0u) << error.type_name().substr(0, 200);
    EXPECT_NE(error.type_name().find("cut"), std::string::npos);
  }
  // A message just under the cut arrives whole.
  try {
    pool.apply(throw_message_of_size, 1 << 20);
    ADD_FAILURE() << "the throwing task returned";
  } catch (const TaskError& error) {
    EXPECT_EQ(error.message(), std::string(1 << 20, 'e'));
  }
}

// A task may do odd things to its own process: results must still arrive in the background
// (ready() turns true while nobody waits) after every worker closed all its descriptors.
TEST(ProcessPool, DeliversInTheBackgroundAfterTasksClosedTheirWorkersDescriptors) {
  Watchdog watchdog(60);
  ProcessPool pool(2);
  std::set<int> closed;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (closed.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    for (const int pid : pool.map(close_descriptors, std::vector<int>(8, 0), 1)) {
      closed.insert(pid);
    }
  }
  ASSERT_EQ(closed.size(), 2u) << "both workers should have closed their descriptors";
  for (int i = 0; i < 20; ++i) {
    auto result = pool.apply_async(sleep_ms, 1);
    const auto bound = std::chrono::steady_clock::now() + 2s;
    while (!result.ready() && std::chrono::steady_clock::now() < bound) {
      std::this_thread::sleep_for(1ms);  // not waiting on the result: the pool must deliver it
    }
    ASSERT_TRUE(result.ready()) << "result " << i << " was not delivered in the background";
    EXPECT_EQ(result.value(), 1);
  }
  EXPECT_EQ(distinct_worker_pids(pool, 2), closed);  // the same workers, still serving
}

TEST(ProcessPool, MoreWorkersThanCores) {
  Watchdog watchdog(60);
  ProcessPool pool(8);
  std::vector<int> items(2000);
  for (int i = 0; i < 2000; ++i) items[i] = i;
  EXPECT_EQ(pool.map(identity, items, 1), items);
  EXPECT_EQ(distinct_worker_pids(pool, 8).size(), 8u);
}

TEST(ProcessPool, ManyCallerThreadsAtOnce) {
  Watchdog watchdog(60);
  ProcessPool pool(2);
  std::vector<std::thread> callers;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&pool, &wrong, t] {
      for (int i = 0; i < 2000; ++i) {
        if (pool.apply(identity, t * 10000 + i) != t * 10000 + i) ++wrong[t];
      }
    });
  }
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

TEST(ProcessPool, IsRefusedInAForkedChildInsteadOfDeadlocking) {
  Watchdog watchdog(60);
  ProcessPool pool(2);
  EXPECT_EQ(pool.apply(identity, 1), 1);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int code = 1;
    try {
      pool.apply(identity, 1);
    } catch (const std::logic_error& error) {
      code = std::string(error.what()).find("forked copy") != std::string::npos ? 0 : 2;
    }
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_EQ(pool.apply(identity, 5), 5);  // the child touched nothing of the parent's pool
}

// The pool belongs to the parent: a forked child that destroys its copy (delete, or leaving
// the pool's scope) must neither abort nor touch the parent's workers.
TEST(ProcessPool, DestroyingTheParentsPoolInAForkedChildDoesNothing) {
  Watchdog watchdog(60);
  auto* pool = new ProcessPool(2);
  EXPECT_EQ(pool->apply(identity, 1), 1);
  const pid_t deleting = fork();
  ASSERT_GE(deleting, 0);
  if (deleting == 0) {
    delete pool;
    _exit(0);
  }
  const pid_t leaving_scope = fork();
  ASSERT_GE(leaving_scope, 0);
  if (leaving_scope == 0) {
    {
      std::unique_ptr<ProcessPool> scoped(pool);
    }
    // _exit: under LeakSanitizer a normal exit() of a forked child reports the heap data of
    // the parent's threads (they do not exist in the child), the pool's or anyone's.
    _exit(0);
  }
  for (const pid_t child : {deleting, leaving_scope}) {
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "the child " << (child == deleting ? "deleting" : "leaving the scope of")
        << " the pool ended with wait status " << status;
  }
  EXPECT_EQ(pool->map(identity, std::vector<int>{1, 2, 3}), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(distinct_worker_pids(*pool, 2).size(), 2u);  // the children killed no worker
  delete pool;
}

// CPU time (user + system, in clock ticks) a process has used so far.
long cpu_ticks(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string field;
  long utime = 0;
  long stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

// Idle workers sleep: after a burst of tasks they may spin a bounded few microseconds, then
// use no CPU (the 0.1 s release wake-ups cost microseconds). CPU time, not wall time, so a
// loaded machine cannot make it pass or fail.
TEST(ProcessPool, IdleWorkersUseNoCpu) {
  ProcessPool pool(2);
  const std::set<int> workers = distinct_worker_pids(pool, 2);
  ASSERT_EQ(workers.size(), 2u);
  std::this_thread::sleep_for(200ms);  // past any spin after the last task
  std::vector<long> before;
  for (const int pid : workers) before.push_back(cpu_ticks(pid));
  std::this_thread::sleep_for(1s);
  std::size_t i = 0;
  const long ticks_per_second = sysconf(_SC_CLK_TCK);
  for (const int pid : workers) {
    const long used = cpu_ticks(pid) - before[i++];
    EXPECT_LE(used, ticks_per_second / 50) << "idle worker " << pid << " used " << used
                                           << " ticks of CPU in 1 s";
  }
}

TEST(ProcessPool, ZeroWorkersIsRefused) { EXPECT_THROW(ProcessPool(0), std::invalid_argument); }

}  // namespace
}  // namespace procpar
