"""The rules of the seed's claims about processes, the pool, map and the reduction (sections
"The GIL", "Pool", "Map", "Reduction"; the pool's grain is judged by the bulk primitives'
n_eff, analysis/grain.py). Each returns {system: Verdict} (claim_support.verdicts).
"""

import math

import numpy as np

from analysis import grain
from analysis.claim_support import (COARSER_GRAIN, EXPLAINS, NO_GAIN,
                                    SIGNIFICANT, TOLERANCE, USEFUL_EFFICIENCY, WITHIN_BEST,
                                    above, backends_of, beats, below, both, cache_sizes, exact,
                                    interval_text, no_worse, serial_backend, speedup_interval,
                                    superlinear_note, verdicts, within)
from analysis.classify import code, number, power_of_two, seconds, value_text
from analysis.stats import (CORES, LARGEST, Band, Interval, ratio_interval, ratio_of_ratios,
                            resolve, select, times)

# --------------------------------------------------------------------------------------------
# The GIL and processes (gil_baseline)


def gil_threads(run):
    df = run.data("gil_baseline")
    rows = []
    for serial, backend in (("cpython_serial", "cpython_thread"), ("serial", "gil_thread")):
        measured = select(df, backend=backend)
        if measured.empty:
            raise LookupError(f"gil_baseline: no measurement on backend {backend}")
        for (n, p), _ in measured.groupby(["n", "p"]):
            if p < 2:
                continue
            s = speedup_interval(df, "gil_baseline", {"backend": serial, "n": n},
                                 {"backend": backend, "n": n, "p": p})
            rows.append({"backend": backend, "n": int(n), "p": int(p), "speedup": s.estimate,
                         "low": s.low, "high": s.high,
                         "holds": below(s, Band.around(NO_GAIN, TOLERANCE))})

    def summarize(cases):
        best = cases.loc[cases["speedup"].idxmax()]
        return (f"The best speedup of threads that must hold one lock is "
                f"{number(best.speedup)} (95\\,\\% interval {number(best.low)} to "
                f"{number(best.high)}; {value_text('backend', best.backend)}, p\\,=\\,{best.p}, "
                f"n\\,=\\,{power_of_two(best.n)}); the rule asks the interval below "
                f"{NO_GAIN} at every p\\,$\\geq$\\,2.")
    return verdicts(rows, ["backend", "p", "n"], summarize,
                    ["backend", "n", "p", "speedup", "low", "high", "holds"],
                    f"the speedup's interval lies above the band around {NO_GAIN}: the "
                    f"locked threads gain")


def gil_processes(run):
    df = run.data("gil_baseline")
    rows = []
    for serial, processes, threads in (("cpython_serial", "cpython_process", "cpython_thread"),
                                       ("serial", "process", "gil_thread")):
        at = resolve(df, {"backend": processes, "p": CORES, "n": LARGEST}, run.cores)
        n, p = at["n"], at["p"]
        proc_t = times(df, "gil_baseline", **at)
        thr_t = times(df, "gil_baseline", backend=threads, n=n, p=p)
        serial_t = times(df, "gil_baseline", backend=serial, n=n)
        proc = ratio_interval(serial_t, proc_t)
        p1 = select(df, backend=processes, n=n, p=1)
        rows.append({"backend": processes, "n": int(n), "p": int(p), "speedup": proc.estimate,
                     "low": proc.low, "high": proc.high,
                     "threads_speedup": ratio_interval(serial_t, thr_t).estimate,
                     "p1_speedup": (ratio_interval(serial_t, p1["seconds"]).estimate
                                    if not p1.empty else np.nan),
                     "holds": both(beats(ratio_interval(thr_t, proc_t)),
                                   above(proc.scaled(1 / p),
                                         Band.around(USEFUL_EFFICIENCY, TOLERANCE)))})

    def summarize(cases):
        r = cases.iloc[0]
        return (f"At p\\,=\\,{r.p} (the cores) and the largest n the processes' speedup is "
                f"{number(r.speedup)} [{number(r.low)}, {number(r.high)}] against "
                f"{number(r.threads_speedup)} for the locked threads. The rule asks processes "
                f"to beat the locked threads beyond the interval and the "
                f"{int(TOLERANCE * 100)}\\,\\% equivalence band, with an efficiency above "
                f"{USEFUL_EFFICIENCY}." + superlinear_note(cases))
    return verdicts(rows, ["backend"], summarize,
                    ["backend", "p", "speedup", "low", "high", "threads_speedup", "holds"],
                    "the processes do not beat the locked threads beyond the band, or their "
                    "efficiency lies below the band")


# --------------------------------------------------------------------------------------------
# The grain: n_eff of the bulk primitives (analysis/grain.py)

# The seed's shared-memory reference ("OpenMP shared memory programming") and each system's
# process pool, whose n_eff is judged against it; our thread pool is shown beside them.
GRAIN_REFERENCE = "openmp"
GRAIN_POOLS = ("process", "cpython_process")
GRAIN_CONTEXT = "thread"


def _finite(value):
    return None if math.isinf(value) else value


def _ratio_text(point, interval):
    """A ratio of grains and its interval in LaTeX, '2.10 [1.61, 2.83]'; a grain outside its
    sweep makes the ratio a bound, 'at least 5.03 [4.12, infinity]'."""
    low, high = point
    if low == high:
        shown = number(low)
    elif math.isinf(high) and low > 0:
        shown = f"$\\geq$\\,{number(low)}"
    elif low == 0 and not math.isinf(high):
        shown = f"$\\leq$\\,{number(high)}"
    else:
        shown = "undetermined"
    top = "$\\infty$" if math.isinf(interval.high) else number(interval.high)
    return f"{shown} [{number(interval.low)}, {top}]"


def _outcome(holds, bounded):
    if holds is None:
        return ("undecided (the interval straddles the band)" if bounded else
                "undecided (neither sweep bounds the ratio)")
    return "holds" if holds else "does not hold"


def coarse_grain(run):
    band = Band.around(COARSER_GRAIN, TOLERANCE)
    rows = []
    context = {}             # primitive -> our thread pool's n_eff
    # Primitives without an n_eff (the backend, or its serial code at one of its sizes, not
    # measured): without OpenMP's, neither system is judged on them.
    no_reference, missing = [], {backend: [] for backend in GRAIN_POOLS}
    for prim in grain.BULK_PRIMITIVES:
        by_backend = {c.backend: c for c in grain.curves(run, prim)
                      if c.n_eff is not None}
        if GRAIN_REFERENCE not in by_backend:
            no_reference.append(prim.name)
            continue
        pools = [b for b in GRAIN_POOLS if b in by_backend]
        for backend in set(GRAIN_POOLS) - set(pools):
            missing[backend].append(prim.name)
        if GRAIN_CONTEXT in by_backend:
            context[prim.name] = by_backend[GRAIN_CONTEXT].n_eff
        resampled = grain.n_eff_resamples(run, prim, [GRAIN_REFERENCE] + pools)
        reference = by_backend[GRAIN_REFERENCE].n_eff
        for backend in pools:
            mine = by_backend[backend].n_eff
            point, ratio = grain.grain_ratio_interval(mine, reference, resampled[backend],
                                                      resampled[GRAIN_REFERENCE])
            (low, high), (ref_low, ref_high) = mine.bounds(), reference.bounds()
            rows.append({"primitive": prim.name, "backend": backend,
                         "n_eff": grain.grain_tex(mine),
                         "openmp_n_eff": grain.grain_tex(reference), "best_speedup": mine.best,
                         "reached": mine.found, "n_eff_low": low, "n_eff_high": _finite(high),
                         "openmp_n_eff_low": ref_low, "openmp_n_eff_high": _finite(ref_high),
                         "ratio_text": _ratio_text(point, ratio), "low": ratio.low,
                         "high": _finite(ratio.high), "bounded": point != (0, math.inf),
                         "holds": above(ratio, band)})

    def summarize(cases):
        backend = cases.backend.iloc[0]
        cpython = backend == "cpython_process"
        pool = ("CPython's process pool (over CPython's serial code)" if cpython else
                "our process pool (over C++ serial code)")
        parts = []
        for r in cases.itertuples():
            never = "" if r.reached else f" (best speedup {number(r.best_speedup)})"
            parts.append(f"{r.primitive} {r.n_eff}{never} against {r.openmp_n_eff}, ratio "
                         f"{r.ratio_text}: {_outcome(r.holds, r.bounded)}")
        text = (f"$n_\\mathrm{{eff}}$ at p\\,=\\,{run.cores}, the smallest n at which the "
                f"speedup reaches p/2, of {pool} against OpenMP's (over C++ serial code): "
                + "; ".join(parts) + ".")
        if not cpython and context:
            text += (" Our thread pool: " + "; ".join(f"{name} {grain.grain_tex(found)}"
                                                      for name, found in context.items())
                     + ".")
        if no_reference:
            text += f" No OpenMP data for {', '.join(no_reference)}."
        if missing[backend]:
            text += (f" No {'CPython' if cpython else 'process pool'} data for "
                     f"{', '.join(missing[backend])}.")
        return text + (f" The rule asks the ratio's interval above {COARSER_GRAIN:g} (beyond "
                       f"its {int(TOLERANCE * 100)}\\,\\% band).")
    return verdicts(rows, ["primitive"], summarize,
                    ["primitive", "backend", "n_eff_low", "n_eff_high", "openmp_n_eff_low",
                     "openmp_n_eff_high", "best_speedup", "low", "high", "holds"],
                    f"the pool's $n_\\mathrm{{eff}}$ is not {COARSER_GRAIN:g} times OpenMP's "
                    f"beyond the band")


# --------------------------------------------------------------------------------------------
# Map (map_chunksize)

def log2n_chunk(run):
    df = run.data("map_chunksize")
    p = run.cores
    rows = []
    for (function, backend, n), group in select(df, variant="map", p=p).groupby(
            ["function", "backend", "n"]):
        medians = group.groupby("chunksize")["seconds"].median()
        log2n = int(math.log2(n))
        if log2n not in medians.index:
            raise LookupError(f"map_chunksize: no chunksize log2(n) = {log2n} for the "
                              f"{function} function on {backend}, n={n}")
        best_chunk = medians.idxmin()
        # log2 n itself the best: the ratio is 1 by definition (no interval of a sample
        # against itself).
        slower = exact(1.0) if best_chunk == log2n else ratio_interval(
            group[group["chunksize"] == log2n]["seconds"],
            group[group["chunksize"] == best_chunk]["seconds"])
        rows.append({"function": function, "backend": backend, "n": int(n),
                     "best_chunksize": int(best_chunk), "ratio": slower.estimate,
                     "low": slower.low, "high": slower.high,
                     "holds": below(slower, Band.around(1 + WITHIN_BEST, TOLERANCE))})
    if not rows:
        raise LookupError(f"map_chunksize: no map at p={p}")

    def summarize(cases):
        worst = cases.loc[cases["ratio"].idxmax()]
        holding = int(cases["holds"].eq(True).sum())
        return (f"At p\\,=\\,{p}, chunksize $\\log_2 n$ takes at most {int(WITHIN_BEST * 100)}"
                f"\\,\\% longer than the best chunksize in {holding} "
                f"of {len(cases)} cases; at worst "
                f"{interval_text(worst.ratio, worst.low, worst.high)} times as long "
                f"({code(worst.function)} function on {code(worst.backend)}, "
                f"n\\,=\\,{power_of_two(worst.n)}, best chunksize "
                f"{power_of_two(worst.best_chunksize)}).")
    return verdicts(rows, ["function", "backend", "n"], summarize,
                    ["function", "backend", "n", "best_chunksize", "ratio", "low", "high",
                     "holds"],
                    f"chunksize $\\log_2 n$ takes more than {1 + WITHIN_BEST:g} times as long "
                    f"as the best chunksize, beyond the band")


# --------------------------------------------------------------------------------------------
# Reduction (reduce_tree_vs_partitioned)

def tree_loses(run):
    df = run.data("reduce_tree_vs_partitioned")
    rows = []
    for (backend, n, p), tree in select(df, variant="tree").groupby(["backend", "n", "p"]):
        serial = times(df, "reduce", variant="serial", backend=serial_backend(backend), n=n)
        part = times(df, "reduce", variant="partitioned", backend=backend, n=n, p=p)
        vs_serial = ratio_interval(tree["seconds"], serial)
        vs_part = ratio_interval(tree["seconds"], part)
        rows.append({"backend": backend, "n": int(n), "p": int(p),
                     "vs_serial": vs_serial.estimate, "vs_partitioned": vs_part.estimate,
                     "holds": both(beats(vs_serial), beats(vs_part))})

    def summarize(cases):
        return (f"Over {len(cases)} measured (backend, n, p), the tree takes "
                f"{number(cases.vs_serial.min())} to {number(cases.vs_serial.max())} times the "
                f"serial time and {number(cases.vs_partitioned.min())} to "
                f"{number(cases.vs_partitioned.max())} times the partitioned time; the rule "
                f"asks both ratios' intervals above 1 beyond the equivalence band, in every "
                f"case.")
    return verdicts(rows, ["backend", "n", "p"], summarize,
                    ["backend", "n", "p", "vs_serial", "vs_partitioned", "holds"],
                    "the tree is not slower than the serial or the partitioned reduce beyond "
                    "the band")


def tree_is_task_overhead(run):
    df = run.data("reduce_tree_vs_partitioned")
    pool = run.data("pool_overhead")
    rows = []
    for backend in ("process", "cpython_process"):
        task = select(pool, variant="map", backend=backend, chunksize=1)
        tree = select(df, variant="tree", backend=backend)
        if task.empty or tree.empty:
            raise LookupError(f"pool_overhead / reduce_tree_vs_partitioned: no map at "
                              f"chunksize 1 or no tree on {backend}")
        task = select(task, p=resolve(task, {"p": CORES}, run.cores)["p"])
        p = int(task["p"].iloc[0])
        per_task = (task["seconds"] / task["n"]).to_numpy()
        for n, group in select(tree, p=p).groupby("n"):
            ratio = ratio_interval(group["seconds"] / (n - 1), per_task)
            rows.append({"backend": backend, "n": int(n), "p": p,
                         "per_pair_s": float((group["seconds"] / (n - 1)).median()),
                         "per_task_s": float(np.median(per_task)), "ratio": ratio.estimate,
                         "low": ratio.low, "high": ratio.high,
                         "holds": within(ratio, EXPLAINS)})

    def summarize(cases):
        return (f"One pair costs the tree {seconds(cases.per_pair_s.min())} to "
                f"{seconds(cases.per_pair_s.max())} on the {code(cases.backend.iloc[0])} pool "
                f"at p\\,=\\,{cases.p.iloc[0]}; one map task at chunksize 1 costs "
                f"{seconds(cases.per_task_s.iloc[0])} (pool\\_overhead). The rule asks the "
                f"ratio's interval inside [{EXPLAINS.low:g}, {EXPLAINS.high:g}]. No process is "
                f"forked per task: the workers are forked once, with the pool.")
    return verdicts(rows, ["n"], summarize,
                    ["backend", "n", "per_pair_s", "ratio", "low", "high", "holds"],
                    f"the ratio's interval lies outside [{EXPLAINS.low:g}, {EXPLAINS.high:g}]")


def partitioned_speedups(run, experiment, variant, serial_variant, p=None, extra=None):
    """Speedup intervals over the backend's serial code at p (default: the cores), per backend
    and n, with the speedup at p = 1 (serial over the pool's own one-worker time)."""
    df = run.data(experiment)
    p = p or run.cores
    extra = extra or {}
    rows = []
    for backend in backends_of(df, experiment, variant):
        for n, _ in select(df, variant=variant, backend=backend, p=p, **extra).groupby("n"):
            reference = dict(variant=serial_variant, backend=serial_backend(backend), n=n,
                             **extra)
            s = speedup_interval(df, experiment, reference,
                                 dict(variant=variant, backend=backend, n=n, p=p, **extra))
            one = select(df, variant=variant, backend=backend, n=n, p=1, **extra)
            p1 = (ratio_interval(times(df, experiment, **reference), one["seconds"]).estimate
                  if not one.empty else np.nan)
            rows.append({"backend": backend, "n": int(n), "p": p, "speedup": s.estimate,
                         "low": s.low, "high": s.high, "p1_speedup": p1})
    if not rows:
        raise LookupError(f"{experiment}: no {variant} measurement at p={p}")
    return rows


def partitioned_beats_serial(run):
    rows = partitioned_speedups(run, "reduce_tree_vs_partitioned", "partitioned", "serial")
    for row in rows:
        row["holds"] = above(_interval(row), Band.around(SIGNIFICANT, TOLERANCE))

    def summarize(cases):
        best = cases.loc[cases["speedup"].idxmax()]
        return (f"At p\\,=\\,{run.cores} the partitioned reduce's speedup over the serial one "
                f"runs from {number(cases.speedup.min())} to {number(cases.speedup.max())} "
                f"(best: {code(best.backend)}, n\\,=\\,{power_of_two(best.n)}); the rule asks "
                f"the speedup's interval above {SIGNIFICANT}."
                + superlinear_note(cases, cache_sizes(run), 8))
    return verdicts(rows, ["backend", "n"], summarize,
                    ["backend", "n", "speedup", "low", "high", "holds"],
                    f"the speedup's interval lies below the band around {SIGNIFICANT}")


def _interval(row):
    return Interval(row["speedup"], row["low"], row["high"])


def speedup_grows_with_n(run):
    df = run.data("reduce_tree_vs_partitioned")
    rows = []
    for p in range(2, run.cores + 1):
        if p not in set(df["p"]):
            continue
        for backend in backends_of(df, "reduce_tree_vs_partitioned", "partitioned"):
            serial = serial_backend(backend)
            ns = sorted(select(df, variant="partitioned", backend=backend, p=p)["n"].unique())
            for smaller, larger in zip(ns, ns[1:]):
                def pair(n):
                    return (times(df, "reduce", variant="serial", backend=serial, n=n),
                            times(df, "reduce", variant="partitioned", backend=backend, n=n,
                                  p=p))
                growth = ratio_of_ratios(pair(larger), pair(smaller))
                rows.append({"backend": backend, "p": p, "n": int(larger),
                             "growth": growth.estimate, "low": growth.low, "high": growth.high,
                             "holds": no_worse(growth)})

    def summarize(cases):
        falls = cases[cases["holds"].eq(False)]
        text = (f"Over {len(cases)} steps from one size n to the next larger one, the "
                f"partitioned reduce's speedup changes by a factor "
                f"{number(cases.growth.min())} to {number(cases.growth.max())}; the rule asks "
                f"no step's interval below 1 beyond the {int(TOLERANCE * 100)}\\,\\% band.")
        if not falls.empty:
            first = falls.iloc[0]
            text += (f" It falls at {len(falls)} steps, the first to "
                     f"n\\,=\\,{power_of_two(first.n)} ({code(first.backend)}, "
                     f"p\\,=\\,{first.p}: {interval_text(first.growth, first.low, first.high)}).")
        return text
    return verdicts(rows, ["backend", "n", "p"], summarize,
                    ["backend", "p", "n", "growth", "low", "high", "holds"],
                    "the speedup falls from one size to the next beyond the band")
