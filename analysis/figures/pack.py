"""Pack. Top: speedup over a serial pack against n at p = cores, half the elements kept, with
the two-pass scan's speedup (experiment scan_two_pass) for comparison. Bottom: speedup at the
largest n against the fraction of elements kept."""

from analysis import style
from analysis.claims import serial_backend
from analysis.figures.common import speedup_vs, unity
from analysis.stats import select, speedups

EXPERIMENTS = ("pack", "scan_two_pass")
CURVES = (("scan_pack", "process"), ("scan_pack", "thread"), ("copy_if", "stdpar"),
          ("scan_pack", "openmp"), ("scan_pack", "cpython_process"))


def _middle_keep(keeps):
    return min(keeps, key=lambda k: abs(k - 50))


def draw(runs):
    fig, axes = style.panels(runs, rows=2)
    for column, run in enumerate(runs):
        df = run.data("pack")
        keep = _middle_keep(sorted(df["keep_pct"].unique()))
        ax = axes[0][column]
        rows = select(df, keep_pct=keep)
        for variant, backend in CURVES:
            label = f"{variant}, {style.backend_style(backend)['label']}"
            speedup_vs(ax, rows, {"variant": "serial", "backend": serial_backend(backend)},
                       {"variant": variant, "backend": backend, "p": run.cores}, "n", backend,
                       label=label)
        scan = run.data("scan_two_pass")
        speedup_vs(ax, scan, {"variant": "serial", "backend": "serial"},
                   {"variant": "two_pass", "backend": "process", "p": run.cores}, "n",
                   "openblas_serial", label="two-pass scan, process pool (scan_two_pass)",
                   linestyle="--")
        unity(ax)
        style.log2_axis(ax, "x", df["n"].unique())
        ax.set_xlabel("elements n")
        ax.set_ylabel(f"speedup at p = {run.cores}")
        ax.set_title(f"{style.run_title(run)}\n{int(keep)} % of the elements kept")

        ax = axes[1][column]
        n = df["n"].max()
        for variant, backend in CURVES[:4]:
            measured = select(df, variant=variant, backend=backend, n=n, p=run.cores)
            if measured.empty:
                continue
            reference = select(df, variant="serial", backend=serial_backend(backend), n=n)
            table = speedups(measured, reference, on=["keep_pct"], keys=["keep_pct"])
            style.errorbar(ax, table["keep_pct"], table, backend,
                           label=f"{variant}, {style.backend_style(backend)['label']}")
        unity(ax)
        ax.set_xlabel("elements kept (%)")
        ax.set_ylabel(f"speedup at n = $2^{{{int(n).bit_length() - 1}}}$, p = {run.cores}")
    style.legend_below(fig, axes, ncol=3)
    return fig
