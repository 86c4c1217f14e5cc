"""Cost per task of map against chunksize, for each pool and CPython's multiprocessing."""

from analysis import style
from analysis.stats import select

EXPERIMENTS = ("pool_overhead",)


def draw(runs):
    fig, axes = style.panels(runs)
    for column, run in enumerate(runs):
        ax = axes[0][column]
        df = select(run.data("pool_overhead"), variant="map")
        df = df.assign(per_task=df["seconds"] / df["n"] * 1e6)
        for backend in style.BACKENDS:
            rows = select(df, backend=backend)
            if rows.empty:
                continue
            if rows["p"].notna().any():  # the pools: p = cores, else their largest p
                ps = set(rows["p"].dropna())
                rows = select(rows, p=run.cores if run.cores in ps else max(ps))
            g = rows.groupby("chunksize")["per_task"]
            table = g.median().to_frame("median").assign(q1=g.quantile(0.25), q3=g.quantile(0.75))
            style.errorbar(ax, table.index, table, backend)
        style.log2_axis(ax, "x", df["chunksize"].dropna().unique())
        style.log10_axis(ax, "y")
        ax.set_xlabel("chunksize (items per message)")
        ax.set_ylabel("time per item (\u00b5s, median, IQR)")
    style.legend_below(fig, axes, ncol=4)
    return fig
