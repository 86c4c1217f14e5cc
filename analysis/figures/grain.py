"""The grain: rate n / t against n at p = cores, per bulk primitive (a row each) and backend,
with each backend's n_1/2 marked (analysis/grain.py). Where the run measured it, the rate the
read (reduce, dot) or copy (scan, pack) bandwidth allows at the largest n (grain.traffic_limit:
measured beside the primitive, else in machine_limits) is drawn as a dashed line (pack's at half the elements kept: 13 bytes per element)."""

from analysis import grain, style

EXPERIMENTS = grain.EXPERIMENTS
# Read when the run has it (analysis/make_rules.py makes the figure depend on it there).
OPTIONAL_EXPERIMENTS = (grain.LIMITS_EXPERIMENT,)

# Bytes each primitive moves per element, as its experiment's bytes_per_second counts them:
# the rate the measured bandwidth allows is bandwidth / these bytes.
BYTES_PER_ELEMENT = {"reduce": 8, "dot": 16, "scan": 16, "pack": 9 + 8 * 0.5}


def draw(runs):
    rows = len(grain.BULK_PRIMITIVES)
    fig, axes = style.panels(runs, rows=rows, height=1.9)
    for column, run in enumerate(runs):
        machine = grain.limits(run)
        for row, prim in enumerate(grain.BULK_PRIMITIVES):
            ax = axes[row][column]
            all_sizes = set()
            for curve in grain.curves(run, prim):
                look = style.backend_style(curve.backend)
                rates = curve.rates
                ax.plot(curve.sizes, rates, **look)
                all_sizes.update(curve.sizes)
                if curve.n_half.kind == grain.CROSSED:
                    ax.plot([curve.n_half.n], [curve.n_half.threshold], linestyle="none",
                            marker="|", markersize=9, markeredgewidth=1.6, color=look["color"],
                            label="_n_half")
            if all_sizes:
                bandwidth, _ = grain.traffic_limit(run, prim, machine, max(all_sizes), run.cores)
                if bandwidth is not None:
                    ax.axhline(bandwidth.median / BYTES_PER_ELEMENT[prim.name], color="black",
                               linestyle="--", linewidth=0.8,
                               label=f"measured bandwidth limit (read or copy), p = {run.cores}")
            ax.set_yscale("log")
            style.log2_axis(ax, "x", sorted(all_sizes))
            ax.set_ylabel(f"{prim.name}: elements/s")
            if row == rows - 1:
                ax.set_xlabel(f"n (elements), p = {run.cores}; | marks n_1/2")
    style.legend_below(fig, axes, ncol=4)
    return fig
