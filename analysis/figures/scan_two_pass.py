"""Top: speedup against p at the largest n, of the scans and of the partitioned reduce on the
same data. Bottom: scan speedup / reduce speedup against n at p = cores, with the band the rule
calls 'about 1/2'."""

from analysis import style
from analysis.claims import ABOUT_HALF, _scan_vs_reduce
from analysis.figures.common import ideal, speedup_vs, unity

EXPERIMENTS = ("scan_two_pass",)

CURVES = (  # variant, backend, serial variant, line style
    ("two_pass", "process", "serial", "-"), ("two_pass", "thread", "serial", "-"),
    ("reduce_then_scan", "process", "serial", "-."),
    ("reduce_then_scan", "thread", "serial", "-."),
    ("single_pass", "process", "serial", "--"), ("single_pass", "thread", "serial", "--"),
    ("scan", "tbb", "serial", "-"), ("scan", "stdpar", "serial", "-"),
    ("two_pass", "openmp", "serial", "-"),
    ("partitioned", "process", "serial_reduce", ":"),
    ("partitioned", "thread", "serial_reduce", ":"),
)
NAMES = {"two_pass": "two-pass scan", "reduce_then_scan": "reduce-then-scan",
         "single_pass": "single-pass scan", "scan": "scan",
         "partitioned": "partitioned reduce"}


def draw(runs):
    fig, axes = style.panels(runs, rows=2, sharey=False)
    for column, run in enumerate(runs):
        df = run.data("scan_two_pass")
        n = df["n"].max()
        ax = axes[0][column]
        for variant, backend, serial, line in CURVES:
            label = f"{NAMES[variant]}, {style.backend_style(backend)['label']}"
            speedup_vs(ax, df, {"variant": serial, "backend": "serial", "n": n},
                       {"variant": variant, "backend": backend, "n": n}, "p", backend,
                       label=label, linestyle=line)
        ps = df["p"].dropna().unique()
        ideal(ax, ps, run.cores)
        unity(ax)
        style.log2_axis(ax, "x", ps)
        ax.set_xlabel("workers p")
        ax.set_ylabel(f"speedup at n = $2^{{{int(n).bit_length() - 1}}}$")

        ax = axes[1][column]
        ratio = _scan_vs_reduce(run)
        ax.axhspan(*ABOUT_HALF, color="tab:green", alpha=0.12, label="'about 1/2' (the rule)")
        for backend, rows in ratio.groupby("backend"):
            st = style.backend_style(backend)
            ax.plot(rows["n"], rows["ratio"], color=st["color"], marker=st["marker"],
                    label=f"scan / reduce speedup, {st['label']}")
        style.log2_axis(ax, "x", ratio["n"].unique())
        style.log10_axis(ax, "y")
        ax.set_xlabel("elements n (doubles)")
        ax.set_ylabel(f"speedup ratio at p = {run.cores}")
    style.legend_below(fig, axes, ncol=3)
    return fig
