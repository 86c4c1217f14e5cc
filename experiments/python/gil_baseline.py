"""CPython reference of experiment gil_baseline: the same CPU-bound kernel (the sum over i of
the low 32 bits of i * 2654435761, a fixed total of n iterations split evenly among p
workers) run serially, on p threads (multiprocessing.pool.ThreadPool, i.e. `threading`, which
the GIL serialises) and on p processes (multiprocessing.Pool, one GIL each).

Backends cpython_serial, cpython_thread, cpython_process; variant `loop` as in the C++
binary, whose answer is the same number.
"""

import common


def loop(begin, end):
    total = 0
    for i in range(begin, end):
        total += (i * 2654435761) & 0xFFFFFFFF
    return total


def loop_task(args):
    """A pool task: the seed hands tasks to pool.map as argument tuples."""
    begin, end = args
    return loop(begin, end)


def split(n, parts):
    return [(n * i // parts, n * (i + 1) // parts) for i in range(parts)]


def main():
    args = common.parse_args(__doc__)
    table = common.Table("gil_baseline", args)
    sizes = [1 << 20] if table.quick else [1 << 20, 1 << 22]
    for n in sizes:
        expected = loop(0, n)

        def check(total, n=n, expected=expected):
            common.require(total == expected, f"n={n}: sum {total}, expected {expected}")

        table.measure(lambda: loop(0, n), variant="loop", backend="cpython_serial", n=n,
                      check=check)
    for p in common.worker_counts():
        pools = (("cpython_thread", table.pool(p, threads=True)),
                 ("cpython_process", table.pool(p)))
        for backend, pool in pools:
            for n in sizes:
                tasks = split(n, p)
                expected = loop(0, n)
                table.measure(lambda: sum(pool.map(loop_task, tasks, chunksize=1)),
                              variant="loop", backend=backend, n=n, p=p,
                              check=lambda total, e=expected: common.require(
                                  total == e, f"sum {total}, expected {e}"))
    table.write()


if __name__ == "__main__":
    main()
