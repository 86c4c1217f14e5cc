"""Runs the experiment suite: `bazel run //experiments:all -- [options]`.

Every experiment of the registry (EXPERIMENTS in experiments/BUILD, passed as --experiments) is a
Google Benchmark binary, optionally with a CPython reference script python/<name>.py. Each run
writes one folder results/raw/<run>/ (the run named by machine and date):

  <experiment>.csv    tidy rows (docs/experiments.md): the binary's and the reference's
  <experiment>.json   Google Benchmark's own output
  machine.json        the machine, build, libraries, environment, git commit, profile
  run.json            what ran, how long it took, what failed and why
  <experiment>.error.txt   only for an experiment that failed: its error and last output

Every file is written whole (temporary file, then rename), and an experiment's CSV is written
last, so a CSV exists only for a finished experiment: an interrupted run keeps what finished and
`--resume RUN` runs only the rest. Each experiment runs in its own process group; a timeout, a
Ctrl-C or a SIGTERM kills the whole group. A failing experiment is reported and the others run;
the exit status is 1 if any failed (130 if interrupted).
"""

import argparse
import collections
import datetime
import glob
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))
import common  # noqa: E402  (lives in python/, shared with the reference scripts)

# Per experiment and part (the binary, the reference script): a run past this is killed.
TIMEOUT_SECONDS = {"quick": 300, "full": 1800}

# ---------------------------------------------------------------------------------------------
# Google Benchmark JSON -> tidy rows.

# Fields Google Benchmark writes for every run; any other field of a run is a counter.
_STANDARD_FIELDS = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type",
    "repetitions", "repetition_index", "threads", "iterations", "real_time", "cpu_time",
    "time_unit", "aggregate_name", "aggregate_unit", "error_occurred", "error_message", "label",
}
# Name components that say how a benchmark was run, not what it measured.
_TIMING_FLAGS = {"real_time", "manual_time", "process_time"}
_RUN_OPTIONS = {"repeats", "iterations", "min_time", "min_warmup_time"}

_TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


class ExperimentError(Exception):
    """An experiment failed; the message says why."""


def parse_name(run_name):
    """'tree/process/n:1024/p:2/real_time' -> ('tree', 'process', {'n': 1024, 'p': 2}).

    The first two components are the variant and the backend; the rest are named arguments
    (ArgNames), except the options Google Benchmark appends (real_time, repeats:3, ...), which
    are dropped, and threads:N, which is kept as the argument `threads`.
    """
    parts = run_name.split("/")
    if len(parts) < 2 or not parts[0] or not parts[1] or ":" in parts[0] or ":" in parts[1]:
        raise ExperimentError(
            f"benchmark '{run_name}' is not named '<variant>/<backend>/...' (docs/experiments.md)")
    variant, backend = parts[0], parts[1]
    args = {}
    for part in parts[2:]:
        if part in _TIMING_FLAGS:
            continue
        key, sep, value = part.partition(":")
        if not sep:
            raise ExperimentError(
                f"benchmark '{run_name}' has an unnamed argument '{part}': register it with "
                "ArgNames so that the CSV can name its column")
        if key in _RUN_OPTIONS:
            continue
        if key in args:
            raise ExperimentError(f"benchmark '{run_name}' names argument '{key}' twice")
        args[key] = _number(value)
    return variant, backend, args


def _number(text):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def tidy_rows(experiment, report, arguments=None):
    """The tidy rows (one per repetition of each benchmark) of a Google Benchmark JSON report;
    the names of the benchmarks' own arguments are added to the list `arguments`.

    Aggregates (mean, median, ...) are dropped: the analysis computes its own from the kept
    repetitions. A benchmark that reported an error, a report without measurements, and two
    measurements of the same benchmark and repetition are errors of the experiment.
    """
    benchmarks = report.get("benchmarks") if isinstance(report, dict) else None
    if not isinstance(benchmarks, list):
        raise ExperimentError("the JSON report has no 'benchmarks' list")
    errors = []
    rows = []
    seen = set()
    for run in benchmarks:
        if run.get("run_type", "iteration") != "iteration":
            continue
        name = run.get("run_name", run.get("name", "?"))
        if run.get("error_occurred"):
            errors.append(f"{name}: {run.get('error_message', 'error')}")
            continue
        variant, backend, args = parse_name(name)
        unit = run.get("time_unit", "ns")
        if unit not in _TIME_UNITS:
            raise ExperimentError(f"benchmark '{name}' has an unknown time unit '{unit}'")
        repetition = int(run.get("repetition_index", 0))
        key = (name, repetition)
        if key in seen:
            raise ExperimentError(f"benchmark '{name}' repetition {repetition} appears twice")
        seen.add(key)
        row = {"experiment": experiment, "variant": variant, "backend": backend,
               "n": args.pop("n", None), "p": args.pop("p", None),
               "chunksize": args.pop("chunksize", None), "repetition": repetition,
               "seconds": float(run["real_time"]) * _TIME_UNITS[unit]}
        row.update(args)
        if arguments is not None:
            arguments.extend(a for a in args if a not in arguments)
        for field, value in run.items():
            if field in _STANDARD_FIELDS:
                continue
            if field in row:
                raise ExperimentError(
                    f"benchmark '{name}' has a counter '{field}' that clashes with a column")
            row[field] = value
        if run.get("label"):
            row["label"] = run["label"]
        row["iterations"] = run.get("iterations")
        rows.append(row)
    if errors:
        shown = "; ".join(errors[:5]) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
        raise ExperimentError(f"{len(errors)} benchmark runs reported errors: {shown}")
    if not rows:
        raise ExperimentError("the JSON report holds no measurements")
    return rows


def read_reference_rows(experiment, path):
    """The rows a reference script wrote, checked against the tidy schema."""
    import csv
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in common.FIXED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ExperimentError(f"{path}: the reference CSV lacks columns {missing}")
            rows = list(reader)
    except FileNotFoundError:
        raise ExperimentError(f"the reference script wrote no CSV ({path})") from None
    if not rows:
        raise ExperimentError(f"{path}: the reference CSV has no rows")
    for number, row in enumerate(rows, start=2):
        if row["experiment"] != experiment:
            raise ExperimentError(
                f"{path}:{number}: experiment is '{row['experiment']}', not '{experiment}'")
        for column in ("variant", "backend", "repetition", "seconds"):
            if not row[column]:
                raise ExperimentError(f"{path}:{number}: empty '{column}'")
        try:
            seconds = float(row["seconds"])
        except ValueError:
            seconds = -1.0
        if not seconds > 0:
            raise ExperimentError(f"{path}:{number}: seconds '{row['seconds']}' is not positive")
    return rows


# ---------------------------------------------------------------------------------------------
# Child processes, each in its own process group.

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
        """Ends the child and everything it started. Signals are held off meanwhile, so a
        second Ctrl-C cannot leave the group half killed."""
        held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
        old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
        try:
            group = self.process.pid
            if self.process.poll() is None:
                _signal_group(group, signal.SIGTERM)
                try:
                    self.process.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    pass
            # Whatever is left of the group (the child itself if SIGTERM did not end it,
            # workers it forked) gets SIGKILL.
            _signal_group(group, signal.SIGKILL)
            self.process.wait()
            self._reader.join(timeout=5)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _signal_group(group, sig):
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_child(command, env, timeout, on_line, tick):
    """Runs `command` to its end; returns (exit status, last lines of output). Kills its whole
    process group when it ends, times out, or the runner is interrupted."""
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
                raise ExperimentError(f"{os.path.basename(command[0])} ran past the timeout of "
                                      f"{timeout:g} s and was killed\n{_tail(child)}")
    finally:
        child.kill_group()
    return status, _tail(child)


def _tail(child):
    if not child.tail:
        return "(no output)"
    return "last output:\n  " + "\n  ".join(child.tail)


def describe_status(status):
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"


class Interrupted(BaseException):
    """SIGTERM or SIGHUP: like Ctrl-C, not an error of the running experiment."""


def _raise_interrupted(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


# ---------------------------------------------------------------------------------------------
# The machine.

def _command_output(command, cwd=None):
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def cpu_model():
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _caches():
    """The caches as sysfs describes them, else as glibc's getconf (CPUID) does: some virtual
    machines have no cache folder in sysfs. Either may repeat what a hypervisor claims."""
    caches = []
    for index in sorted(glob.glob("/sys/devices/system/cpu/cpu0/cache/index*")):
        caches.append({key: _read(os.path.join(index, key))
                       for key in ("level", "type", "size", "shared_cpu_list")})
    if caches:
        return caches
    values = {}
    for line in (_command_output(["getconf", "-a"]) or "").splitlines():
        words = line.split()
        if len(words) == 2 and words[0].startswith("LEVEL") and words[1].isdigit():
            values[words[0]] = int(words[1])
    for level, kind, key in ((1, "Instruction", "LEVEL1_ICACHE"), (1, "Data", "LEVEL1_DCACHE"),
                             (2, "Unified", "LEVEL2_CACHE"), (3, "Unified", "LEVEL3_CACHE"),
                             (4, "Unified", "LEVEL4_CACHE")):
        if values.get(key + "_SIZE"):
            caches.append({"level": level, "type": kind, "size_bytes": values[key + "_SIZE"],
                           "line_bytes": values.get(key + "_LINESIZE"), "source": "getconf"})
    return caches


def _cpu_flags():
    """The vector extensions the compiler's -march=native may have used."""
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("flags"):
            flags = line.split(":", 1)[1].split()
            return [f for f in flags if f.startswith(("avx", "sse4", "fma", "bmi"))]
    return []


def _memory_bytes():
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None


def _physical_cores():
    cores = set()
    physical = None
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("physical id"):
            physical = line.split(":", 1)[1].strip()
        elif line.startswith("core id"):
            cores.add((physical, line.split(":", 1)[1].strip()))
    return len(cores) or None


def _packages(patterns):
    output = _command_output(
        ["dpkg-query", "-W", "-f=${Package}\t${Version}\t${db:Status-Abbrev}\n"] + patterns)
    versions = {}
    for line in (output or "").splitlines():
        name, version, status = (line.split("\t") + ["", ""])[:3]
        if status.startswith("ii"):
            versions[name] = version
    return versions


def _os_name():
    for line in (_read("/etc/os-release") or "").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return None


def _bazelrc_build_flags(workspace):
    text = _read(os.path.join(workspace, ".bazelrc")) if workspace else None
    flags = []
    for line in (text or "").splitlines():
        words = line.split()
        if words and words[0] == "build":
            flags.extend(words[1:])
    return flags


def _git_state(workspace):
    commit = _command_output(["git", "rev-parse", "HEAD"], cwd=workspace) if workspace else None
    dirty = None
    if commit:
        dirty = bool(_command_output(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=workspace))
    return {"commit": commit, "dirty": dirty}


def machine_info(args, run_name):
    workspace = args.workspace
    settings = common.PROFILES[args.profile]
    return {
        "run": run_name,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "profile": args.profile,
        "repetitions": args.repetitions,
        "min_time_seconds": settings["min_time"],
        # Whether the repetitions of an experiment's benchmarks run in a random order (Google
        # Benchmark's random interleaving, and the reference scripts' Table); runs made before
        # the scripts interleaved lack the second key, as their CPython rows were in sequence.
        "repetitions_interleaved": common.INTERLEAVE_REPETITIONS,
        "cpython_repetitions_interleaved": common.INTERLEAVE_REPETITIONS,
        "hostname": socket.gethostname(),
        "cpu": {"model": cpu_model(), "logical_cores": os.cpu_count(),
                "physical_cores": _physical_cores(), "caches": _caches(),
                "vector_flags": _cpu_flags()},
        "memory_bytes": _memory_bytes(),
        "os": _os_name(),
        "kernel": platform.release(),
        "transparent_hugepage": {
            "enabled": _read("/sys/kernel/mm/transparent_hugepage/enabled"),
            "shmem_enabled": _read("/sys/kernel/mm/transparent_hugepage/shmem_enabled")},
        "compiler": (_command_output([os.environ.get("CC", "gcc"), "--version"]) or "").split(
            "\n")[0] or None,
        "build": {"compilation_mode": args.compilation_mode, "project_copts": args.copt,
                  "bazelrc_build_flags": _bazelrc_build_flags(workspace)},
        "libraries": _packages(["libtbb*", "libopenblas*", "libbenchmark*", "libgomp1",
                                "python3", "python3-numpy", "g++"]),
        "python": _command_output([args.python, "-c", "import sys; print(sys.version)"]),
        "environment": {k: v for k, v in sorted(os.environ.items())
                        if k.startswith(("OPENBLAS_", "GOTO_", "OMP_", "TBB_"))},
        "git": _git_state(workspace),
    }


def default_run_name(now=None):
    """The machine and the date: 'amd-epyc-2c-20261123-2107'."""
    now = now or datetime.datetime.now()
    model = re.sub(r"\((r|tm)\)|\b(cpu|processor)\b|@.*$", "", cpu_model().lower())
    model = re.sub(r"[^a-z0-9]+", "-", model).strip("-") or "cpu"
    return f"{model}-{os.cpu_count()}c-{now:%Y%m%d-%H%M%S}"


# ---------------------------------------------------------------------------------------------
# Progress.

def _clock(seconds):
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
                         f"{_clock(seconds)}")
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
        left_text = f"about {_clock(left)} left" if left is not None else "estimating time left"
        return (f"[{self.index}/{len(self.names)}] {self.name} {phase}{count} | elapsed "
                f"{_clock(elapsed)} | {left_text}")

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


# ---------------------------------------------------------------------------------------------
# Running experiments.

def list_benchmarks(binary, env):
    try:
        result = subprocess.run([binary, "--benchmark_list_tests=true"], env=env,
                                capture_output=True, text=True, timeout=120,
                                start_new_session=True)
    except subprocess.TimeoutExpired:
        raise ExperimentError(f"{binary} --benchmark_list_tests did not finish in 120 s") from None
    if result.returncode != 0:
        raise ExperimentError(f"{binary} --benchmark_list_tests: {describe_status(result.returncode)}"
                              f"\n{(result.stdout + result.stderr).strip()[-2000:]}")
    names = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    if not names:
        raise ExperimentError(f"{binary} registers no benchmarks")
    return names


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def run_experiment(ctx, name, progress):
    """Runs one experiment into ctx.run_dir; raises ExperimentError if it fails."""
    binary = os.path.join(ctx.bin_dir, name)
    if not os.access(binary, os.X_OK):
        raise ExperimentError(f"no experiment binary {binary} (is //experiments:{name} built and "
                              "listed in EXPERIMENTS?)")
    env = dict(os.environ, PROCPAR_PROFILE=ctx.profile)
    partial_json = os.path.join(ctx.run_dir, f".{name}.json.partial")
    partial_csv = os.path.join(ctx.run_dir, f".{name}.cpython.csv.partial")
    try:
        instances = set(list_benchmarks(binary, env))
        progress.set_phase("C++", total=len(instances) * ctx.repetitions)

        def count(line):
            words = line.split()
            if words and words[0] in instances:
                progress.step()

        status, tail = run_child(
            [binary, f"--benchmark_out={partial_json}", "--benchmark_out_format=json",
             f"--benchmark_repetitions={ctx.repetitions}",
             "--benchmark_enable_random_interleaving="
             + str(common.INTERLEAVE_REPETITIONS).lower(),
             f"--benchmark_min_time={common.PROFILES[ctx.profile]['min_time']}"],
            env, ctx.timeout, count, progress.tick)
        if status != 0:
            raise ExperimentError(f"{name}: {describe_status(status)}\n{tail}")
        try:
            with open(partial_json) as f:
                report = json.load(f)
        except (OSError, ValueError) as e:
            raise ExperimentError(f"{name}: unreadable JSON report: {e}") from None
        arguments = []
        rows = tidy_rows(name, report, arguments)

        script = os.path.join(ctx.python_dir, f"{name}.py")
        if os.path.exists(script):
            progress.set_phase("CPython")

            def show(line):  # the script prints one line per measurement
                progress.set_phase("CPython: " + " ".join(line.split()[:4]))

            status, tail = run_child(
                [ctx.python, script, "--profile", ctx.profile, "--repetitions",
                 str(ctx.repetitions), "--out", partial_csv],
                env, ctx.timeout, show, progress.tick)
            if status != 0:
                raise ExperimentError(f"python/{name}.py: {describe_status(status)}\n{tail}")
            rows += read_reference_rows(name, partial_csv)

        os.replace(partial_json, os.path.join(ctx.run_dir, f"{name}.json"))
        common.write_atomic(os.path.join(ctx.run_dir, f"{name}.csv"),
                            common.csv_text(rows, leading=arguments))
        return len(rows)
    finally:
        _remove(partial_json)
        _remove(partial_csv)


def _history(results_dir, profile, exclude):
    """Each experiment's duration in the latest earlier run of this profile that finished it."""
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


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="bazel run //experiments:all --",
        description="Runs the experiment suite into results/raw/<run>/.")
    parser.add_argument("--experiments", required=True,
                        help="the registry: every experiment, comma-separated, in run order "
                             "(set by experiments/BUILD)")
    parser.add_argument("--profile", choices=sorted(common.PROFILES),
                        help="quick (CI, minutes) or full (the paper); default full, or the "
                             "resumed run's")
    parser.add_argument("--repetitions", type=int,
                        help="repetitions of each benchmark (default: the profile's)")
    parser.add_argument("--only", action="append", default=[],
                        help="run only these experiments (comma-separated, repeatable)")
    parser.add_argument("--skip", action="append", default=[],
                        help="do not run these experiments (comma-separated, repeatable)")
    parser.add_argument("--resume", metavar="RUN",
                        help="continue run RUN (a name under the results folder): run only "
                             "the experiments without a CSV there")
    parser.add_argument("--results-dir",
                        help="where run folders go (default: results/raw in the source tree "
                             "under bazel run)")
    parser.add_argument("--run-name", help="name of a new run (default: machine and date)")
    parser.add_argument("--timeout", type=float,
                        help="seconds before an experiment part is killed (default: "
                             + ", ".join(f"{k} {v}" for k, v in TIMEOUT_SECONDS.items()) + ")")
    parser.add_argument("--bin-dir", help="folder of the experiment binaries (default: beside "
                                          "this script)")
    parser.add_argument("--python-dir", help="folder of the reference scripts (default: "
                                             "python/ beside the binaries)")
    parser.add_argument("--python", default="/usr/bin/python3",
                        help="interpreter of the reference scripts (default: Debian's)")
    parser.add_argument("--workspace", default=os.environ.get("BUILD_WORKSPACE_DIRECTORY"),
                        help="source tree, for the git commit and .bazelrc (default: bazel "
                             "run's workspace)")
    parser.add_argument("--compilation-mode", help="Bazel's compilation mode (set by BUILD)")
    parser.add_argument("--copt", action="append", default=[],
                        help="a compiler flag of the project (set by BUILD)")
    args = parser.parse_args(argv)

    args.registry = [name for name in args.experiments.split(",") if name]
    if not args.registry:
        parser.error("the registry is empty: list experiments in EXPERIMENTS (experiments/BUILD)")
    if len(set(args.registry)) != len(args.registry):
        parser.error(f"--experiments names an experiment twice: {args.experiments}")

    def names(values, option):
        chosen = [n for value in values for n in value.split(",") if n]
        unknown = [n for n in chosen if n not in args.registry]
        if unknown:
            parser.error(f"{option}: unknown experiment(s) {', '.join(unknown)}; the suite has "
                         f"{', '.join(args.registry)}")
        return chosen

    only, skip = names(args.only, "--only"), names(args.skip, "--skip")
    args.selected = [n for n in args.registry if (not only or n in only) and n not in skip]
    if not args.selected:
        parser.error("--only/--skip leave no experiment to run")

    if args.results_dir is None:
        if not args.workspace:
            parser.error("outside `bazel run`, say where results go with --results-dir")
        args.results_dir = os.path.join(args.workspace, "results", "raw")
    here = os.path.dirname(os.path.abspath(__file__))
    args.bin_dir = args.bin_dir or here
    args.python_dir = args.python_dir or os.path.join(args.bin_dir, "python")
    if args.repetitions is not None and args.repetitions < 1:
        parser.error(f"--repetitions must be at least 1, not {args.repetitions}")
    return args, parser


def main(argv=None, stream=None):
    args, parser = parse_args(sys.argv[1:] if argv is None else argv)
    stream = stream or sys.stdout

    if args.resume:
        run_name = os.path.basename(os.path.normpath(args.resume))
        run_dir = os.path.join(args.results_dir, run_name)
        try:
            with open(os.path.join(run_dir, "machine.json")) as f:
                machine = json.load(f)
        except (OSError, ValueError) as e:
            parser.error(f"--resume {args.resume}: no readable run at {run_dir} ({e})")
        for option in ("profile", "repetitions"):
            given = getattr(args, option)
            if given is not None and given != machine[option]:
                parser.error(f"--resume {run_name}: the run used {option} {machine[option]}, "
                             f"not {given}")
            setattr(args, option, machine[option])
    else:
        args.profile = args.profile or "full"
        if args.repetitions is None:
            args.repetitions = common.PROFILES[args.profile]["repetitions"]
        run_name = args.run_name or default_run_name()
        run_dir = os.path.join(args.results_dir, run_name)
        if os.path.exists(run_dir):
            parser.error(f"run folder {run_dir} exists already (resume it with --resume)")
        os.makedirs(run_dir)
        machine = machine_info(args, run_name)
    if args.resume:
        commit = _git_state(args.workspace)["commit"]
        if commit != machine["git"]["commit"]:
            print(f"warning: run {run_name} began at commit {machine['git']['commit']}, this "
                  f"is {commit}; machine.json records both", file=sys.stderr)
        machine.setdefault("resumed", []).append(
            {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
             "git_commit": commit})
    common.write_atomic(os.path.join(run_dir, "machine.json"),
                        json.dumps(machine, indent=2) + "\n")

    record_path = os.path.join(run_dir, "run.json")
    record = {"run": run_name, "profile": args.profile, "experiments": {}}
    if args.resume and os.path.exists(record_path):
        with open(record_path) as f:
            record = json.load(f)

    def save_record():
        common.write_atomic(record_path, json.dumps(record, indent=2) + "\n")

    args.run_dir = run_dir
    args.timeout = args.timeout or TIMEOUT_SECONDS[args.profile]
    todo = [n for n in args.selected
            if not os.path.exists(os.path.join(run_dir, f"{n}.csv"))]
    print(f"run {run_name}: profile {args.profile}, {args.repetitions} repetitions, "
          f"{len(todo)} of {len(args.selected)} experiments to run, into {run_dir}",
          file=stream, flush=True)
    progress = Progress(todo, _history(args.results_dir, args.profile, run_dir), stream)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupted)
    failed = []
    try:
        for name in args.selected:
            if name not in todo:
                progress.skip(name, "finished earlier in this run, kept")
                continue
            index = todo.index(name) + 1
            progress.begin(index, name)
            start = time.monotonic()
            error = None
            try:
                rows = run_experiment(args, name, progress)
            except ExperimentError as e:
                error = str(e)
            except Exception:  # a runner bug must not stop the other experiments either
                error = f"{name}: runner error\n{traceback.format_exc()}"
            seconds = time.monotonic() - start
            error_path = os.path.join(run_dir, f"{name}.error.txt")
            if error is None:
                _remove(error_path)
                record["experiments"][name] = {"status": "ok", "seconds": round(seconds, 3),
                                               "rows": rows}
            else:
                failed.append(name)
                common.write_atomic(error_path, error + "\n")
                record["experiments"][name] = {"status": "failed", "seconds": round(seconds, 3),
                                               "error": error.split("\n")[0]}
            save_record()
            progress.end(name, seconds, error)
    except (KeyboardInterrupt, Interrupted) as e:
        why = str(e) or "SIGINT"
        print(f"\ninterrupted ({why}): finished experiments are kept in {run_dir}; continue "
              f"with --resume {run_name}", file=sys.stderr, flush=True)
        return 130

    total = time.monotonic() - progress.start
    print(f"run {run_name}: {len(todo) - len(failed)} of {len(todo)} experiments ran in "
          f"{_clock(total)}" + (f"; FAILED: {', '.join(failed)} (see {run_dir}/<name>.error.txt)"
                                if failed else ""), file=stream, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
