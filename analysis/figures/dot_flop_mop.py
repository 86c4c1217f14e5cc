"""Speedup against n at p = cores of the inner product and the reduction on each pool."""

from analysis import style
from analysis.claims import serial_backend
from analysis.figures.common import speedup_vs, unity

EXPERIMENTS = ("dot_flop_mop",)


def draw(runs):
    fig, axes = style.panels(runs)
    for column, run in enumerate(runs):
        ax = axes[0][column]
        df = run.data("dot_flop_mop")
        for variant, line in (("dot", "-"), ("reduce", "--")):
            for backend in ("process", "thread", "openmp", "openblas", "cpython_process"):
                if backend == "openblas" and variant != "dot":
                    continue
                label = f"{variant}, {style.backend_style(backend)['label']}"
                speedup_vs(ax, df, {"variant": variant, "backend": serial_backend(backend)},
                           {"variant": variant, "backend": backend, "p": run.cores}, "n",
                           backend, label=label, linestyle=line)
        unity(ax)
        style.log2_axis(ax, "x", df["n"].unique())
        ax.set_xlabel("elements n (doubles per vector)")
        ax.set_ylabel(f"speedup over serial at p = {run.cores}")
    style.legend_below(fig, axes, ncol=3)
    return fig
