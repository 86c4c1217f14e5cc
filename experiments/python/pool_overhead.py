"""CPython reference of experiment pool_overhead: the cost of a task on multiprocessing.Pool.

The same work as the C++ binary, on a trivial function (x -> x * x): apply (n round trips one
after another, pool.apply_async(f, (i,)).get()), apply_async (n submissions, then every get()),
both at p = the cores; and pool.map over n integers at every worker count and chunksize 1, 2, 4,
..., 1024 and Python's default (chunksize=None, recorded as its value ceil(n / (4 p))).
Pools use the fork start method, Python's default on Linux and the C++ pool's semantics.
Backend cpython_process; seconds is the whole batch.
"""


import common


def square(x):
    return x * x


def python_default_chunksize(n, p):
    chunksize, extra = divmod(n, 4 * p)  # multiprocessing.Pool._map_async
    return max(1, chunksize + (1 if extra else 0))


def main():
    args = common.parse_args(__doc__)
    table = common.Table("pool_overhead", args)
    apply_tasks = 256 if table.quick else 2048
    n = 1 << (12 if table.quick else 15)
    items = list(range(n))
    expected = [x * x for x in items]
    expected_total = sum(x * x for x in range(apply_tasks))

    def check_total(total):
        common.require(total == expected_total, "apply: wrong results")

    def check_map(out):
        common.require(out == expected, "map: wrong results")

    cores = common.machine_cores()
    pool = table.pool(cores)

    def apply_round_trips():
        return sum(pool.apply_async(square, (i,)).get() for i in range(apply_tasks))

    def apply_batch():
        results = [pool.apply_async(square, (i,)) for i in range(apply_tasks)]
        return sum(r.get() for r in results)

    table.measure(apply_round_trips, variant="apply", backend="cpython_process",
                  n=apply_tasks, p=cores, check=check_total)
    table.measure(apply_batch, variant="apply_async", backend="cpython_process",
                  n=apply_tasks, p=cores, check=check_total)

    sweep = common.powers_of_two(0, 10, 2 if table.quick else 1)
    for p in common.worker_counts():
        pool = table.pool(p)
        default = python_default_chunksize(n, p)
        for chunksize in sweep + ([] if default in sweep else [default]):
            # chunksize=None is Python's default; passing its value does the same.
            given = None if chunksize == default else chunksize
            table.measure(lambda: pool.map(square, items, chunksize=given), variant="map",
                          backend="cpython_process", n=n, p=p, chunksize=chunksize,
                          chunks=-(-n // chunksize), check=check_map)
    table.write()


if __name__ == "__main__":
    main()
