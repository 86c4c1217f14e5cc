"""What several figures share: speedup curves against n or p, from one run's rows."""

from analysis import style
from analysis.stats import select, speedups


def speedup_vs(ax, df, reference, measured, x, backend, label=None, linestyle="-", **look):
    """Plots the speedup of the rows `measured` over the rows `reference` (dicts of selectors)
    against column x, each measurement against the reference of the same n. Against anything
    but n, only the largest n of the measured rows is drawn. `look` overrides the backend's
    colour or marker."""
    rows = select(df, **measured)
    if rows.empty:
        return None
    if x != "n":
        rows = rows[rows["n"] == rows["n"].max()]
    table = speedups(rows, select(df, **reference), on=["n"], keys=sorted({x, "n"}))
    table = table.sort_values(x)
    style.errorbar(ax, table[x], table, backend, label=label, linestyle=linestyle, **look)
    return table


def ideal(ax, ps, cores, label="ideal: min(p, cores)"):
    ps = sorted(ps)
    ax.plot(ps, [min(p, cores) for p in ps], color="lightgray", linestyle="--", linewidth=1,
            label=label, zorder=0)


def unity(ax, label="serial (speedup 1)"):
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle=":", label=label, zorder=0)
