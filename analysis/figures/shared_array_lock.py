"""Time per increment against p, one row of panels per access pattern: each way of accessing
the array, on the process pool (solid) and CPython's multiprocessing (dashed)."""

import matplotlib.pyplot as plt

from analysis import style
from analysis.claims import _split_access
from analysis.stats import select

EXPERIMENTS = ("shared_array_lock",)
ACCESSES = {  # access -> (label, colour)
    "raw": ("RawArray, plain increment", "tab:gray"),
    "atomic": ("RawArray, atomic add", "tab:green"),
    "locked": ("Array, lock per increment", "tab:red"),
    "locked_access": ("Array, a[i] += 1 (lock per load, per store)", "tab:purple"),
    "locked_block": ("Array, lock per task", "tab:blue"),
}
PATTERNS = ("disjoint", "same")
BACKENDS = (("process", "-", "process pool"), ("cpython_process", "--", "CPython"))


def draw(runs):
    fig, axes = style.panels(runs, rows=len(PATTERNS))
    for column, run in enumerate(runs):
        df = _split_access(run.data("shared_array_lock"))
        df = df.assign(per=df["seconds"] / df["n"] * 1e9)
        for row, pattern in enumerate(PATTERNS):
            ax = axes[row][column]
            for access, (label, color) in ACCESSES.items():
                for backend, line, who in BACKENDS:
                    rows = select(df, access=access, pattern=pattern, backend=backend)
                    if rows.empty:
                        continue
                    rows = rows[rows["n"] == rows["n"].max()]
                    g = rows.groupby("p")["per"]
                    ax.errorbar(g.median().index, g.median(),
                                yerr=[g.median() - g.quantile(0.25),
                                      g.quantile(0.75) - g.median()],
                                color=color, linestyle=line, marker="o", markersize=3,
                                capsize=1.5, elinewidth=0.7, label=label)
            style.log2_axis(ax, "x", df["p"].dropna().unique())
            style.log10_axis(ax, "y")
            what = {"disjoint": "each worker its own elements",
                    "same": "all workers the same 8 elements"}[pattern]
            ax.set_title(f"{style.run_title(run)}\n{what}" if row == 0 else what)
            ax.set_ylabel("time per increment (ns)")
        axes[-1][column].set_xlabel("workers p")
    handles = [plt.Line2D([], [], color=c, marker="o", markersize=3, label=l)
               for l, c in ACCESSES.values()]
    handles += [plt.Line2D([], [], color="black", linestyle=line, label=who)
                for _, line, who in BACKENDS]
    fig.tight_layout()
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3,
               frameon=False)
    return fig
