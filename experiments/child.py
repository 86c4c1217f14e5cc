"""Child processes of the runner, each in its own process group, so that a timeout or an
interrupted run ends the child and every worker it forked."""

import collections
import os
import signal
import subprocess
import threading
import time


class TimedOut(Exception):
    """The child ran past its timeout and was killed with its whole group."""


class Child:
    """A command run in a new session (its own process group), its output read line by line."""

    def __init__(self, command, env, on_line):
        self.tail = collections.deque(maxlen=40)
        self._on_line = on_line
        self.process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True, text=True, errors="replace")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            line = line.rstrip("\n")
            self.tail.append(line)
            self._on_line(line)

    def kill_group(self):
        """Ends the child and everything it started (end_group), then the output reader."""
        end_group(self.process)
        self._reader.join(timeout=5)

    def tail_text(self):
        if not self.tail:
            return "(no output)"
        return "last output:\n  " + "\n  ".join(self.tail)


def end_group(process, grace=3):
    """Ends `process`, started with start_new_session=True, and everything it started: SIGTERM
    to its process group, up to `grace` seconds for it to exit, then SIGKILL to whatever is left
    of the group. The SIGTERM matters for mpirun: Open MPI puts each rank in a process group of
    its own, out of reach of a signal to mpirun's group, and mpirun kills its ranks when it gets
    SIGTERM. Signals are held off meanwhile, so a second Ctrl-C cannot leave the group half
    killed."""
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        group = process.pid
        if process.poll() is None:
            _signal_group(group, signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(group, signal.SIGKILL)
        process.wait()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _signal_group(group, sig):
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run(command, env, timeout, on_line, tick):
    """Runs `command` to its end, calling `on_line` with each line of its output and `tick`
    about twice a second; returns (exit status, last lines of output). Kills its whole process
    group when it ends, when it times out (TimedOut) or when the runner is interrupted."""
    child = Child(command, env, on_line)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                status = child.process.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                pass
            tick()
            if time.monotonic() > deadline:
                child.kill_group()
                raise TimedOut(f"{os.path.basename(command[0])} ran past the timeout of "
                               f"{timeout:g} s and was killed\n{child.tail_text()}")
    finally:
        child.kill_group()
    return status, child.tail_text()


def describe_status(status):
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"
