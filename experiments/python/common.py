"""What the CPython reference scripts and the suite's runner share.

The profile table (repetitions, minimum time per repetition), worker counts and sizes as in
experiments/profile.h, timing with repetitions, and tidy CSV rows written whole (temporary file
and rename), so every reference script is only its algorithms and its sweep.

A reference script looks like this:

    args = common.parse_args(__doc__)
    table = common.Table("reduce_tree_vs_partitioned", args)
    table.measure(lambda: sum(xs), variant="serial", backend="cpython_serial", n=len(xs),
                  check=lambda total: ...)
    pool = table.pool(2)
    table.measure(lambda: partitioned_reduce(pool, xs, 2), variant="partitioned", ...)
    table.write()   # every repetition, interleaved at random; then the CSV
"""

import argparse
import csv
import io
import math
import multiprocessing
import multiprocessing.pool
import os
import random
import tempfile
import time
import types

# Per profile: Google Benchmark repetitions (and the reference scripts' own), and the minimum
# time one repetition runs for (it repeats the call until then; the time of one call is kept).
PROFILES = {
    "quick": {"repetitions": 3, "min_time": 0.02},
    # Full: 9 repetitions of at least 50 ms each. (0.1 s made the whole suite take 48 minutes
    # on the 2-core machine, over its 45-minute budget; most benchmarks are far shorter than
    # either, so the floor sets the run's length, not the statistics.)
    "full": {"repetitions": 9, "min_time": 0.05},
}

# The columns every tidy row has, in this order (docs/experiments.md); the experiment's own
# arguments and counters follow.
FIXED_COLUMNS = ("experiment", "variant", "backend", "n", "p", "chunksize", "repetition",
                 "seconds")


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def write_atomic(path, text):
    """Writes `text` to `path` whole or not at all: a reader never sees a partial file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # as open() would have made it, not mkstemp's 0600
        with os.fdopen(fd, "w", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def csv_text(rows, leading=()):
    """Tidy CSV of `rows` (dicts): the fixed columns, the `leading` ones (the experiment's
    arguments), every other key in order of first appearance, and `iterations` last; a missing
    or None value is an empty field."""
    columns = list(FIXED_COLUMNS) + [c for c in leading if c not in FIXED_COLUMNS]
    for row in rows:
        for key in row:
            if key not in columns and key != "iterations":
                columns.append(key)
    if any("iterations" in row for row in rows):
        columns.append("iterations")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([format_value(row.get(c)) for c in columns])
    return out.getvalue()


def format_value(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def machine_cores():
    return os.cpu_count() or 1


def worker_counts():
    """1, 2, 4, ... below the cores, the cores, twice the cores (as profile.h)."""
    cores = machine_cores()
    counts = []
    p = 1
    while p < cores:
        counts.append(p)
        p *= 2
    return counts + [cores, 2 * cores]


def powers_of_two(lo, hi, step=1):
    return [1 << e for e in range(lo, hi + 1, step)]


def grain_sizes(quick):
    """The sizes at which analysis/grain.py finds n_eff (as profile.h): every power of two from
    2^10 to 2^22, every third one in the quick profile."""
    return powers_of_two(10, 22, 3 if quick else 1)


def with_grain_sizes(swept, quick):
    """[(n, worker counts)] in increasing n, as profile.h's with_grain_sizes: the script's own
    sizes `swept` at every worker count, and the grain's other sizes at p = cores only (the
    grain is read there, and the full profile keeps to its time)."""
    plan = {n: worker_counts() for n in swept}
    for n in grain_sizes(quick):
        plan.setdefault(n, [machine_cores()])
    return sorted(plan.items())


def partition(xs, parts):
    """`parts` contiguous slices of `xs`, as even as can be (the seed's partitioning)."""
    n = len(xs)
    return [xs[n * i // parts:n * (i + 1) // parts] for i in range(parts)]


def partitioned_reduce(pool, reduce, xs, parts):
    """The seed's partitioned reduce on a multiprocessing pool: each of `parts` contiguous parts
    of `xs` reduced by `reduce` (a picklable function of a list: `sum`, or
    `functools.partial(functools.reduce, op)`) in a task of its own, then the partial results
    by `reduce` in the caller."""
    return reduce(pool.map(reduce, partition(xs, parts), chunksize=1))


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full",
                        help="problem sizes and repetitions (default: full)")
    parser.add_argument("--repetitions", type=int, default=None,
                        help="repetitions of each measurement (default: the profile's)")
    parser.add_argument("--out", required=True, help="tidy CSV file to write")
    args = parser.parse_args()
    if args.repetitions is None:
        args.repetitions = PROFILES[args.profile]["repetitions"]
    if args.repetitions < 1:
        parser.error(f"--repetitions must be at least 1, not {args.repetitions}")
    args.min_time = PROFILES[args.profile]["min_time"]
    return args


# The repetitions of all of a script's measurements run in a random order, as the C++
# binaries' do (Google Benchmark's random interleaving, which the runner turns on with this
# same setting and records in machine.json): the machine's speed drifts over minutes, and
# repetitions run one after the other would share one slow or fast minute.
INTERLEAVE_REPETITIONS = True


def _frozen(call):
    """`call` with its free variables fixed at their present values. Interleaved repetitions run
    after the script's loops have moved on, and a lambda written in a loop would otherwise see
    the loop's last values. (A call that assigns a nonlocal variable then assigns its own copy:
    such a script measures in sequence.)"""
    if not isinstance(call, types.FunctionType) or not call.__closure__:
        return call
    cells = tuple(types.CellType(cell.cell_contents) for cell in call.__closure__)
    return types.FunctionType(call.__code__, call.__globals__, call.__name__,
                              call.__defaults__, cells)


class Table:
    """The tidy rows of one reference script.

    measure() checks and warms up each call at once; write() runs every repetition of every
    measured call, interleaved at random, then writes the rows. Pools a measured call uses come
    from pool() so that they live until the last repetition has run. With interleave=False
    (for a script whose calls cannot run in any order) measure() runs the call's repetitions
    at once, and its rows are in self.rows when it returns.
    """

    def __init__(self, experiment, args, interleave=INTERLEAVE_REPETITIONS, shuffle=None):
        self.experiment = experiment
        self.interleave = interleave
        self.profile = args.profile
        self.repetitions = args.repetitions
        self.min_time = args.min_time
        self.out = args.out
        self.rows = []
        self._measurements = []
        self._pools = []
        self._shuffle = shuffle or random.SystemRandom().shuffle

    @property
    def quick(self):
        return self.profile == "quick"

    def pool(self, processes, threads=False):
        """A multiprocessing pool of `processes` workers (forked processes, or threads with
        `threads`), closed by write() after the last repetition."""
        if threads:
            made = multiprocessing.pool.ThreadPool(processes)
        else:
            made = multiprocessing.get_context("fork").Pool(processes)
        self._pools.append(made)
        return made

    def measure(self, call, *, variant, backend, n, p=None, chunksize=None, check=None,
                before=None, **columns):
        """Registers `call()` to be timed in wall-clock time, `repetitions` times, one row each.

        A first, untimed call warms up (pools, caches) and its result goes to `check`, which
        raises if the answer is wrong. Each repetition runs the call as often as it takes to
        reach the profile's minimum time (decided from the warm-up) and records the mean time
        of one call; `iterations` says how many calls that was. The repetitions run in write().
        `before`, if given, is called untimed before the warm-up and before each repetition: it
        sets what other measurements change (the number of BLAS threads, say).
        """
        if before is not None:
            before()
        start = time.perf_counter()
        result = call()
        first = time.perf_counter() - start
        if check is not None:
            check(result)
        iterations = max(1, math.ceil(self.min_time / first)) if first > 0 else 1
        row = {"experiment": self.experiment, "variant": variant, "backend": backend,
               "n": n, "p": p, "chunksize": chunksize}
        row.update(columns)
        if self.interleave:
            self._measurements.append((_frozen(call), _frozen(before), iterations, row))
        else:
            self._measurements.append((call, before, iterations, row))
            self.run_repetitions()
        return result

    def run_repetitions(self):
        """Times every repetition of every registered call, in a random order when the table
        interleaves (else each call's repetitions one after another), and keeps the rows in the
        order the calls were registered."""
        order = [index for index in range(len(self._measurements))
                 for _ in range(self.repetitions)]
        if self.interleave:
            self._shuffle(order)
        rows = [[] for _ in self._measurements]
        for index in order:
            call, before, iterations, columns = self._measurements[index]
            if before is not None:
                before()
            start = time.perf_counter()
            for _ in range(iterations):
                call()
            seconds = (time.perf_counter() - start) / iterations
            rows[index].append(dict(columns, repetition=len(rows[index]), seconds=seconds,
                                    iterations=iterations))
        for (_, _, _, columns), measured in zip(self._measurements, rows):
            times = sorted(row["seconds"] for row in measured)
            print(" ".join(f"{k}={v}" for k, v in columns.items()
                           if v is not None and k != "experiment")
                  + f" median {times[len(times) // 2] * 1e3:.3f} ms", flush=True)
            self.rows += measured
        self._measurements = []

    def close_pools(self):
        for made in self._pools:
            made.terminate()
            made.join()
        self._pools = []

    def write(self):
        """Runs the repetitions, closes the table's pools, writes the rows."""
        try:
            self.run_repetitions()
        finally:
            self.close_pools()
        if not self.rows:
            raise RuntimeError(f"{self.experiment}: no measurements to write")
        write_atomic(self.out, csv_text(self.rows))


def require(condition, message):
    """Raises when a measured call computed the wrong answer: a wrong result is not a timing."""
    if not condition:
        raise AssertionError(message)
