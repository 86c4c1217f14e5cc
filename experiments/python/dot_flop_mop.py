"""CPython reference of experiment dot_flop_mop: the inner product against the reduction.

The seed: "[The inner product] is interesting because we increase the flop to mop ratio. This
should be helpful for achieving scalability." Written in the seed's style: Python lists of floats,
one contiguous part per worker sent through multiprocessing.Pool.map (pickled), each part summed
(reduce) or multiplied and summed (dot) by the worker in pure Python, the p partial results added
by the caller; and numpy.dot (OpenBLAS) with one thread and with one thread per core.
"""

import ctypes
import math
import random

import numpy

import common

BLAS = ctypes.CDLL("libblas.so.3")  # the library numpy is linked to (OpenBLAS here)


def dot_part(pair):
    xs, ys = pair
    return sum(x * y for x, y in zip(xs, ys))


def parts(n, p):
    return [(n * i // p, n * (i + 1) // p) for i in range(p)]


def partitioned_dot(pool, xs, ys, p):
    return sum(pool.map(dot_part, [(xs[b:e], ys[b:e]) for b, e in parts(len(xs), p)],
                        chunksize=1))


def within(bound_terms, n, expected, label):
    """Any summation order of n terms errs by at most gamma(n) * sum|terms| (u = 2^-53)."""
    u = 2.0 ** -53
    bound = n * u / (1 - n * u) * bound_terms + 1e-300

    def check(value):
        common.require(abs(value - expected) <= bound,
                       f"{label}: {value} differs from {expected} by more than {bound}")
    return check


def main():
    args = common.parse_args(__doc__)
    table = common.Table("dot_flop_mop", args)
    rng = random.Random(42)
    python_sizes = common.powers_of_two(12, 16, 4) if table.quick else common.powers_of_two(16, 20, 2)
    numpy_sizes = python_sizes if table.quick else python_sizes + [1 << 25]

    pools = {p: table.pool(p) for p in common.worker_counts()}
    for n in python_sizes:
        xs = [rng.uniform(-1, 1) for _ in range(n)]
        ys = [rng.uniform(-1, 1) for _ in range(n)]
        exact_sum = math.fsum(xs)
        exact_dot = math.fsum(x * y for x, y in zip(xs, ys))
        sum_check = within(sum(abs(x) for x in xs), n, exact_sum, "reduce")
        # The products themselves are rounded: one more unit of error per term.
        dot_check = within(2 * sum(abs(x * y) for x, y in zip(xs, ys)), n + 1, exact_dot, "dot")
        table.measure(lambda: sum(xs), variant="reduce", backend="cpython_serial", n=n, p=1,
                      check=sum_check)
        table.measure(lambda: sum(x * y for x, y in zip(xs, ys)), variant="dot",
                      backend="cpython_serial", n=n, p=1, check=dot_check)
        for p in common.worker_counts():
            pool = pools[p]
            table.measure(lambda: common.partitioned_reduce(pool, sum, xs, p), variant="reduce",
                          backend="cpython_process", n=n, p=p, check=sum_check)
            table.measure(lambda: partitioned_dot(pool, xs, ys, p), variant="dot",
                          backend="cpython_process", n=n, p=p, check=dot_check)

    nrng = numpy.random.default_rng(42)
    for n in numpy_sizes:
        x = nrng.uniform(-1, 1, n)
        y = nrng.uniform(-1, 1, n)
        exact_sum = math.fsum(x)
        exact_dot = math.fsum(x * y)
        sum_check = within(float(numpy.abs(x).sum()), n, exact_sum, "numpy sum")
        dot_check = within(2 * float(numpy.abs(x * y).sum()), n + 1, exact_dot, "numpy dot")
        for threads in sorted({1, common.machine_cores()}):
            table.measure(lambda: float(numpy.dot(x, y)), variant="dot", backend="numpy", n=n,
                          p=threads, check=dot_check,
                          before=lambda: BLAS.openblas_set_num_threads(threads))
        # numpy's sum is its own pairwise loop, always one thread.
        table.measure(lambda: float(x.sum()), variant="reduce", backend="numpy", n=n, p=1,
                      check=sum_check)
    table.write()


if __name__ == "__main__":
    main()
