"""The rules of the seed's claims about processes, the pool, map and the reduction (sections
"The GIL", "Pool", "Map", "Reduction"). Each returns {system: Verdict} (claim_support.verdicts).
"""

import math

import numpy as np

from analysis.claim_support import (COSTLIER_ROUND_TRIP, EXPLAINS, NO_GAIN,
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
# The pool's cost per task (pool_overhead)

def _apply_cost(df, backend):
    rows = select(df, variant="apply", backend=backend)
    if rows.empty:
        raise LookupError(f"pool_overhead: no 'apply' measurement on backend {backend}")
    return (rows["seconds"] / rows["n"]).to_numpy()


def coarse_grain(run):
    df = run.data("pool_overhead")
    thread = _apply_cost(df, "thread")
    rows = []
    # Shared memory is the C++ thread pool for both systems: CPython's threads hold the GIL.
    for backend in ("process", "cpython_process"):
        cost = _apply_cost(df, backend)
        ratio = ratio_interval(cost, thread)
        rows.append({"backend": backend, "round_trip_s": float(np.median(cost)),
                     "thread_s": float(np.median(thread)), "ratio": ratio.estimate,
                     "low": ratio.low, "high": ratio.high,
                     "holds": above(ratio, Band.around(COSTLIER_ROUND_TRIP, TOLERANCE))})

    def summarize(cases):
        r = cases.iloc[0]
        return (f"One task's round trip (apply) costs {seconds(r.round_trip_s)} on the "
                f"{code(r.backend)} pool against {seconds(r.thread_s)} on the C++ thread pool "
                f"(shared memory): ratio {interval_text(r.ratio, r.low, r.high)}. A task must "
                f"carry at least about "
                f"{seconds(10 * r.round_trip_s)} of work for the round trip to stay under "
                f"10\\,\\%. The rule asks the ratio's interval above {COSTLIER_ROUND_TRIP} "
                f"(beyond its {int(TOLERANCE * 100)}\\,\\% band).")
    return verdicts(rows, ["backend"], summarize,
                    ["backend", "round_trip_s", "thread_s", "ratio", "low", "high", "holds"],
                    f"the ratio's interval lies below the band around {COSTLIER_ROUND_TRIP}")


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
