"""Map time against chunksize relative to the best chunksize, cheap and expensive functions, at
p = cores and the largest n; the dotted line marks chunksize log2(n)."""

import math

from analysis import style
from analysis.stats import select

EXPERIMENTS = ("map_chunksize",)


def draw(runs):
    functions = ("cheap", "expensive")
    fig, axes = style.panels(runs, rows=len(functions), sharey=False)
    for column, run in enumerate(runs):
        df = select(run.data("map_chunksize"), variant="map")
        for row, function in enumerate(functions):
            ax = axes[row][column]
            pooled = select(df, function=function, p=run.cores, backend=["process", "thread"])
            if pooled.empty:
                raise LookupError(f"map_chunksize: no {function} map on the pools at "
                                  f"p={run.cores}")
            n = pooled["n"].max()
            rows = select(df, function=function, p=run.cores)
            for backend in ("process", "thread", "cpython_process"):
                sized = select(rows, backend=backend)
                if sized.empty:
                    continue
                # CPython is measured at smaller n: its largest, marked in the legend.
                n_here = n if backend != "cpython_process" else sized["n"].max()
                g = select(sized, n=n_here).groupby("chunksize")["seconds"]
                if g.ngroups == 0:
                    continue
                best = g.median().min()
                table = (g.median() / best).to_frame("median").assign(
                    q1=g.quantile(0.25) / best, q3=g.quantile(0.75) / best)
                label = style.backend_style(backend)["label"]
                if n_here != n:
                    label += f" (n = $2^{{{int(math.log2(n_here))}}}$)"
                style.errorbar(ax, table.index, table, backend, label=label)
            log2n = int(math.log2(n))
            ax.axvline(log2n, color="tab:red", linestyle=":", linewidth=1,
                       label="chunksize = log$_2$ n (pools' n)")
            ax.axhline(1.1, color="gray", linestyle="--", linewidth=0.7,
                       label="10 % above the best")
            style.log2_axis(ax, "x", rows["chunksize"].unique())
            style.log10_axis(ax, "y")
            ax.set_ylabel("time / time at best chunksize")
            what = f"{function} function, n = $2^{{{log2n}}}$, p = {run.cores}"
            ax.set_title(f"{style.run_title(run)}\n{what}" if row == 0 else what)
        axes[-1][column].set_xlabel("chunksize (items per task)")
    style.legend_below(fig, axes)
    return fig
