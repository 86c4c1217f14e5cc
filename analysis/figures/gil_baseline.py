"""Speedup against p of a CPU-bound loop: threads, processes, threads under a model GIL, and
CPython's threading and multiprocessing."""

from analysis import style
from analysis.figures.common import ideal, speedup_vs, unity

EXPERIMENTS = ("gil_baseline",)


def draw(runs):
    fig, axes = style.panels(runs)
    for column, run in enumerate(runs):
        ax = axes[0][column]
        df = run.data("gil_baseline")
        for backend, serial in (("process", "serial"), ("thread", "serial"),
                                ("gil_thread", "serial"), ("cpython_process", "cpython_serial"),
                                ("cpython_thread", "cpython_serial")):
            speedup_vs(ax, df, {"backend": serial}, {"backend": backend}, "p", backend)
        ps = df["p"].dropna().unique()
        ideal(ax, ps, run.cores)
        unity(ax)
        style.log2_axis(ax, "x", ps)
        ax.set_xlabel("workers p")
        ax.set_ylabel("speedup over serial (median, IQR)")
    style.legend_below(fig, axes)
    return fig
