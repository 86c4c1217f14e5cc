"""Every claim of the seed document (process-based-parallelism.md), listed once.

Each claim has the seed's words, the rule that decides it from one run's data, the experiments
the rule reads, and the figure that shows it. `decide(run)` returns a Verdict: confirmed,
refuted, confirmed only under a condition (found from the cases, see verdict.py), or, for the
few claims no timing can decide, not measured (with where they are dealt with instead).

Thresholds used by the rules are named constants here, so the paper can quote them.
"""

import math
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from analysis.stats import Spread, select, speedup, times
from analysis.verdict import (CONFIRMED, NOT_MEASURED, REFUTED, Verdict, classify, code,
                              number, power_of_two, seconds, value_text)

NO_GAIN = 1.1            # a speedup below this is no multicore gain
USEFUL_EFFICIENCY = 0.5  # speedup / p at p = cores that counts as scaling
WITHIN_BEST = 0.10       # "a good chunk size": at most 10 % slower than the best one
ABOUT_HALF = (0.4, 0.6)  # "about a factor of two worse"
WORK_FACTOR_TWO = (1.7, 2.3)  # "a factor of 2 more work", as time on one worker
SIGNIFICANT = 1.1        # "significant speedup": the whole IQR above this
EXPLAINS = 2.0           # a cost model "explains" a time within this factor
COSTLIER = 1.1           # "costs more": the locked/raw ratio's whole IQR above this


@dataclass(frozen=True)
class Claim:
    id: str
    section: str
    title: str       # a few words for the summary table (LaTeX)
    quote: str       # the seed's words (LaTeX)
    rule: str        # how the data decides (LaTeX)
    experiments: tuple
    figure: str
    decide: Callable = None
    not_measured_because: str = None

    def verdict(self, run):
        if self.decide is None:
            return Verdict(NOT_MEASURED, self.not_measured_because)
        return self.decide(run)


def _spread(df, what, **where):
    return Spread.of(times(df, what, **where))


def _speedup(df, what, reference, measured):
    return speedup(times(df, what, **reference), times(df, what, **measured))


POOLS = ("process", "thread")
CPYTHON_POOL = "cpython_process"


def serial_backend(backend):
    """The serial code a backend's speedup is measured against: CPython's for CPython."""
    return "cpython_serial" if backend.startswith("cpython") else "serial"


def _backends(df, experiment, variant, optional=(CPYTHON_POOL,)):
    """The C++ pools (required) and the optional backends that measured `variant`."""
    for backend in POOLS:
        if select(df, variant=variant, backend=backend).empty:
            raise LookupError(f"{experiment}: no '{variant}' measurement on the {backend} pool")
    return list(POOLS) + [b for b in optional
                          if not select(df, variant=variant, backend=b).empty]


def _cases(rows, dims):
    cases = pd.DataFrame(rows)
    status, condition = classify(cases, dims)
    return status, condition, cases


def _evidence(cases, columns):
    return [{c: (row[c].item() if hasattr(row[c], "item") else row[c]) for c in columns}
            for _, row in cases.iterrows()]


def _status_text(status, condition):
    if condition is None:
        return ""
    if condition.startswith("in "):  # a list of cases, not a condition
        return f" It holds {condition}."
    return f" It holds only for {condition}."


# --------------------------------------------------------------------------------------------
# The GIL and processes (gil_baseline)

def _gil_speedup(df, serial, backend, n, p):
    return _speedup(df, "gil_baseline", {"backend": serial, "n": n},
                    {"backend": backend, "n": n, "p": p})


def _gil_threads(run):
    df = run.data("gil_baseline")
    rows = []
    for serial, backend in (("cpython_serial", "cpython_thread"), ("serial", "gil_thread")):
        measured = select(df, backend=backend)
        if measured.empty:
            raise LookupError(f"gil_baseline: no measurement on backend {backend}")
        for (n, p), _ in measured.groupby(["n", "p"]):
            if p < 2:
                continue
            s = _gil_speedup(df, serial, backend, n, p)
            rows.append({"backend": backend, "n": int(n), "p": int(p), "speedup": s.median,
                         "holds": s.median < NO_GAIN})
    status, condition, cases = _cases(rows, ["backend", "p", "n"])
    best = cases.loc[cases["speedup"].idxmax()]
    summary = (f"The best speedup of threads that must hold one lock is {number(best.speedup)} "
               f"({value_text('backend', best.backend)}, p\\,=\\,{best.p}, "
               f"n\\,=\\,{power_of_two(best.n)}); the rule asks for less than {NO_GAIN} at every "
               f"p\\,$\\geq$\\,2.")
    return Verdict(status, summary + _status_text(status, condition), condition,
                   _evidence(cases, ["backend", "n", "p", "speedup", "holds"]))


def _gil_processes(run):
    df = run.data("gil_baseline")
    p = run.cores
    rows = []
    for serial, processes, threads in (("cpython_serial", "cpython_process", "cpython_thread"),
                                       ("serial", "process", "gil_thread")):
        ns = sorted(select(df, backend=processes, p=p)["n"].unique())
        if not ns:
            raise LookupError(f"gil_baseline: no measurement on backend {processes} at p={p}")
        n = ns[-1]
        proc = _gil_speedup(df, serial, processes, n, p)
        thr = _gil_speedup(df, serial, threads, n, p)
        rows.append({"backend": processes, "n": int(n), "p": p, "speedup": proc.median,
                     "threads_speedup": thr.median, "efficiency": proc.median / p,
                     "holds": proc.q1 > thr.q3 and proc.median / p >= USEFUL_EFFICIENCY})
    status, condition, cases = _cases(rows, ["backend"])
    parts = [f"{value_text('backend', r.backend)} {number(r.speedup)} against "
             f"{number(r.threads_speedup)} for the locked threads" for r in cases.itertuples()]
    summary = (f"At p\\,=\\,{p} (the cores) and the largest n the speedups are "
               + "; ".join(parts) + f". The rule asks processes to beat the locked threads "
               f"beyond the spread and to reach an efficiency of at least {USEFUL_EFFICIENCY}.")
    return Verdict(status, summary + _status_text(status, condition), condition,
                   _evidence(cases, ["backend", "p", "speedup", "threads_speedup", "holds"]))


# --------------------------------------------------------------------------------------------
# The pool's cost per task (pool_overhead)

def _apply_cost(df, backend):
    rows = select(df, variant="apply", backend=backend)
    if rows.empty:
        raise LookupError(f"pool_overhead: no 'apply' measurement on backend {backend}")
    return Spread.of(rows["seconds"] / rows["n"])


def _coarse_grain(run):
    df = run.data("pool_overhead")
    process = _apply_cost(df, "process")
    thread = _apply_cost(df, "thread")
    ratio = process.median / thread.median
    status = CONFIRMED if ratio >= 1.5 and process.q1 > thread.q3 else REFUTED
    summary = (f"One task's round trip costs {seconds(process.median)} on the process pool and "
               f"{seconds(thread.median)} on the thread pool (ratio {number(ratio)}); a task must "
               f"carry at least about {seconds(10 * process.median)} of work for the process "
               f"pool's overhead to stay under 10\\,\\%. The rule asks the process pool's round "
               f"trip to cost at least 1.5 times the thread pool's, beyond the spread.")
    return Verdict(status, summary, None, [{"process_s": process.median,
                                            "thread_s": thread.median, "ratio": ratio}])


# --------------------------------------------------------------------------------------------
# Map (map_chunksize)

def _log2n_chunk(run):
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
        excess = medians[log2n] / medians.min() - 1
        rows.append({"function": function, "backend": backend, "n": int(n),
                     "best_chunksize": int(best_chunk), "excess": excess,
                     "holds": excess <= WITHIN_BEST})
    if not rows:
        raise LookupError(f"map_chunksize: no map at p={p}")
    status, condition, cases = _cases(rows, ["function", "backend", "n"])
    worst = cases.loc[cases["excess"].idxmax()]
    worst_text = (f"{number(100 * worst.excess)}\\,\\% slower" if worst.excess < 1 else
                  f"{number(1 + worst.excess)} times as slow")
    summary = (f"At p\\,=\\,{p}, chunksize $\\log_2 n$ is within {int(WITHIN_BEST * 100)}\\,\\% of "
               f"the best chunksize in {int(cases.holds.sum())} of {len(cases)} cases; at worst "
               f"it is {worst_text} ({code(worst.function)} function on "
               f"the {code(worst.backend)} pool, n\\,=\\,{power_of_two(worst.n)}, best chunksize "
               f"{power_of_two(worst.best_chunksize)}).")
    return Verdict(status, summary + _status_text(status, condition), condition,
                   _evidence(cases, ["function", "backend", "n", "best_chunksize", "excess",
                                     "holds"]))


# --------------------------------------------------------------------------------------------
# Reduction (reduce_tree_vs_partitioned)

def _tree_loses(run):
    df = run.data("reduce_tree_vs_partitioned")
    rows = []
    for (backend, n, p), tree in select(df, variant="tree").groupby(["backend", "n", "p"]):
        serial = _spread(df, "reduce", variant="serial", backend=serial_backend(backend), n=n)
        part = _spread(df, "reduce", variant="partitioned", backend=backend, n=n, p=p)
        t = Spread.of(tree["seconds"])
        rows.append({"backend": backend, "n": int(n), "p": int(p),
                     "vs_serial": t.median / serial.median,
                     "vs_partitioned": t.median / part.median,
                     "holds": t.q1 > serial.q3 and t.q1 > part.q3})
    status, condition, cases = _cases(rows, ["backend", "n", "p"])
    summary = (f"Over {len(cases)} measured (backend, n, p), the tree takes "
               f"{number(cases.vs_serial.min())} to {number(cases.vs_serial.max())} times the "
               f"serial time and {number(cases.vs_partitioned.min())} to "
               f"{number(cases.vs_partitioned.max())} times the partitioned time; the rule asks it "
               f"to be slower than both, beyond the spread, in every case.")
    return Verdict(status, summary + _status_text(status, condition), condition,
                   _evidence(cases, ["backend", "n", "p", "vs_serial", "vs_partitioned", "holds"]))


def _tree_is_task_overhead(run):
    df = run.data("reduce_tree_vs_partitioned")
    pool = run.data("pool_overhead")
    p = run.cores
    task = select(pool, variant="map", backend="process", chunksize=1, p=p)
    if task.empty:
        raise LookupError(f"pool_overhead: no map at chunksize 1 on the process pool, p={p}")
    per_task = Spread.of(task["seconds"] / task["n"])
    tree = select(df, variant="tree", backend="process", p=p)
    if tree.empty:
        raise LookupError(f"reduce_tree_vs_partitioned: no tree on the process pool at p={p}")
    rows = []
    for n, group in tree.groupby("n"):
        per_pair = Spread.of(group["seconds"] / (n - 1))
        ratio = per_pair.median / per_task.median
        rows.append({"n": int(n), "per_pair_s": per_pair.median, "ratio": ratio,
                     "holds": 1 / EXPLAINS <= ratio <= EXPLAINS})
    status, condition, cases = _cases(rows, ["n"])
    summary = (f"One pair costs the tree {seconds(cases.per_pair_s.min())} to "
               f"{seconds(cases.per_pair_s.max())} on the process pool at p\\,=\\,{p}; one map "
               f"task "
               f"at chunksize 1 costs {seconds(per_task.median)} (pool\\_overhead). The rule asks "
               f"the two to agree within a factor {EXPLAINS:g}. No process is forked per "
               f"task: the workers are forked once, with the pool.")
    return Verdict(status, summary + _status_text(status, condition), condition,
                   _evidence(cases, ["n", "per_pair_s", "ratio", "holds"]))


def _partitioned_speedups(run, experiment, variant, serial_variant, p=None, extra=None):
    """Speedup over the backend's serial code at p (default: the cores), per backend and n."""
    df = run.data(experiment)
    p = p or run.cores
    extra = extra or {}
    rows = []
    for backend in _backends(df, experiment, variant):
        for n, _ in select(df, variant=variant, backend=backend, p=p, **extra).groupby("n"):
            s = _speedup(df, experiment,
                         dict(variant=serial_variant, backend=serial_backend(backend), n=n,
                              **extra),
                         dict(variant=variant, backend=backend, n=n, p=p, **extra))
            rows.append({"backend": backend, "n": int(n), "p": p, "speedup": s.median,
                         "q1": s.q1, "q3": s.q3})
    if not rows:
        raise LookupError(f"{experiment}: no {variant} measurement at p={p}")
    return pd.DataFrame(rows)


def _partitioned_beats_serial(run):
    cases = _partitioned_speedups(run, "reduce_tree_vs_partitioned", "partitioned", "serial")
    cases["holds"] = cases["q1"] > SIGNIFICANT
    status, condition = classify(cases, ["backend", "n"])
    best = cases.loc[cases["speedup"].idxmax()]
    summary = (f"At p\\,=\\,{run.cores} the partitioned reduce's speedup over the serial one runs "
               f"from {number(cases.speedup.min())} to {number(cases.speedup.max())} (best: "
               f"{code(best.backend)} pool, n\\,=\\,{power_of_two(best.n)}); the rule asks the "
               f"whole interquartile range above {SIGNIFICANT}.")
    return Verdict(status, summary + _status_text(status, condition), condition,
                   _evidence(cases, ["backend", "n", "speedup", "holds"]))


def _speedup_grows_with_n(run):
    rows = []
    for p in range(2, run.cores + 1):
        if p not in set(run.data("reduce_tree_vs_partitioned")["p"]):
            continue
        s = _partitioned_speedups(run, "reduce_tree_vs_partitioned", "partitioned", "serial",
                                  p=p)
        for backend, group in s.groupby("backend"):
            group = group.sort_values("n")
            values = group["speedup"].to_numpy()
            ns = group["n"].to_numpy()
            for i in range(1, len(values)):
                rows.append({"backend": backend, "p": p, "n": int(ns[i]),
                             "from": values[i - 1], "to": values[i],
                             "holds": values[i] >= 0.9 * values[i - 1]})
    status, condition, cases = _cases(rows, ["backend", "n", "p"])
    falls = cases[~cases["holds"]]
    ends = []
    for backend, group in cases[cases["p"] == run.cores].groupby("backend"):
        group = group.sort_values("n")
        ends.append(f"{code(backend)} from {number(group['from'].iloc[0])} to "
                    f"{number(group['to'].iloc[-1])}")
    detail = ("" if falls.empty else
              f" It falls by more than 10\\,\\% at {len(falls)} of {len(cases)} steps, the first "
              f"at n\\,=\\,{power_of_two(falls.iloc[0].n)} ({code(falls.iloc[0].backend)}, "
              f"p\\,=\\,{falls.iloc[0].p}).")
    summary = (f"From the smallest to the largest n, the partitioned reduce's speedup at "
               f"p\\,=\\,{run.cores} goes " + "; ".join(ends) + "." + detail)
    return Verdict(status, summary + _status_text(status, condition), condition,
                   _evidence(cases, ["backend", "p", "n", "from", "to", "holds"]))


# --------------------------------------------------------------------------------------------
# Scans (scan_two_pass)

def _scan_vs_reduce(run, p=None):
    df = run.data("scan_two_pass")
    p = p or run.cores
    rows = []
    for backend in _backends(df, "scan_two_pass", "two_pass"):
        serial = serial_backend(backend)
        for n in sorted(select(df, variant="two_pass", backend=backend, p=p)["n"].unique()):
            scan = _speedup(df, "scan", dict(variant="serial", backend=serial, n=n),
                            dict(variant="two_pass", backend=backend, n=n, p=p))
            red = _speedup(df, "scan", dict(variant="serial_reduce", backend=serial, n=n),
                           dict(variant="partitioned", backend=backend, n=n, p=p))
            rows.append({"backend": backend, "n": int(n), "p": p, "scan_speedup": scan.median,
                         "reduce_speedup": red.median, "ratio": scan.median / red.median})
    if not rows:
        raise LookupError(f"scan_two_pass: no two_pass measurement at p={p}")
    return pd.DataFrame(rows)


def _scan_half(run):
    cases = _scan_vs_reduce(run)
    lo, hi = ABOUT_HALF
    cases["holds"] = cases["ratio"].between(lo, hi)
    status, condition = classify(cases, ["backend", "n"])
    summary = (f"At p\\,=\\,{run.cores}, the two-pass scan's speedup divided by the partitioned "
               f"reduce's speedup (each over its own serial code) runs from "
               f"{number(cases.ratio.min())} to {number(cases.ratio.max())} (median "
               f"{number(cases.ratio.median())}); the rule calls a ratio in [{lo}, {hi}] "
               f"``about 1/2''.")
    return Verdict(status, summary + _status_text(status, condition), condition,
                   _evidence(cases, ["backend", "n", "scan_speedup", "reduce_speedup", "ratio",
                                     "holds"]))


def _scan_double_work(run):
    df = run.data("scan_two_pass")
    rows = []
    for backend in _backends(df, "scan_two_pass", "two_pass"):
        # The largest n: at smaller sizes the pool's fixed cost, not the work, dominates.
        ns = sorted(select(df, variant="two_pass", backend=backend, p=1)["n"].unique())
        for n in ns[-1:]:
            slow = _speedup(df, "scan", dict(variant="two_pass", backend=backend, n=n, p=1),
                            dict(variant="serial", backend=serial_backend(backend), n=n))
            rows.append({"backend": backend, "n": int(n), "factor": slow.median,
                         "holds": WORK_FACTOR_TWO[0] <= slow.median <= WORK_FACTOR_TWO[1]})
    status, condition, cases = _cases(rows, ["backend", "n"])
    summary = (f"On one worker and at the largest n, the two-pass scan takes "
               f"{number(cases.factor.min())} to {number(cases.factor.max())} times the serial "
               f"scan; the rule calls a factor in "
               f"[{WORK_FACTOR_TWO[0]}, {WORK_FACTOR_TWO[1]}] ``a factor of 2 more work''.")
    return Verdict(status, summary + _status_text(status, condition), condition,
                   _evidence(cases, ["backend", "n", "factor", "holds"]))


# --------------------------------------------------------------------------------------------
# Pack (pack vs scan_two_pass)

def _pack_saves_pass(run):
    pack = run.data("pack")
    scan = run.data("scan_two_pass")
    p = run.cores
    rows = []
    for backend in _backends(pack, "pack", "scan_pack"):
        serial = serial_backend(backend)
        common = sorted(set(select(pack, variant="scan_pack", backend=backend, p=p)["n"]) &
                        set(select(scan, variant="two_pass", backend=backend, p=p)["n"]))
        if not common:
            if backend in POOLS:
                raise LookupError(f"pack and scan_two_pass share no size n on the {backend} "
                                  f"pool at p={p}")
            continue
        n = common[-1]
        scan_s = _speedup(scan, "scan", dict(variant="serial", backend=serial, n=n),
                          dict(variant="two_pass", backend=backend, n=n, p=p))
        for keep in sorted(select(pack, variant="scan_pack", backend=backend, n=n)["keep_pct"]
                           .unique()):
            pack_s = _speedup(pack, "pack", dict(variant="serial", backend=serial, n=n,
                                                 keep_pct=keep),
                              dict(variant="scan_pack", backend=backend, n=n, p=p,
                                   keep_pct=keep))
            rows.append({"backend": backend, "n": int(n), "keep_pct": int(keep),
                         "pack_speedup": pack_s.median, "scan_speedup": scan_s.median,
                         "holds": pack_s.median > scan_s.median})
    status, condition, cases = _cases(rows, ["backend", "keep_pct"])
    sizes = ", ".join(f"{code(b)} n\\,=\\,{power_of_two(g.n.iloc[0])}"
                      for b, g in cases.groupby("backend"))
    summary = (f"At p\\,=\\,{p} and the largest n both experiments measured ({sizes}), pack's "
               f"speedup over a serial pack runs from {number(cases.pack_speedup.min())} to "
               f"{number(cases.pack_speedup.max())}, the two-pass scan's from "
               f"{number(cases.scan_speedup.min())} to {number(cases.scan_speedup.max())}; the "
               f"rule asks pack to scale better than the scan, as one pass less should make it.")
    return Verdict(status, summary + _status_text(status, condition), condition,
                   _evidence(cases, ["backend", "n", "keep_pct", "pack_speedup", "scan_speedup",
                                     "holds"]))


# --------------------------------------------------------------------------------------------
# Inner product (dot_flop_mop)

def _dot_scales_better(run):
    dot = _partitioned_speedups(run, "dot_flop_mop", "dot", "dot")
    red = _partitioned_speedups(run, "dot_flop_mop", "reduce", "reduce")
    cases = dot.merge(red, on=["backend", "n", "p"], suffixes=("_dot", "_reduce"))
    cases["holds"] = cases["speedup_dot"] >= cases["speedup_reduce"]
    status, condition = classify(cases, ["backend", "n"])
    summary = (f"At p\\,=\\,{run.cores}, dot's speedup runs from {number(cases.speedup_dot.min())} "
               f"to {number(cases.speedup_dot.max())}, the reduce's from "
               f"{number(cases.speedup_reduce.min())} to {number(cases.speedup_reduce.max())}; "
               f"the rule asks dot's median speedup to be at least the reduce's at each n.")
    return Verdict(status, summary + _status_text(status, condition), condition,
                   _evidence(cases, ["backend", "n", "speedup_dot", "speedup_reduce", "holds"]))


# --------------------------------------------------------------------------------------------
# Dense matrix-vector product (matvec_blas)

def _blas_wins(run):
    df = run.data("matvec_blas")
    rows = []
    # Only the shapes that the C++ binary measured have serial OpenBLAS; the CPython reference
    # may add smaller shapes of its own, which have no BLAS time to compare with here.
    blas_shapes = select(df, backend="openblas_serial")[["rows", "cols"]].drop_duplicates()
    df = df.merge(blas_shapes, on=["rows", "cols"])
    for (r, c), shape in df.groupby(["rows", "cols"]):
        blas = _spread(shape, "matvec", backend="openblas_serial")
        for backend in ("process", "thread", "openmp", "cpython_process"):
            for p, group in select(shape, backend=backend).groupby("p"):
                if p > run.cores:
                    continue
                t = Spread.of(group["seconds"])
                rows.append({"matrix": f"{int(r)}$\\times${int(c)}", "backend": backend,
                             "p": int(p), "ratio": t.median / blas.median,
                             "holds": t.median >= blas.median})
    status, condition, cases = _cases(rows, ["matrix", "backend", "p"])
    pools = cases[cases["backend"].isin(POOLS)]
    best = pools.loc[pools["ratio"].idxmin()]
    summary = (f"The fastest parallel matvec of the C++ pools takes {number(best.ratio)} times "
               f"serial OpenBLAS ({best.matrix}, {code(best.backend)} pool, p\\,=\\,{best.p}); the "
               f"rule asks serial OpenBLAS to be at least as fast as every parallel matvec at "
               f"every p\\,$\\leq$\\,{run.cores} and shape.")
    return Verdict(status, summary + _status_text(status, condition), condition,
                   _evidence(cases, ["matrix", "backend", "p", "ratio", "holds"]))


# --------------------------------------------------------------------------------------------
# Shared arrays (shared_array_lock)

def _split_access(df):
    """Columns access and pattern from the variant '<access>_<pattern>'."""
    parts = df["variant"].str.rsplit("_", n=1, expand=True)
    return df.assign(access=parts[0], pattern=parts[1])


def _locked_costs_more(run):
    df = _split_access(run.data("shared_array_lock"))
    rows = []
    for (pattern, backend, n, p), locked in select(df, access="locked").groupby(
            ["pattern", "backend", "n", "p"], dropna=False):
        if backend in ("serial", "cpython_serial"):
            continue
        raw = times(df, "shared_array_lock", access="raw", pattern=pattern, backend=backend,
                    n=n, p=p)
        r = speedup(locked["seconds"], raw)
        rows.append({"pattern": pattern, "backend": backend, "p": int(p), "n": int(n),
                     "ratio": r.median, "holds": r.q1 > COSTLIER})
    if not rows:
        raise LookupError("shared_array_lock: no locked_<pattern> measurement on a pool")
    status, condition, cases = _cases(rows, ["pattern", "backend", "p", "n"])
    per = "; ".join(f"{code(b)} {number(g.ratio.min())} to {number(g.ratio.max())}"
                    for b, g in cases.groupby("backend"))
    summary = (f"An increment under the lock (SharedArray / multiprocessing.Array) costs, per "
               f"backend, {per} times an unlocked one (RawArray); the rule asks the whole "
               f"interquartile range of the ratio above {COSTLIER} for every pattern and p.")
    return Verdict(status, summary + _status_text(status, condition), condition,
                   _evidence(cases, ["pattern", "backend", "p", "n", "ratio", "holds"]))


def _writes_atomic(run):
    df = _split_access(run.data("shared_array_lock"))
    if "lost_fraction" not in df.columns:
        raise LookupError("shared_array_lock: no column lost_fraction")
    rows = []
    for (backend, p), group in select(df, access="locked_access", pattern="same").groupby(
            ["backend", "p"]):
        if backend in ("serial", "cpython_serial") or p < 2:
            continue
        lost = float(group["lost_fraction"].max())
        rows.append({"backend": backend, "p": int(p), "lost": lost, "holds": lost == 0.0})
    if not rows:
        raise LookupError("shared_array_lock: no locked_access_same measurement with p >= 2")
    status, condition, cases = _cases(rows, ["backend", "p"])
    summary = (f"With p\\,$\\geq$\\,2 workers incrementing the same elements by a load and a "
               f"store that each hold the lock (Python's \\texttt{{a[i] += 1}} on an Array), up to "
               f"{number(100 * cases.lost.max())}\\,\\% of the increments are lost. Each write "
               f"is atomic, the read-modify-write is not: an increment is safe only with the lock "
               f"held around it (the exact variants, checked to lose nothing).")
    return Verdict(status, summary + _status_text(status, condition), condition,
                   _evidence(cases, ["backend", "p", "lost", "holds"]))


# --------------------------------------------------------------------------------------------
# MapReduce (mapreduce_wordcount)

def _wordcount_scales(run):
    df = run.data("mapreduce_wordcount")
    p = run.cores
    rows = []
    for backend, serial in (("process", "serial"), ("thread", "serial"),
                            ("cpython_process", "cpython_serial")):
        if select(df, backend=backend).empty:
            continue
        s = _speedup(df, "wordcount", dict(backend=serial), dict(backend=backend, p=p))
        rows.append({"backend": backend, "p": p, "speedup": s.median, "efficiency": s.median / p,
                     "holds": s.median / p >= USEFUL_EFFICIENCY})
    status, condition, cases = _cases(rows, ["backend"])
    parts = [f"{code(r.backend)} {number(r.speedup)}" for r in cases.itertuples()]
    summary = (f"At p\\,=\\,{p}, the word count's speedups over its serial run are "
               + "; ".join(parts) + f". The rule asks an efficiency of at least "
               f"{USEFUL_EFFICIENCY}.")
    return Verdict(status, summary + _status_text(status, condition), condition,
                   _evidence(cases, ["backend", "speedup", "efficiency", "holds"]))


CLAIMS = (  # in the order of the paper's sections
    Claim("gil_threads", "gil", "Threads under a GIL gain nothing from more cores",
          "This GIL prevents multicore performance increases using one python interpreter.",
          f"Threads that must hold one global lock (CPython's threads, and C++ threads under a "
          f"model of the GIL) reach a speedup below {NO_GAIN} at every p $\\geq$ 2.",
          ("gil_baseline",), "gil_baseline", _gil_threads),
    Claim("gil_processes", "gil", "Processes, each with its own GIL, run in parallel",
          "Multiprocessing [...] uses multiple operating system (OS) level processes to run "
          "multiple interpreters that can now work in parallel. Each process has its own GIL "
          "which eliminates contention.",
          f"At p = cores, processes (CPython's, and the C++ process pool) beat the locked "
          f"threads beyond the interquartile ranges, with an efficiency of at least "
          f"{USEFUL_EFFICIENCY}.",
          ("gil_baseline",), "gil_baseline", _gil_processes),
    Claim("coarse_grain", "pool", "Process channels force a coarser grain than shared memory",
          "These communication channels mean that the parallelism that can be used must be a "
          "coarser grain than in OpenMP shared memory programming or CILK+ programing.",
          "A task's round trip (apply) on the process pool costs at least 1.5 times that on the "
          "thread pool, beyond the interquartile ranges.",
          ("pool_overhead",), "pool_overhead", _coarse_grain),
    Claim("async_not_ready", "pool", "Reading an uncomputed result raises an error",
          "An exception is raised if a user attempts to retrieve a result that has not yet "
          "been computed.",
          "A property of the interface, not of timings.", ("pool_overhead",), "pool_overhead",
          None,
          "No timing decides this. AsyncResult::value() throws NotReady for a result not yet "
          "computed, and the pool's unit tests check it."),
    Claim("log2n_chunk", "map", "A chunk of $\\log_2 N$ items is a good chunk size",
          "I seem to have found that log(N) provides a good chunk size.",
          f"At p = cores, for each map function, pool and n, chunksize $\\log_2 n$ is at most "
          f"{int(WITHIN_BEST * 100)}\\,\\% slower (median) than the best chunksize of the sweep.",
          ("map_chunksize",), "map_chunksize", _log2n_chunk),
    Claim("tree_loses", "reduce", "The reduction tree loses to serial and partitioned reduce",
          "The PRAM style algorithm using a reduction tree is significantly out performed by "
          "both serial reduction and a partitioned reduction that uses one part for each "
          "processor.",
          "At every n and p measured, on every pool, the tree reduce is slower than both the "
          "serial and the partitioned reduce, beyond the interquartile ranges.",
          ("reduce_tree_vs_partitioned",), "reduce_tree_vs_partitioned", _tree_loses),
    Claim("tree_overhead", "reduce", "The tree's cost is task (process, call) overhead",
          "I believe this has to do with the overhead associated with forking OS level "
          "processes and function call overhead.",
          f"The tree's time per pair on the process pool at p = cores is within a factor "
          f"{EXPLAINS:g} of one map task's cost at chunksize 1 (experiment pool\\_overhead).",
          ("reduce_tree_vs_partitioned", "pool_overhead"), "reduce_tree_vs_partitioned",
          _tree_is_task_overhead),
    Claim("partitioned_beats_serial", "reduce",
          "The partitioned reduce is significantly faster than serial",
          "This provides a significant speedup over both the serial version and the reduction "
          "tree versions.",
          f"At p = cores, the partitioned reduce's speedup over the serial reduce has its whole "
          f"interquartile range above {SIGNIFICANT}, on each pool and at each n.",
          ("reduce_tree_vs_partitioned",), "reduce_tree_vs_partitioned",
          _partitioned_beats_serial),
    Claim("speedup_grows_with_n", "reduce", "The partitioned reduce's speedup grows with $n$",
          "The flat approach [...] performs better as the size of the partitions increases. "
          "This means that for a fixed $p$ more work elements means better speedup.",
          "For each pool and 2 $\\leq$ p $\\leq$ cores, the partitioned reduce's median speedup "
          "never falls by more than 10\\,\\% from one size n to the next larger one.",
          ("reduce_tree_vs_partitioned",), "reduce_tree_vs_partitioned",
          _speedup_grows_with_n),
    Claim("scan_half", "scan", "The scan scales about half as well as the reduce",
          "As expected the scalability of this scan is approximately a factor of two worse "
          "than the partitioned reducer.",
          f"At p = cores, (two-pass scan speedup) / (partitioned reduce speedup), each over its "
          f"own serial code on the same data, lies in [{ABOUT_HALF[0]}, {ABOUT_HALF[1]}].",
          ("scan_two_pass",), "scan_two_pass", _scan_half),
    Claim("scan_double_work", "scan", "The two-pass scan does twice the serial work",
          "This second pass means that the algorithm has a factor of 2 more work than the "
          "serial algorithm which means that scalability is decreased by that same factor of 2.",
          f"On one worker and at the largest n measured, the two-pass scan takes "
          f"{WORK_FACTOR_TWO[0]} to {WORK_FACTOR_TWO[1]} times the serial scan, on each pool.",
          ("scan_two_pass",), "scan_two_pass", _scan_double_work),
    Claim("pack_saves_pass", "pack", "Pack saves the scan's second pass",
          "Since we are using a partitioned approach we do not need the indices to be "
          "propagated this saves the second pass over the data that we make in the general "
          "scan.",
          "At p = cores and the largest n both experiments measured, pack's speedup over a "
          "serial pack exceeds the two-pass scan's speedup over a serial scan, on each pool and "
          "keep ratio.",
          ("pack", "scan_two_pass"), "pack", _pack_saves_pass),
    Claim("dot_flop_mop", "dot", "The inner product scales better than the reduce",
          "This problem is interesting because we increase the flop to mop ratio. This should "
          "be helpful for achieving scalability.",
          "At p = cores, on each pool and at each n, the inner product's median speedup is at "
          "least the reduction's.",
          ("dot_flop_mop",), "dot_flop_mop", _dot_scales_better),
    Claim("blas_wins", "matvec", "Serial BLAS beats every parallel matrix-vector product",
          "The clear winner is serial numpy. There is just no way to beat optimized C BLAS for "
          "dense numerical linear algebra.",
          "For every matrix shape, serial OpenBLAS dgemv (what numpy calls) is at least as fast "
          "(median) as every parallel matvec, on both C++ pools and CPython's, at every "
          "p $\\leq$ cores.",
          ("matvec_blas",), "matvec_blas", _blas_wins),
    Claim("wordcount_scales", "mapreduce", "MapReduce word count scales",
          "Use this to count words in some big document collection.",
          f"The MapReduce word count scales: at p = cores its efficiency (speedup / p) is at "
          f"least {USEFUL_EFFICIENCY} on each pool.",
          ("mapreduce_wordcount",), "mapreduce_wordcount", _wordcount_scales),
    Claim("deadlock_free", "mapreduce", "MapReduce is deadlock free",
          "One of the benefits of Map Reduce programming is that it is deadlock free. Because "
          "processes do not explicitly wait on other processes they cannot create a cycle of "
          "waits that cannot be resolved.",
          "A property of the design, not of timings.", ("mapreduce_wordcount",),
          "mapreduce_wordcount", None,
          "No timing decides this. The driver waits only for whole map or reduce phases "
          "that the caller submits, and a task never waits for another task, so there is no "
          "cycle of waits (primitives/mapreduce.h); the library's tests run an iterative job "
          "(k-means) to convergence on every pool. A worker that dies fails its task with an "
          "error instead of hanging the job (the process pool's contract, docs/design.md)."),
    Claim("locked_costs_more", "shared", "Locked Array writes cost more than RawArray writes",
          "Compare the performance of a multiprocessing.Array and multiprocessing.RawArray.",
          f"An increment under the array's lock costs more than an unlocked one: the ratio's "
          f"whole interquartile range lies above {COSTLIER}, on every pool (C++ and CPython), "
          f"at every p, for disjoint, interleaved and shared elements.",
          ("shared_array_lock",), "shared_array_lock", _locked_costs_more),
    Claim("writes_atomic", "shared", "The Array's lock makes concurrent updates safe",
          "Arrays have a lock that makes writes atomic.",
          "Read as the reason to pay for the lock: with p $\\geq$ 2 workers incrementing the "
          "same elements through the Array's own locked loads and stores (Python's "
          "\\texttt{a[i] += 1}), no increment is lost.",
          ("shared_array_lock",), "shared_array_lock", _writes_atomic),
)

CLAIMS_BY_ID = {c.id: c for c in CLAIMS}
assert len(CLAIMS_BY_ID) == len(CLAIMS), "claim ids must be unique"


def claim(claim_id):
    try:
        return CLAIMS_BY_ID[claim_id]
    except KeyError:
        raise KeyError(f"unknown claim '{claim_id}'; claims: {', '.join(CLAIMS_BY_ID)}") from None
