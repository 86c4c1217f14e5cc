"""The scans against the partitioned reduce, one row of three panels per run, each panel with at
most four curves on a linear axis. Left: the three scan algorithms and the partitioned reduce on
the process pool, speedup against p at the largest n; middle: the library peers beside the
single-pass scan, the same way; right: two-pass scan speedup / reduce speedup against n at
p = cores, with the band the rule calls 'about 1/2'. (The thread pool's scans are in the
right-hand panel, the verdicts and the peers table.)"""

from analysis import style
from analysis.claims import ABOUT_HALF, _scan_vs_reduce
from analysis.figures.common import ideal, speedup_vs, unity

EXPERIMENTS = ("scan_two_pass",)

PANELS = (  # title, curves: (variant, backend, serial variant, line style, label)
    ("our algorithms, process pool", (
        ("two_pass", "process", "serial", "-", "two-pass scan"),
        ("reduce_then_scan", "process", "serial", "-.", "reduce-then-scan"),
        ("single_pass", "process", "serial", "--", "single-pass scan"),
        ("partitioned", "process", "serial_reduce", ":", "partitioned reduce"))),
    ("library peers", (
        ("single_pass", "process", "serial", "--", "single-pass scan"),
        ("scan", "tbb", "serial", "-", "oneTBB parallel_scan"),
        ("scan", "stdpar", "serial", "-", "std::inclusive_scan(par)"),
        ("two_pass", "openmp", "serial", "-", "two-pass scan, OpenMP"))),
)
# One colour per curve label, so that a curve keeps its colour from panel to panel.
COLOURS = {"two-pass scan": "tab:blue", "reduce-then-scan": "tab:cyan",
           "single-pass scan": "tab:red", "partitioned reduce": "black",
           "oneTBB parallel_scan": "tab:green", "std::inclusive_scan(par)": "tab:olive",
           "two-pass scan, OpenMP": "tab:purple"}


def draw(runs):
    fig, axes = style.plt.subplots(len(runs), 3, squeeze=False, figsize=(
        style.TEXT_WIDTH_IN, 2.9 * len(runs)))
    for row, run in enumerate(runs):
        df = run.data("scan_two_pass")
        n = df["n"].max()
        ps = df["p"].dropna().unique()
        for column, (title, curves) in enumerate(PANELS):
            ax = axes[row][column]
            for variant, backend, serial, line, label in curves:
                speedup_vs(ax, df, {"variant": serial, "backend": "serial", "n": n},
                           {"variant": variant, "backend": backend, "n": n}, "p", backend,
                           label=label, linestyle=line, color=COLOURS[label])
            ideal(ax, ps, run.cores, label="_ideal")  # named in the caption
            unity(ax, label="_serial")
            style.log2_axis(ax, "x", ps)
            ax.set_ylim(bottom=0)
            ax.set_xlabel("workers p")
            ax.set_title(f"{style.run_title(run)}\n{title}" if column == 0 else title)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False,
                      fontsize=6, borderaxespad=1.5)
        axes[row][0].set_ylabel(f"speedup at n = $2^{{{int(n).bit_length() - 1}}}$")

        ax = axes[row][2]
        ratio = _scan_vs_reduce(run)
        ax.axhspan(*ABOUT_HALF, color="tab:green", alpha=0.15, label="'about 1/2' (the rule)")
        for backend, rows in ratio.groupby("backend"):
            st = style.backend_style(backend)
            ax.plot(rows["n"], rows["ratio"], color=st["color"], marker=st["marker"],
                    label=st["label"])
        sizes = sorted(ratio["n"].unique())
        style.log2_axis(ax, "x", sizes)
        ax.set_xticks(sizes[::2])  # a narrow panel: every other size
        # The ratio spans more than a decade: a logarithmic axis, labelled in plain numbers.
        style.log10_axis(ax, "y")
        ax.set_xlabel("elements n (doubles)")
        ax.set_ylabel(f"scan / reduce speedup at p = {run.cores}")
        ax.set_title("two-pass scan against reduce")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False, fontsize=6,
                  borderaxespad=1.5)
    fig.tight_layout()
    return fig
