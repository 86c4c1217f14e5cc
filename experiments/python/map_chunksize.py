"""CPython reference of experiment map_chunksize: the overhead of multiprocessing.Pool's
dynamic scheduler and the seed's chunk-size question ("log(N) provides a good chunk size").

pool.map over n random floats in [0, 1) of the C++ binary's two functions (column function):
- cheap: 1.5 x + 0.25;
- expensive: a dependent chain of 1 + floor(2047 x) steps y = 0.9999 y + 0.0001 (uneven work,
  about a thousand steps on average),
at the chunksizes of docs/experiments.md: 1, 2, 4, ... up to n/p, and the seed's candidates
floor(log2 n), round(sqrt n), ceil(n/(4p)) (Python's default) and ceil(n/p), leaving out those that would make
more than MAX_TASKS tasks per call. Variant map; backends cpython_process (pool.map; column
tasks: tasks per call) and cpython_serial (the built-in map in the caller).
"""

import math
import random

import common

# A CPython pool task costs tens of microseconds: calls of more tasks than this are left out.
MAX_TASKS = {"quick": 1 << 11, "full": 1 << 13}


def cheap(x):
    return 1.5 * x + 0.25


def expensive(x):
    y = x
    for _ in range(1 + int(x * 2047)):
        y = y * 0.9999 + 0.0001
    return y


FUNCTIONS = {"cheap": cheap, "expensive": expensive}


def chunksizes(n, p, max_tasks):
    """The chunksizes swept for n items on p workers (docs/experiments.md), those that make at
    most `max_tasks` tasks."""
    sizes = set()
    c = 1
    while c <= n // p:
        sizes.add(c)
        c *= 2
    sizes |= {int(math.log2(n)), round(math.sqrt(n)), -(-n // (4 * p)), -(-n // p)}
    return sorted(c for c in sizes if -(-n // c) <= max_tasks)


def main():
    args = common.parse_args(__doc__)
    table = common.Table("map_chunksize", args)
    # Full: the binary's quick sizes.
    sizes = ({"cheap": 10_000, "expensive": 1_000} if table.quick
             else {"cheap": 100_000, "expensive": 5_000})
    rng = random.Random(20130504)
    items = {name: [rng.random() for _ in range(n)] for name, n in sizes.items()}
    expected = {name: list(map(FUNCTIONS[name], items[name])) for name in sizes}

    def check(name):
        return lambda out: common.require(out == expected[name], f"{name}: wrong results")

    for name, n in sizes.items():
        table.measure(lambda: list(map(FUNCTIONS[name], items[name])), variant="map",
                      backend="cpython_serial", n=n, function=name, check=check(name))
    for p in common.worker_counts():
        pool = table.pool(p)
        for name, n in sizes.items():
            for chunksize in chunksizes(n, p, MAX_TASKS[args.profile]):
                table.measure(
                    lambda: pool.map(FUNCTIONS[name], items[name], chunksize=chunksize),
                    variant="map", backend="cpython_process", n=n, p=p,
                    chunksize=chunksize, function=name, tasks=-(-n // chunksize),
                    check=check(name))
    table.write()


if __name__ == "__main__":
    main()
