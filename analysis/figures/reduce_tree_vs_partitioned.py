"""Speedup of the reductions over the serial reduce against n, at p = cores."""

from analysis import style
from analysis.figures.common import speedup_vs, unity

EXPERIMENTS = ("reduce_tree_vs_partitioned",)

CURVES = (  # variant, backend, serial backend, line style
    ("partitioned", "process", "serial", "-"), ("partitioned", "thread", "serial", "-"),
    ("reduce", "tbb", "serial", "-"), ("reduce", "openmp", "serial", "-"),
    ("reduce", "stdpar", "serial", "-"),
    ("tree", "process", "serial", "--"), ("tree", "thread", "serial", "--"),
    ("partitioned", "cpython_process", "cpython_serial", "-"),
    ("tree", "cpython_process", "cpython_serial", "--"),
)


def draw(runs):
    fig, axes = style.panels(runs)
    for column, run in enumerate(runs):
        ax = axes[0][column]
        df = run.data("reduce_tree_vs_partitioned")
        for variant, backend, serial, line in CURVES:
            label = f"{variant}, {style.backend_style(backend)['label']}"
            speedup_vs(ax, df, {"variant": "serial", "backend": serial},
                       {"variant": variant, "backend": backend, "p": run.cores}, "n", backend,
                       label=label, linestyle=line)
        unity(ax)
        style.log2_axis(ax, "x", df["n"].unique())
        style.log10_axis(ax, "y")
        ax.set_xlabel("elements n (doubles)")
        ax.set_ylabel(f"speedup over serial at p = {run.cores}")
    style.legend_below(fig, axes, ncol=3)
    return fig
