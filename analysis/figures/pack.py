"""Speedup of pack over a serial pack against n at p = cores, per keep ratio, with the two-pass
scan's speedup (experiment scan_two_pass) for comparison."""

from analysis import style
from analysis.figures.common import speedup_vs, unity
from analysis.stats import select

EXPERIMENTS = ("pack", "scan_two_pass")
LINES = ("-", "--", ":", "-.")


def draw(runs):
    fig, axes = style.panels(runs)
    for column, run in enumerate(runs):
        ax = axes[0][column]
        df = run.data("pack")
        keeps = sorted(df["keep_pct"].unique())
        shown = keeps if len(keeps) <= 3 else [keeps[0], keeps[len(keeps) // 2], keeps[-1]]
        for i, keep in enumerate(shown):
            rows = select(df, keep_pct=keep)
            for variant, backend in (("pack", "process"), ("pack", "thread"),
                                     ("copy_if", "stdpar")):
                label = f"{variant}, {style.backend_style(backend)['label']}, {int(keep)} % kept"
                speedup_vs(ax, rows, {"variant": "serial", "backend": "serial"},
                           {"variant": variant, "backend": backend, "p": run.cores}, "n",
                           backend, label=label, linestyle=LINES[i % len(LINES)])
        scan = run.data("scan_two_pass")
        speedup_vs(ax, scan, {"variant": "serial", "backend": "serial"},
                   {"variant": "two_pass", "backend": "process", "p": run.cores}, "n",
                   "openblas_serial", label="two-pass scan, process pool", linestyle="-")
        unity(ax)
        style.log2_axis(ax, "x", df["n"].unique())
        ax.set_xlabel("elements n")
        ax.set_ylabel(f"speedup over serial at p = {run.cores}")
    style.legend_below(fig, axes, ncol=3)
    return fig
