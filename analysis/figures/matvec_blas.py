"""Time of each matvec relative to serial OpenBLAS dgemv, per matrix shape that has a serial
OpenBLAS time: for each backend its fastest worker count p <= cores (median, IQR)."""

import numpy as np

from analysis import style
from analysis.stats import select

EXPERIMENTS = ("matvec_blas",)
BACKENDS = ("openblas", "process", "thread", "openmp", "serial", "numpy", "cpython_process")


def draw(runs):
    fig, axes = style.panels(runs)
    for column, run in enumerate(runs):
        ax = axes[0][column]
        df = run.data("matvec_blas")
        blas = select(df, backend="openblas_serial")  # the shapes the C++ binary measured
        shapes = sorted({(int(r), int(c)) for r, c in zip(blas["rows"], blas["cols"])},
                        key=lambda s: (s[0] * s[1], s[0]))
        present = [b for b in BACKENDS if not select(df, backend=b).empty]
        offset = 0.7 / max(1, len(present))
        for i, backend in enumerate(present):
            xs, medians, lows, highs = [], [], [], []
            for k, (r, c) in enumerate(shapes):
                shape = select(df, rows=r, cols=c)
                blas = select(shape, backend="openblas_serial")["seconds"].median()
                rows = select(shape, backend=backend)
                rows = rows[rows["p"].fillna(1) <= run.cores].fillna({"p": 1})
                if rows.empty or np.isnan(blas):
                    continue
                p_best = rows.groupby("p")["seconds"].median().idxmin()
                best = rows[rows["p"] == p_best]["seconds"] / blas
                xs.append(k + (i - (len(present) - 1) / 2) * offset)
                medians.append(best.median())
                lows.append(best.median() - best.quantile(0.25))
                highs.append(best.quantile(0.75) - best.median())
            st = style.backend_style(backend)
            ax.errorbar(xs, medians, yerr=[lows, highs], linestyle="none", capsize=1.5,
                        elinewidth=0.7, markersize=5, **st)
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle=":",
                   label="serial OpenBLAS dgemv (= 1)")
        ax.set_xticks(range(len(shapes)))
        ax.set_xticklabels([f"{r}\n\u00d7 {c}" for r, c in shapes], fontsize=6)
        ax.set_xlim(-0.5, len(shapes) - 0.5)
        style.log10_axis(ax, "y")
        ax.set_xlabel("matrix rows \u00d7 columns")
        ax.set_ylabel("time / serial OpenBLAS")
    style.legend_below(fig, axes, ncol=4)
    return fig
