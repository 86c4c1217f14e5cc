"""CPython reference of experiment matvec_blas: dense y = A x.

The seed: "The clear winner is serial numpy. There is just no way to beat optimized C BLAS for
dense numerical linear algebra." Measured here: numpy.dot(A, x) (OpenBLAS dgemv) with one thread
and with one per core, and the seed's style of parallel matvec: the rows partitioned into one
contiguous block per worker of a multiprocessing.Pool, each block (a list of row lists, pickled)
multiplied by x in pure Python.
"""

import ctypes

import numpy

import common

BLAS = ctypes.CDLL("libblas.so.3")  # the library numpy is linked to (OpenBLAS here)


def rows_times_x(args):
    rows, x = args
    return [sum(a * b for a, b in zip(row, x)) for row in rows]


def partitioned_matvec(pool, rows, x, p):
    m = len(rows)
    blocks = [(rows[m * i // p:m * (i + 1) // p], x) for i in range(p)]
    y = []
    for part in pool.map(rows_times_x, blocks, chunksize=1):
        y.extend(part)
    return y


def shapes(quick):
    """(rows, cols) pairs: square, tall and wide, the same as the C++ experiment's (shapes() in
    matvec_blas.cc), so that every row here has its serial OpenBLAS reference there."""
    if quick:
        return [(256, 256), (2048, 2048), (1 << 16, 16), (16, 1 << 16)]
    return [(1024, 1024), (8192, 8192), (1 << 21, 16), (16, 1 << 21), (1 << 16, 1024),
            (1024, 1 << 16)]


def main():
    args = common.parse_args(__doc__)
    table = common.Table("matvec_blas", args)
    rng = numpy.random.default_rng(42)
    python_limit = 1 << 20  # elements; pure Python is slow
    pools = {p: table.pool(p) for p in common.worker_counts()}
    for rows, cols in shapes(table.quick):
        a = rng.uniform(-1, 1, (rows, cols))
        x = rng.uniform(-1, 1, cols)
        exact = a @ x
        # Every order of summing a row errs by at most gamma(cols + 1) * sum_j |a_ij x_j|.
        u = 2.0 ** -53
        bound = (cols + 1) * u / (1 - (cols + 1) * u) * (numpy.abs(a) @ numpy.abs(x)) * 2

        def check(y):
            common.require(bool(numpy.all(numpy.abs(numpy.asarray(y) - exact) <= bound)),
                           f"matvec {rows}x{cols}: result outside the rounding bound")

        n = rows * cols
        for threads in sorted({1, common.machine_cores()}):
            table.measure(lambda: numpy.dot(a, x), variant="matvec", backend="numpy", n=n,
                          p=threads, check=check, rows=rows, cols=cols,
                          before=lambda: BLAS.openblas_set_num_threads(threads))
        if n > python_limit:
            continue
        row_lists = a.tolist()
        x_list = x.tolist()
        table.measure(lambda: rows_times_x((row_lists, x_list)), variant="matvec",
                      backend="cpython_serial", n=n, p=1, check=check, rows=rows, cols=cols)
        for p in common.worker_counts():
            pool = pools[p]
            table.measure(lambda: partitioned_matvec(pool, row_lists, x_list, p),
                          variant="matvec", backend="cpython_process", n=n, p=p,
                          check=check, rows=rows, cols=cols)
    table.write()


if __name__ == "__main__":
    main()
