"""Word count: throughput against p for the C++ pools and CPython (top), and speedup over each
one's serial run (bottom)."""

from analysis import style
from analysis.figures.common import ideal, speedup_vs, unity
from analysis.stats import select

EXPERIMENTS = ("mapreduce_wordcount",)
CURVES = (("process", "serial"), ("thread", "serial"), ("cpython_process", "cpython_serial"))


def draw(runs):
    fig, axes = style.panels(runs, rows=2, sharey=False)
    for column, run in enumerate(runs):
        df = run.data("mapreduce_wordcount")
        df = df.assign(mbps=df["n"] / df["seconds"] / 1e6)
        serial = df["backend"].isin(["serial", "cpython_serial"])
        df.loc[serial, "p"] = df.loc[serial, "p"].fillna(1)  # serial runs drawn at p = 1
        ax = axes[0][column]
        for backend in ("serial", "process", "thread", "cpython_serial", "cpython_process"):
            rows = select(df, backend=backend)
            if rows.empty:
                continue
            g = rows.groupby("p")["mbps"]
            table = g.median().to_frame("median").assign(q1=g.quantile(0.25), q3=g.quantile(0.75))
            style.errorbar(ax, table.index, table, backend)
        ps = df["p"].dropna().unique()
        style.log2_axis(ax, "x", ps)
        style.log10_axis(ax, "y")
        ax.set_ylabel("throughput (MB of text / s)")
        ax = axes[1][column]
        for backend, serial in CURVES:
            speedup_vs(ax, df, {"backend": serial}, {"backend": backend}, "p", backend)
        ideal(ax, ps, run.cores)
        unity(ax)
        style.log2_axis(ax, "x", ps)
        ax.set_xlabel("workers p")
        ax.set_ylabel("speedup over own serial run")
    style.legend_below(fig, axes, ncol=3)
    return fig
