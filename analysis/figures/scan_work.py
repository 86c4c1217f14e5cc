"""The scans' work, counted: operator calls over the serial scan's against p (experiment
scan_work), for the seed's two-pass scan and reduce-then-scan on each system, beside the band
the rule of scan_double_work calls "a factor of 2" and the two-pass count 2 - 1/p of a serial
scan that makes one call per element."""

from analysis import style
from analysis.claim_support import WORK_FACTOR_TWO, serial_backend
from analysis.stats import select

EXPERIMENTS = ("scan_work",)

CURVES = (  # variant, backend, line style, label
    ("two_pass", "process", "-", "two-pass, C++ pools"),
    ("two_pass", "cpython_process", "-", "two-pass, CPython"),
    ("reduce_then_scan", "process", "--", "reduce-then-scan, C++ pools"),
    ("reduce_then_scan", "cpython_process", "--", "reduce-then-scan, CPython"),
)


def draw(runs):
    fig, axes = style.panels(runs)
    for column, run in enumerate(runs):
        ax = axes[0][column]
        df = run.data("scan_work")
        n = df["n"].max()
        ax.axhspan(WORK_FACTOR_TWO.low, WORK_FACTOR_TWO.high, color="tab:green", alpha=0.12,
                   label="'a factor of 2' (the rule)")
        ps = sorted(int(p) for p in df["p"].dropna().unique())
        ax.plot(ps, [2 - 1 / p for p in ps], color="gray", linestyle=":",
                label="2 - 1/p (one call per element)")
        for variant, backend, line, label in CURVES:
            rows = select(df, variant=variant, backend=backend)
            if rows.empty:
                continue
            size = rows["n"].max() if backend.startswith("cpython") else n
            serial = select(df, variant="serial", backend=serial_backend(backend), n=size)
            calls = select(rows, n=size).groupby("p")["calls"].median()
            st = style.backend_style(backend)
            ax.plot(calls.index, calls / serial["calls"].median(), color=st["color"],
                    marker=st["marker"], linestyle=line, label=label)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ps, [str(p) for p in ps])
        ax.set_xlabel("workers p (pieces of the partition)")
        ax.set_ylabel("operator calls / serial scan's")
    style.legend_below(fig, axes, ncol=2)
    return fig
