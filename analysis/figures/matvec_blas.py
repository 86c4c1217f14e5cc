"""Time of each matvec relative to serial OpenBLAS dgemv, per matrix shape: for each backend its
fastest worker count p <= cores."""

import numpy as np

from analysis import style
from analysis.stats import select

EXPERIMENTS = ("matvec_blas",)
BARS = ("openblas", "process", "thread", "serial", "numpy", "cpython_process")


def draw(runs):
    fig, axes = style.panels(runs)
    for column, run in enumerate(runs):
        ax = axes[0][column]
        df = run.data("matvec_blas")
        shapes = sorted({(int(r), int(c)) for r, c in zip(df["rows"], df["cols"])},
                        key=lambda s: (s[0] * s[1], s[0]))
        present = [b for b in BARS if not select(df, backend=b).empty]
        width = 0.8 / max(1, len(present))
        for i, backend in enumerate(present):
            heights, lows, highs, xs = [], [], [], []
            for k, (r, c) in enumerate(shapes):
                shape = select(df, rows=r, cols=c)
                blas = select(shape, backend="openblas_serial")["seconds"].median()
                rows = select(shape, backend=backend)
                rows = rows[rows["p"] <= run.cores]
                if rows.empty or np.isnan(blas):
                    continue
                g = rows.groupby("p")["seconds"]
                p_best = g.median().idxmin()
                best = rows[rows["p"] == p_best]["seconds"]
                xs.append(k + (i - (len(present) - 1) / 2) * width)
                heights.append(best.median() / blas)
                lows.append((best.median() - best.quantile(0.25)) / blas)
                highs.append((best.quantile(0.75) - best.median()) / blas)
            st = style.backend_style(backend)
            ax.bar(xs, heights, width=width, color=st["color"], label=st["label"],
                   yerr=[lows, highs], error_kw={"elinewidth": 0.6, "capsize": 1})
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle=":",
                   label="serial OpenBLAS (1)")
        ax.set_xticks(range(len(shapes)))
        ax.set_xticklabels([f"{r}\u00d7{c}" for r, c in shapes], rotation=20, fontsize=6)
        style.log10_axis(ax, "y")
        ax.set_xlabel("matrix rows \u00d7 columns")
        ax.set_ylabel(f"time / serial OpenBLAS (best p \u2264 {run.cores})")
    style.legend_below(fig, axes, ncol=4)
    return fig
