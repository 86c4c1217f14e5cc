"""CPython reference of experiment pack: the seed's scan-based pack on multiprocessing.Pool.

- scan_pack (the seed's): cut the list into p parts; each worker flags its
  elements, scans the flags (the primitive scan) to find each kept element's index in the
  part's output, and writes the part's output; the caller concatenates the parts in order,
  which puts each at its offset, so no second pass propagates offsets.
- serial: a list comprehension in the caller.

Data: n random floats in [0, 1); an element is kept if it is below keep_pct / 100.
Backends cpython_serial and cpython_process; column keep_pct.
"""

import operator
import random

import common
from scan_two_pass import serial_scan


def pack_part(args):
    part, threshold = args
    flags = [1 if x < threshold else 0 for x in part]
    positions = serial_scan(operator.add, flags)
    out = [None] * (positions[-1] if positions else 0)
    for x, keep, position in zip(part, flags, positions):
        if keep:
            out[position - 1] = x
    return out


def scan_pack(pool, xs, threshold, parts):
    packed = pool.map(pack_part, [(part, threshold) for part in common.partition(xs, parts)],
                      chunksize=1)
    return [x for part in packed for x in part]


def main():
    args = common.parse_args(__doc__)
    table = common.Table("pack", args)
    # The C++ binary's sizes and keep ratios, as far as CPython gets through them in about a
    # minute.
    sizes = [1 << 12, 1 << 18] if table.quick else common.powers_of_two(13, 21, 4)
    keep_pcts = [50] if table.quick else [1, 10, 50, 90]
    rng = random.Random(20130503)
    data = {n: [rng.random() for _ in range(n)] for n in sizes}

    def check(n, keep_pct):
        expected = [x for x in data[n] if x < keep_pct / 100]
        return lambda out: common.require(out == expected, f"n={n} keep_pct={keep_pct}: "
                                          f"{len(out)} kept, expected {len(expected)}")

    for n in sizes:
        for keep_pct in keep_pcts:
            table.measure(lambda: [x for x in data[n] if x < keep_pct / 100], variant="serial",
                          backend="cpython_serial", n=n, keep_pct=keep_pct,
                          check=check(n, keep_pct))
    for p in common.worker_counts():
        pool = table.pool(p)
        for n in sizes:
            for keep_pct in keep_pcts:
                table.measure(lambda: scan_pack(pool, data[n], keep_pct / 100, p),
                              variant="scan_pack", backend="cpython_process", n=n, p=p,
                              keep_pct=keep_pct, check=check(n, keep_pct))
    table.write()


if __name__ == "__main__":
    main()
