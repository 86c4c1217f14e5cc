"""CPython reference of experiment reduce_tree_vs_partitioned, the seed's two reductions on
multiprocessing.Pool:

- tree: the PRAM algorithm. Each round combines evens[i] and odds[i]; every pair is its own
  pool task (pool.map over the pairs with chunksize 1), log2(n) rounds.
- partitioned: one contiguous part per worker, reduced serially in the worker; the caller
  reduces the p partial results.
- serial: functools.reduce in the caller.

Sizes: the C++ binary's own at every worker count, and the grain's (common.grain_sizes, as
profile.h) at p = cores.

Data: a list of n random floats, operator.add; a tree task is an argument tuple, a partitioned
one a part of the list (common.partitioned_reduce), as in the seed.
Variants serial (backend cpython_serial), tree and partitioned (cpython_process).
"""

import functools
import math
import operator
import random

import common


def combine_pair(args):
    op, left, right = args
    return op(left, right)


# The partitioned reduce's function of a part (and of the partial results).
add_all = functools.partial(functools.reduce, operator.add)


def tree_reduce(pool, op, xs):
    while len(xs) > 1:
        evens, odds = xs[0::2], xs[1::2]
        # An odd element out has no partner this round and goes up as it is.
        carried = evens[len(odds):]
        xs = pool.map(combine_pair, [(op, a, b) for a, b in zip(evens, odds)], chunksize=1)
        xs += carried
    return xs[0]


def main():
    args = common.parse_args(__doc__)
    table = common.Table("reduce_tree_vs_partitioned", args)
    # The C++ binary's sizes at every p, as far as CPython gets through them in about a
    # minute, and the grain's sizes at p = cores: n_eff, against OpenMP's, decides the seed's
    # coarse-grain claim (analysis/claims_processes.py), so CPython's sweep must reach as far.
    if table.quick:
        tree_sizes, swept = [1 << 10], [1 << 10, 1 << 16]
    else:
        tree_sizes, swept = [1 << 10, 1 << 13], common.powers_of_two(10, 19, 3)
    plan = common.with_grain_sizes(swept, table.quick)
    # Every size's list is a prefix of the largest one: the floats are made (and held) once.
    rng = random.Random(20130501)
    largest = [rng.random() for _ in range(max(max(n for n, _ in plan), max(tree_sizes)))]
    data = {n: largest[:n] for n in sorted({n for n, _ in plan} | set(tree_sizes))}
    exact = {n: math.fsum(xs) for n, xs in data.items()}

    def check(n):
        return lambda total: common.require(
            math.isclose(total, exact[n], rel_tol=1e-9), f"n={n}: sum {total}, not {exact[n]}")

    for n, _ in plan:
        table.measure(lambda: functools.reduce(operator.add, data[n]), variant="serial",
                      backend="cpython_serial", n=n, check=check(n))
    for p in common.worker_counts():
        pool = table.pool(p)
        for n in tree_sizes:
            table.measure(lambda: tree_reduce(pool, operator.add, data[n]), variant="tree",
                          backend="cpython_process", n=n, p=p, check=check(n))
        for n, workers in plan:
            if p in workers:
                table.measure(lambda: common.partitioned_reduce(pool, add_all, data[n], p),
                              variant="partitioned", backend="cpython_process", n=n, p=p,
                              check=check(n))
    table.write()


if __name__ == "__main__":
    main()
