"""CPython reference of experiment scan_two_pass: the seed's converter from a serial scan to a
parallel scan on multiprocessing.Pool, beside the reduce it is compared with.

- two_pass (the seed's): cut the list into p parts; pass 1 scans each part serially in a
  worker; the caller scans the parts' terminal elements into offsets; pass 2 propagates each
  offset across its part in a worker. Offsets and parts reach pass 2 through a zip, as in the
  seed (in Python 3 a generator, which pool.map first turns into a list).
- reduce_then_scan (not in the seed): pass 1 only reduces each part; the caller scans the p
  sums into offsets; pass 2 scans each part from its offset.
- serial: the serial scan in the caller; serial_reduce and partitioned: the serial and the
  partitioned reduce (as in reduce_tree_vs_partitioned) on the same data, for the seed's claim
  that the scan scales about a factor 2 worse than the reduce.

Inclusive scans of n random floats under operator.add; the serial scan is a plain loop.
Backends cpython_serial and cpython_process.
"""

import functools
import itertools
import math
import operator
import random

import common


def serial_scan(op, xs):
    """Inclusive scan, the serial algorithm that the converter parallelises."""
    out = []
    acc = None
    for i, x in enumerate(xs):
        acc = x if i == 0 else op(acc, x)
        out.append(acc)
    return out


def scan_part(args):
    op, part = args
    return serial_scan(op, part)


def offset_part(args):
    op, offset, part = args
    return [op(offset, x) for x in part]


def reduce_part(args):
    op, part = args
    return functools.reduce(op, part)


def scan_part_from(args):
    op, offset, part = args
    out = []
    acc = offset
    for x in part:
        acc = x if acc is None else op(acc, x)
        out.append(acc)
    return out


def two_pass_scan(pool, op, xs, parts):
    scanned = pool.map(scan_part, [(op, part) for part in common.partition(xs, parts)],
                       chunksize=1)
    offsets = serial_scan(op, [part[-1] for part in scanned[:-1]])
    updated = pool.map(offset_part, zip(itertools.repeat(op), offsets, scanned[1:]), chunksize=1)
    return list(itertools.chain(scanned[0], *updated))


def reduce_then_scan(pool, op, xs, parts):
    pieces = common.partition(xs, parts)
    sums = pool.map(reduce_part, [(op, piece) for piece in pieces], chunksize=1)
    offsets = [None] + serial_scan(op, sums[:-1])
    scanned = pool.map(scan_part_from, [(op, offset, piece)
                                        for offset, piece in zip(offsets, pieces)], chunksize=1)
    return list(itertools.chain.from_iterable(scanned))


# The partitioned reduce's function of a part (and of the partial results).
add_all = functools.partial(functools.reduce, operator.add)


def main():
    args = common.parse_args(__doc__)
    table = common.Table("scan_two_pass", args)
    # The C++ binary's sizes, as far as CPython gets through them in about a minute.
    sizes = [1 << 12, 1 << 18] if table.quick else common.powers_of_two(10, 19, 3)
    rng = random.Random(20130502)
    data = {n: [rng.random() for _ in range(n)] for n in sizes}
    expected = {n: list(itertools.accumulate(xs)) for n, xs in data.items()}

    def check_scan(n):
        def check(out):
            common.require(len(out) == n, f"n={n}: scan has {len(out)} elements")
            common.require(all(math.isclose(a, b, rel_tol=1e-9)
                               for a, b in zip(out, expected[n])), f"n={n}: wrong scan")
        return check

    def check_sum(n):
        return lambda total: common.require(math.isclose(total, expected[n][-1], rel_tol=1e-9),
                                            f"n={n}: sum {total}")

    for n in sizes:
        table.measure(lambda: serial_scan(operator.add, data[n]), variant="serial",
                      backend="cpython_serial", n=n, check=check_scan(n))
        table.measure(lambda: functools.reduce(operator.add, data[n]), variant="serial_reduce",
                      backend="cpython_serial", n=n, check=check_sum(n))
    for p in common.worker_counts():
        pool = table.pool(p)
        for n in sizes:
            table.measure(lambda: two_pass_scan(pool, operator.add, data[n], p),
                          variant="two_pass", backend="cpython_process", n=n, p=p,
                          check=check_scan(n))
            table.measure(lambda: reduce_then_scan(pool, operator.add, data[n], p),
                          variant="reduce_then_scan", backend="cpython_process", n=n, p=p,
                          check=check_scan(n))
            table.measure(lambda: common.partitioned_reduce(pool, add_all, data[n], p),
                          variant="partitioned", backend="cpython_process", n=n, p=p,
                          check=check_sum(n))
    table.write()


if __name__ == "__main__":
    main()
