"""Time per increment against p: a column of panels per backend (our process pool, CPython's
processes, CPython's threads), a row per access pattern (each worker its own elements, all the
same eight), one curve per way of accessing the array; at most five curves a panel. The axis is
logarithmic and shared along a row, because the ways differ by up to three orders of magnitude
and the backends by two."""

import matplotlib.pyplot as plt

from analysis import style
from analysis.claims import _split_access
from analysis.stats import select

EXPERIMENTS = ("shared_array_lock",)
ACCESSES = {  # access -> (label, colour)
    "raw": ("RawArray, plain increment", "tab:gray"),
    "atomic": ("RawArray, atomic add (C++ only)", "tab:green"),
    "locked": ("Array, lock per increment", "tab:red"),
    "locked_access": ("Array, a[i] += 1 (lock per load, per store)", "tab:purple"),
    "locked_block": ("Array, lock per task", "tab:blue"),
}
PATTERNS = {"disjoint": "own elements", "same": "same 8 elements"}
BACKENDS = {"process": "C++ process pool", "cpython_process": "CPython processes",
            "cpython_thread": "CPython threads"}


def draw(runs):
    fig, axes = plt.subplots(len(runs) * len(PATTERNS), len(BACKENDS), squeeze=False,
                             sharey="row", figsize=(style.TEXT_WIDTH_IN,
                                                    1.9 * len(runs) * len(PATTERNS)))
    for index, run in enumerate(runs):
        df = _split_access(run.data("shared_array_lock"))
        df = df.assign(per=df["seconds"] / df["n"] * 1e9)
        for offset, (pattern, pattern_text) in enumerate(PATTERNS.items()):
            row = index * len(PATTERNS) + offset
            for column, (backend, who) in enumerate(BACKENDS.items()):
                ax = axes[row][column]
                for access, (label, color) in ACCESSES.items():
                    rows = select(df, access=access, pattern=pattern, backend=backend)
                    if rows.empty:
                        continue
                    rows = rows[rows["n"] == rows["n"].max()]
                    g = rows.groupby("p")["per"]
                    ax.errorbar(g.median().index, g.median(),
                                yerr=[g.median() - g.quantile(0.25),
                                      g.quantile(0.75) - g.median()],
                                color=color, marker="o", markersize=3, capsize=1.5,
                                elinewidth=0.7, label=label)
                style.log2_axis(ax, "x", df["p"].dropna().unique())
                style.log10_axis(ax, "y")
                title = f"{who}: {pattern_text}"
                if column == 0 and offset == 0:
                    title = f"{style.run_title(run)}\n{title}"
                ax.set_title(title, fontsize=7)
                if column == 0:
                    ax.set_ylabel("ns per increment")
        for ax in axes[-1]:
            ax.set_xlabel("workers p")
    handles = [plt.Line2D([], [], color=c, marker="o", markersize=3, label=l)
               for l, c in ACCESSES.values()]
    fig.tight_layout()
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2,
               frameon=False)
    return fig
