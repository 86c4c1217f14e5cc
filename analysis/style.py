"""The look of every figure: a non-interactive backend, sizes that fit the paper's text width,
one colour and marker per backend, and a shared legend below the panels so it hides no data."""

import math
import re

import matplotlib

matplotlib.use("Agg")  # no display: figures are files

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

TEXT_WIDTH_IN = 6.3
PANEL_HEIGHT_IN = 2.3

plt.rcParams.update({
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 7,
    "xtick.labelsize": 7, "ytick.labelsize": 7, "lines.linewidth": 1.2, "lines.markersize": 3.5,
    "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.5, "pdf.fonttype": 42,
    "savefig.bbox": "tight", "savefig.pad_inches": 0.02,
})

# Backend -> (label, colour, marker). The order is the legend's.
BACKENDS = {
    "serial": ("serial C++", "black", "o"),
    "process": ("process pool", "tab:blue", "s"),
    "thread": ("thread pool", "tab:orange", "^"),
    "gil_thread": ("threads + model GIL", "tab:red", "v"),
    "tbb": ("oneTBB", "tab:green", "D"),
    "openmp": ("OpenMP", "tab:purple", "P"),
    "stdpar": ("std::execution::par", "tab:olive", "X"),
    "openblas": ("OpenBLAS threaded", "tab:cyan", "*"),
    "openblas_serial": ("OpenBLAS serial", "tab:gray", "h"),
    "numpy": ("numpy", "tab:pink", "d"),
    "cpython_serial": ("CPython serial", "dimgray", "o"),
    "cpython_thread": ("CPython threading", "firebrick", "<"),
    "cpython_process": ("CPython multiprocessing", "tab:brown", ">"),
}


def backend_style(backend):
    label, color, marker = BACKENDS.get(backend, (backend, "black", "."))
    return {"label": label, "color": color, "marker": marker}


def panels(runs, rows=1, height=PANEL_HEIGHT_IN, sharey=False):
    """A figure with one column of panels per run; returns (figure, axes[row][column])."""
    columns = len(runs)
    width = TEXT_WIDTH_IN if columns > 1 else 0.62 * TEXT_WIDTH_IN
    fig, axes = plt.subplots(rows, columns, figsize=(width, height * rows), squeeze=False,
                             sharey=sharey)
    for column, run in enumerate(runs):
        axes[0][column].set_title(run_title(run))
    return fig, axes


def run_title(run):
    """'2 cores, AMD EPYC 9R45' : the panel title of a run, short enough for half a page."""
    model = re.sub(r"\(.*?\)|\b(\d+-Core|Processor|CPU)\b", "", run.machine["cpu"]["model"])
    model = " ".join(model.split())
    if len(model) > 32:
        model = model[:30] + "..."
    return f"{run.cores} cores, {model}"


def log2_axis(ax, which, values=None):
    """A base-2 log axis ('x' or 'y' of `ax`) labelled 2^k (or plain integers when small)."""
    getattr(ax, f"set_{which}scale")("log", base=2)
    axis = getattr(ax, f"{which}axis")
    if values is not None:
        exponents = [math.log2(v) for v in values if v > 0]
        lo, hi = math.floor(min(exponents)), math.ceil(max(exponents))
        step = max(1, -(-(hi - lo + 1) // 8))
        axis.set_ticks([2.0 ** e for e in range(lo, hi + 1, step)])
    if values is not None and max(values) >= 1024:
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"$2^{{{int(round(math.log2(v)))}}}$"))
    else:
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def log10_axis(ax, which):
    """A base-10 log axis with plain numbers (0.5, 1, 20) rather than powers; when it spans
    little more than a decade, 2 and 5 times each power are labelled too, and every minor tick
    when it spans less than a factor 4."""
    getattr(ax, f"set_{which}scale")("log")
    axis = getattr(ax, f"{which}axis")
    axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(_plain_number))

    def minor(value, _):
        lo, hi = sorted(axis.get_view_interval())
        if lo <= 0 or hi / lo > 30 or value <= 0:
            return ""
        mantissa = round(value / 10 ** math.floor(math.log10(value) + 1e-9))
        return _plain_number(value) if hi / lo < 4 or mantissa in (2, 5) else ""
    axis.set_minor_formatter(FuncFormatter(minor))


def _plain_number(value, _=None):
    if value >= 1e5 or value < 1e-4:
        exponent = int(round(math.log10(value)))
        if abs(value / 10 ** exponent - 1) < 1e-6:
            return f"$10^{{{exponent}}}$"
    return f"{value:g}"


def legend_below(fig, axes, ncol=4):
    """One legend for the whole figure, under the panels, with each label once."""
    handles, labels = [], []
    for ax in fig.axes:
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in labels and not l.startswith("_"):
                handles.append(h)
                labels.append(l)
    if handles:
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=ncol,
                   frameon=False)
    fig.tight_layout()


def errorbar(ax, x, spread_rows, backend, linestyle="-", label=None, **kwargs):
    """Median with interquartile range as error bars."""
    style = {**backend_style(backend), **kwargs}  # kwargs may override the colour, say
    if label is not None:
        style["label"] = label
    median = spread_rows["speedup"] if "speedup" in spread_rows else spread_rows["median"]
    lower = median - spread_rows["q1"]
    upper = spread_rows["q3"] - median
    ax.errorbar(x, median, yerr=[lower.clip(lower=0), upper.clip(lower=0)], linestyle=linestyle,
                capsize=1.5, elinewidth=0.7, **style)
