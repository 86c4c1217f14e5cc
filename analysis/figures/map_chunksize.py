"""Map time against chunksize relative to the best chunksize, cheap and expensive functions, at
p = cores and the largest n; the dotted line marks chunksize log2(n)."""

import math

from analysis import style
from analysis.stats import select

EXPERIMENTS = ("map_chunksize",)


def draw(runs):
    variants = ("cheap", "expensive")
    fig, axes = style.panels(runs, rows=len(variants), sharey=False)
    for column, run in enumerate(runs):
        df = run.data("map_chunksize")
        n = df["n"].max()
        for row, variant in enumerate(variants):
            ax = axes[row][column]
            rows = select(df, variant=variant, n=n, p=run.cores)
            if rows.empty:
                raise LookupError(f"map_chunksize: no '{variant}' map at n={n}, p={run.cores}")
            for backend in ("process", "thread"):
                g = select(rows, backend=backend).groupby("chunksize")["seconds"]
                if g.ngroups == 0:
                    continue
                best = g.median().min()
                table = (g.median() / best).to_frame("median").assign(
                    q1=g.quantile(0.25) / best, q3=g.quantile(0.75) / best)
                style.errorbar(ax, table.index, table, backend)
            log2n = int(round(math.log2(n)))
            ax.axvline(log2n, color="tab:red", linestyle=":", linewidth=1,
                       label="chunksize = log$_2$ n")
            ax.axhline(1.1, color="gray", linestyle="--", linewidth=0.7,
                       label="10 % above the best")
            style.log2_axis(ax, "x", rows["chunksize"].unique())
            style.log10_axis(ax, "y")
            ax.set_ylabel("time / time at best chunksize")
            what = f"{variant} function, n = $2^{{{log2n}}}$, p = {run.cores}"
            ax.set_title(f"{style.run_title(run)}\n{what}" if row == 0 else what)
        axes[-1][column].set_xlabel("chunksize (items per task)")
    style.legend_below(fig, axes)
    return fig
