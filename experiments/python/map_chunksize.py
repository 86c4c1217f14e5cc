"""CPython reference of experiment map_chunksize: the overhead of multiprocessing.Pool's
dynamic scheduler and the seed's chunk-size question ("log(N) provides a good chunk size").

pool.map of a cheap function (one multiplication) and of an expensive one (a loop of about
50 us) over N integers, at chunksizes 1, 2, 4, ... up to log2 N, then log2 N, sqrt N, N/(4p)
(Python's default) and N/p; and the built-in map in the caller for reference.
Variant map; backends cpython_process (column chunksize) and cpython_serial; column function
(cheap or expensive).
"""

import math
import multiprocessing

import common

EXPENSIVE_STEPS = 1000


def cheap(x):
    return x * x


def expensive(x):
    total = x
    for i in range(EXPENSIVE_STEPS):
        total = (total * 31 + i) & 0xFFFFFFFF
    return total


FUNCTIONS = {"cheap": cheap, "expensive": expensive}


def chunksizes(n, p):
    """1, 2, 4, ... up to log2 N, then log2 N, sqrt N, N/(4p), N/p: the seed's candidates."""
    log_n = max(1, int(math.log2(n)))
    sizes = {1 << e for e in range(log_n.bit_length()) if 1 << e <= log_n}
    sizes |= {log_n, math.isqrt(n), max(1, n // (4 * p)), max(1, n // p)}
    return sorted(sizes)


def main():
    args = common.parse_args(__doc__)
    table = common.Table("map_chunksize", args)
    if table.quick:
        sizes = {"cheap": [1 << 12], "expensive": [1 << 10]}
    else:
        sizes = {"cheap": [1 << 12, 1 << 14], "expensive": [1 << 10, 1 << 12]}
    items = {n: list(range(n)) for ns in sizes.values() for n in ns}

    def check(name, n):
        expected = list(map(FUNCTIONS[name], items[n]))
        return lambda out: common.require(out == expected, f"{name} n={n}: wrong results")

    for name, ns in sizes.items():
        for n in ns:
            table.measure(lambda: list(map(FUNCTIONS[name], items[n])), variant="map",
                          backend="cpython_serial", n=n, function=name, check=check(name, n))
    for p in common.worker_counts():
        with multiprocessing.Pool(p) as pool:
            for name, ns in sizes.items():
                for n in ns:
                    for chunksize in chunksizes(n, p):
                        table.measure(
                            lambda: pool.map(FUNCTIONS[name], items[n], chunksize=chunksize),
                            variant="map", backend="cpython_process", n=n, p=p,
                            chunksize=chunksize, function=name, check=check(name, n))
    table.write()


if __name__ == "__main__":
    main()
