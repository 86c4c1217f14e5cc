// Which process am I, asked often and cheaply: the id of the calling process, kept current in
// every child forked from it (a pthread_atfork handler), read with one load and no system call.
// The shared arrays use it to tell their owner from other processes, and the pools to refuse
// use from a forked copy of the process that created them. Processes must come from fork()
// (or be the program's first process); a child made by clone() without the fork handlers would
// read its parent's id.
#ifndef PROCPAR_PRIMITIVES_CURRENT_PROCESS_H_
#define PROCPAR_PRIMITIVES_CURRENT_PROCESS_H_

#include <sys/types.h>

#include <atomic>

namespace procpar {

namespace current_process_detail {
// 0 until first asked for (in this process or in an ancestor before it forked).
extern std::atomic<pid_t> pid;
// Records getpid() and registers the fork handler; returns the id.
pid_t initialise();
}  // namespace current_process_detail

inline pid_t current_pid() {
  const pid_t pid = current_process_detail::pid.load(std::memory_order_relaxed);
  return pid != 0 ? pid : current_process_detail::initialise();
}

}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_CURRENT_PROCESS_H_
