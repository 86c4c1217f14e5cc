"""CPython reference of experiment scan_work: the operator calls of the seed's two-pass scan (and
of reduce-then-scan), counted, at p = 1, 2, 4, 8, against the serial scan's.

The scans are those of scan_two_pass.py, run with a counting operator: each call adds one to a
counter in shared memory that the pool's workers inherit (fork), so the calls made in the
workers' tasks and in the caller (the scan of the parts' totals) are summed in one place. The
count depends on n and the partition only, not on timing. Each repetition runs the scan once
and records its time (slowed by the counter's lock; not a speed measurement) and its counts.

Variants serial (backend cpython_serial), two_pass and reduce_then_scan (cpython_process);
columns calls and calls_per_element, as the C++ binary's counters.
"""

import itertools
import math
import multiprocessing
import operator
import random
import time

import common
from scan_two_pass import reduce_then_scan, serial_scan, two_pass_scan

# Made before any pool, so every worker forked later shares it.
CALLS = multiprocessing.Value("Q", 0)
WORKER_COUNTS = (1, 2, 4, 8)


class CountingAdd:
    """operator.add that counts its calls in CALLS (picklable: workers find CALLS by name)."""

    def __call__(self, a, b):
        with CALLS.get_lock():
            CALLS.value += 1
        return operator.add(a, b)


def take_calls():
    with CALLS.get_lock():
        calls, CALLS.value = CALLS.value, 0
    return calls


def count(table, call, expected, *, variant, backend, n, p=None):
    for repetition in range(table.repetitions):
        take_calls()
        start = time.perf_counter()
        out = call()
        seconds = time.perf_counter() - start
        calls = take_calls()
        common.require(len(out) == n and all(math.isclose(a, b, rel_tol=1e-9)
                                             for a, b in zip(out, expected)),
                       f"{variant}/{backend} n={n} p={p}: wrong scan")
        table.rows.append({"experiment": table.experiment, "variant": variant,
                           "backend": backend, "n": n, "p": p, "chunksize": None,
                           "repetition": repetition, "seconds": seconds, "calls": calls,
                           "calls_per_element": calls / n, "iterations": 1})
    print(f"{variant}/{backend} n={n} p={p} calls={calls} ({calls / n:.4f} per element)",
          flush=True)


def main():
    args = common.parse_args(__doc__)
    table = common.Table("scan_work", args)
    sizes = [1 << 12] if table.quick else [1 << 12, 1 << 16]
    rng = random.Random(20130502)
    data = {n: [rng.random() for _ in range(n)] for n in sizes}
    expected = {n: list(itertools.accumulate(xs)) for n, xs in data.items()}
    op = CountingAdd()
    for n in sizes:
        count(table, lambda: serial_scan(op, data[n]), expected[n], variant="serial",
              backend="cpython_serial", n=n)
    for p in WORKER_COUNTS:
        with multiprocessing.Pool(p) as pool:
            for n in sizes:
                count(table, lambda: two_pass_scan(pool, op, data[n], p), expected[n],
                      variant="two_pass", backend="cpython_process", n=n, p=p)
                count(table, lambda: reduce_then_scan(pool, op, data[n], p), expected[n],
                      variant="reduce_then_scan", backend="cpython_process", n=n, p=p)
    table.write()


if __name__ == "__main__":
    main()
