"""Time of each matvec relative to serial OpenBLAS dgemv, per matrix shape that has a serial
OpenBLAS time: for each backend its fastest worker count p <= cores (median, IQR). Left, the
compiled ones (C++ and numpy) on a linear axis, where their differences of tens of percent
show; right, the seed's pure-Python matvec in CPython, hundreds of times slower, on its own
logarithmic axis."""

import numpy as np

from analysis import style
from analysis.stats import select

EXPERIMENTS = ("matvec_blas",)
COMPILED = ("openblas", "process", "thread", "openmp", "serial", "numpy")
PURE_PYTHON = ("cpython_serial", "cpython_process")


def _shapes(df):
    blas = select(df, backend="openblas_serial")  # the shapes the C++ binary measured
    return sorted({(int(r), int(c)) for r, c in zip(blas["rows"], blas["cols"])},
                  key=lambda s: (s[0] * s[1], s[0]))


def _relative(df, shapes, backend, cores):
    """Per shape index: the backend's time at its fastest p <= cores over serial OpenBLAS."""
    found = []
    for k, (r, c) in enumerate(shapes):
        shape = select(df, rows=r, cols=c)
        blas = select(shape, backend="openblas_serial")["seconds"].median()
        rows = select(shape, backend=backend)
        rows = rows[rows["p"].fillna(1) <= cores].fillna({"p": 1})
        if rows.empty or np.isnan(blas):
            continue
        p_best = rows.groupby("p")["seconds"].median().idxmin()
        found.append((k, rows[rows["p"] == p_best]["seconds"] / blas))
    return found


def _draw_backends(ax, df, shapes, backends, cores):
    present = [b for b in backends if not select(df, backend=b).empty]
    offset = 0.7 / max(1, len(present))
    for i, backend in enumerate(present):
        found = _relative(df, shapes, backend, cores)
        if not found:
            continue
        xs = [k + (i - (len(present) - 1) / 2) * offset for k, _ in found]
        medians = [r.median() for _, r in found]
        lows = [r.median() - r.quantile(0.25) for _, r in found]
        highs = [r.quantile(0.75) - r.median() for _, r in found]
        ax.errorbar(xs, medians, yerr=[lows, highs], linestyle="none", capsize=1.5,
                    elinewidth=0.7, markersize=5, **style.backend_style(backend))
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle=":",
               label="serial OpenBLAS dgemv (= 1)")
    ax.set_xticks(range(len(shapes)))
    ax.set_xlim(-0.5, len(shapes) - 0.5)


def draw(runs):
    fig, axes = style.plt.subplots(len(runs), 2, squeeze=False, gridspec_kw={
        "width_ratios": (3, 1)}, figsize=(style.TEXT_WIDTH_IN,
                                          style.PANEL_HEIGHT_IN * 1.1 * len(runs)))
    for row, run in enumerate(runs):
        df = run.data("matvec_blas")
        shapes = _shapes(df)
        labels = [f"{r}\n\u00d7 {c}" for r, c in shapes]
        ax = axes[row][0]
        _draw_backends(ax, df, shapes, COMPILED, run.cores)
        ax.set_ylim(bottom=0)
        ax.set_xticklabels(labels, fontsize=6)
        ax.set_title(f"{style.run_title(run)}: compiled code (linear axis)")
        ax.set_ylabel("time / serial OpenBLAS")
        ax = axes[row][1]
        _draw_backends(ax, df, shapes, PURE_PYTHON, run.cores)
        measured = [k for k, (r, c) in enumerate(shapes)
                    if not select(df, rows=r, cols=c, backend=list(PURE_PYTHON)).empty]
        if measured:  # CPython runs only the smaller shapes
            ax.set_xlim(min(measured) - 0.5, max(measured) + 0.5)
        ax.set_xticklabels(labels, fontsize=6)
        style.log10_axis(ax, "y")
        ax.set_title("pure Python (log axis)")
    for ax in axes[-1]:
        ax.set_xlabel("matrix rows \u00d7 columns")
    style.legend_below(fig, axes, ncol=4)
    return fig
