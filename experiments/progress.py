"""The runner's status line: which experiment, i of N, benchmarks done, elapsed, and the time
left estimated from earlier runs of the same profile."""

import glob
import json
import os
import sys
import threading
import time


def clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """One status line: which experiment, i of N, elapsed, estimated time left.

    The estimate uses each experiment's duration in the latest earlier run of the same profile
    where it succeeded, else the mean duration of the experiments finished in this run; inside
    the running experiment, the fraction of its benchmarks done.
    """

    def __init__(self, names, history, stream):
        self.names = names
        self.history = history
        self.stream = stream
        self.tty = stream.isatty()
        self.start = time.monotonic()
        self.durations = {}
        self.index = 0
        self.name = None
        self.phase = ""
        self.done = self.total = 0
        self.experiment_start = self.start
        self._last_plain = 0.0
        self._lock = threading.Lock()

    def begin(self, index, name):
        self.index, self.name = index, name
        self.experiment_start = time.monotonic()
        self.set_phase("starting")
        if not self.tty:
            self._print_line(self._line())

    def set_phase(self, phase, total=0):
        with self._lock:
            self.phase, self.done, self.total = phase, 0, total

    def step(self):
        with self._lock:
            self.done += 1

    def end(self, name, seconds, error=None):
        self.durations[name] = seconds
        verdict = "ok" if error is None else "FAILED"
        self._print_line(f"[{self.index}/{len(self.names)}] {name}: {verdict} in "
                         f"{clock(seconds)}")
        if error is not None:
            print(f"  {error}".replace("\n", "\n  "), file=sys.stderr, flush=True)

    def skip(self, name, why):
        self._print_line(f"{name}: {why}")

    def estimate_left(self):
        mean = (sum(self.durations.values()) / len(self.durations)) if self.durations else None
        elapsed_here = time.monotonic() - self.experiment_start

        def expected(name):
            return self.history.get(name, mean)

        left = 0.0
        with self._lock:
            fraction = self.done / self.total if self.total else 0.0
        expect_here = expected(self.name)
        if fraction >= 0.05 and self.phase.startswith("C++"):
            # The binary's share of the experiment: its own pace says best how long it needs.
            left += elapsed_here / fraction - elapsed_here
        elif expect_here is not None:
            left += max(0.0, expect_here - elapsed_here)
        else:
            return None
        for name in self.names[self.index:]:
            guess = expected(name)
            if guess is None:
                return None
            left += guess
        return left

    def _line(self):
        elapsed = time.monotonic() - self.start
        left = self.estimate_left()
        with self._lock:
            count = f" {self.done}/{self.total}" if self.total else ""
            phase = self.phase
        left_text = f"about {clock(left)} left" if left is not None else "estimating time left"
        return (f"[{self.index}/{len(self.names)}] {self.name} {phase}{count} | elapsed "
                f"{clock(elapsed)} | {left_text}")

    def tick(self):
        if self.tty:
            width = 119
            line = self._line()[:width]
            self.stream.write("\r" + line + " " * (width - len(line)))
            self.stream.flush()
        elif time.monotonic() - self._last_plain >= 60:
            self._print_line(self._line())

    def _print_line(self, line):
        self._last_plain = time.monotonic()
        if self.tty:
            self.stream.write("\r" + " " * 119 + "\r")
        self.stream.write(line + "\n")
        self.stream.flush()



def earlier_durations(results_dir, profile, exclude):
    """Each experiment's duration in the latest earlier run of this profile that finished it
    (the run folders under `results_dir` but `exclude`, the run in progress)."""
    runs = []
    for path in glob.glob(os.path.join(results_dir, "*", "run.json")):
        if os.path.dirname(path) == exclude:
            continue
        try:
            with open(path) as f:
                record = json.load(f)
        except (OSError, ValueError):
            continue
        if record.get("profile") == profile:
            runs.append((os.path.getmtime(path), record))
    durations = {}
    for _, record in sorted(runs, key=lambda pair: pair[0]):
        for name, outcome in record.get("experiments", {}).items():
            if outcome.get("status") == "ok":
                durations[name] = outcome["seconds"]
    return durations
