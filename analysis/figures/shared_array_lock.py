"""Time per write against p: locked SharedArray and raw RawArray, disjoint and contended."""

from analysis import style
from analysis.stats import select

EXPERIMENTS = ("shared_array_lock",)


def draw(runs):
    fig, axes = style.panels(runs)
    for column, run in enumerate(runs):
        ax = axes[0][column]
        df = run.data("shared_array_lock")
        df = df.assign(per_write=df["seconds"] / df["n"] * 1e9)
        for variant, backend in (("locked", "process"), ("raw", "process"), ("locked", "thread"),
                                 ("raw", "thread")):
            for contended, line in ((0, "-"), (1, "--")):
                rows = select(df, variant=variant, backend=backend, contended=contended)
                if rows.empty:
                    continue
                g = rows.groupby("p")["per_write"]
                table = g.median().to_frame("median").assign(q1=g.quantile(0.25),
                                                             q3=g.quantile(0.75))
                st = style.backend_style(backend)
                label = (f"{'SharedArray (locked)' if variant == 'locked' else 'RawArray'}, "
                         f"{'contended' if contended else 'disjoint'}, {st['label']}")
                style.errorbar(ax, table.index, table, backend, linestyle=line, label=label,
                               mfc="white" if variant == "raw" else None)
        style.log2_axis(ax, "x", df["p"].unique())
        style.log10_axis(ax, "y")
        ax.set_xlabel("workers p")
        ax.set_ylabel("time per write (ns, median, IQR)")
    style.legend_below(fig, axes, ncol=2)
    return fig
