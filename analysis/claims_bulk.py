"""The rules of the seed's claims about the bulk primitives and shared data (sections "Scan",
"Pack", "Inner product", "Matrix-vector product", "Map Reduce", "Notes": shared arrays). Each
returns {system: Verdict} (claim_support.verdicts).
"""

import numpy as np
import pandas as pd

from analysis.claim_support import (ABOUT_HALF, COSTLIER, TOLERANCE, USEFUL_EFFICIENCY,
                                    WORK_FACTOR_TWO, above, backends_of, beats, cache_sizes,
                                    exact, no_worse, serial_backend, superlinear_note, verdicts,
                                    within)
from analysis.claims_processes import partitioned_speedups
from analysis.classify import code, number, power_of_two
from analysis.stats import CORES, Band, ratio_interval, ratio_of_ratios, resolve, select, times

# --------------------------------------------------------------------------------------------
# Scans (scan_two_pass, scan_work)


def scan_vs_reduce(run):
    """Per backend and n at p = cores: (two-pass scan speedup) / (partitioned reduce speedup),
    each over its own serial code, with its interval (the rule of scan_half; figure 5)."""
    df = run.data("scan_two_pass")
    p = run.cores
    rows = []
    for backend in backends_of(df, "scan_two_pass", "two_pass"):
        serial = serial_backend(backend)
        for n in sorted(select(df, variant="two_pass", backend=backend, p=p)["n"].unique()):
            def pair(serial_variant, variant):
                return (times(df, "scan", variant=serial_variant, backend=serial, n=n),
                        times(df, "scan", variant=variant, backend=backend, n=n, p=p))
            ratio = ratio_of_ratios(pair("serial", "two_pass"), pair("serial_reduce",
                                                                     "partitioned"))
            rows.append({"backend": backend, "n": int(n), "p": p, "ratio": ratio.estimate,
                         "low": ratio.low, "high": ratio.high,
                         "holds": within(ratio, ABOUT_HALF)})
    if not rows:
        raise LookupError(f"scan_two_pass: no two_pass measurement at p={p}")
    return pd.DataFrame(rows)


def scan_half(run):
    rows = scan_vs_reduce(run).to_dict("records")
    p = run.cores

    def summarize(cases):
        return (f"At p\\,=\\,{p}, the two-pass scan's speedup divided by the partitioned "
                f"reduce's (each over its own serial code) runs from "
                f"{number(cases.ratio.min())} to {number(cases.ratio.max())} (median "
                f"{number(cases.ratio.median())}); the rule asks the ratio's interval inside "
                f"[{ABOUT_HALF.low}, {ABOUT_HALF.high}], ``about 1/2''.")
    return verdicts(rows, ["backend", "n"], summarize,
                    ["backend", "n", "ratio", "low", "high", "holds"],
                    f"the ratio's interval lies outside [{ABOUT_HALF.low}, {ABOUT_HALF.high}]")


def _calls(df, **where):
    """The operator calls of one configuration; a count that differs between repetitions is an
    error (the count is deterministic)."""
    values = set(select(df, **where)["calls"].astype(int))
    shown = ", ".join(f"{k}={v}" for k, v in where.items())
    if not values:
        raise LookupError(f"scan_work: no count with {shown}")
    if len(values) > 1:
        raise LookupError(f"scan_work: {shown} counted {sorted(values)} in different "
                          f"repetitions; the count must be deterministic")
    return values.pop()


def scan_double_work(run):
    df = run.data("scan_work")
    rows = []
    for backend in ("serial_pool", "process", "cpython_process"):
        measured = select(df, variant="two_pass", backend=backend)
        if measured.empty:
            raise LookupError(f"scan_work: no two_pass count on {backend}")
        for (n, p), _ in measured.groupby(["n", "p"]):
            if p < 2:
                continue  # one piece: no second pass
            calls = _calls(df, variant="two_pass", backend=backend, n=n, p=p)
            if backend == "process" and calls != _calls(df, variant="two_pass",
                                                        backend="serial_pool", n=n, p=p):
                raise LookupError(f"scan_work: the process pool counted {calls} calls at "
                                  f"n={n}, p={p}, SerialPool({p}) another number: the "
                                  f"partition must be the same")
            serial = _calls(df, variant="serial", backend=serial_backend(backend), n=n)
            rows.append({"backend": backend, "n": int(n), "p": int(p),
                         "serial_per_element": serial / n, "per_element": calls / n,
                         "factor": calls / serial,
                         "holds": within(exact(calls / serial), WORK_FACTOR_TWO)})

    def summarize(cases):
        n = cases["n"].max()
        largest = cases[(cases["n"] == n) & (cases["backend"] != "serial_pool")]
        per_p = ", ".join(f"{number(r.factor)} at p\\,=\\,{r.p}"
                          for r in largest.sort_values("p").itertuples())
        return (f"Counted operator calls (deterministic; n\\,=\\,{power_of_two(n)}): the serial "
                f"scan makes {number(largest.serial_per_element.iloc[0])} per element, the "
                f"two-pass scan's work factor over it is {per_p}. The second pass touches "
                f"every piece but the first, so the factor tends to 2 only as p grows "
                f"(1 + (p$-$1)/p when the serial scan makes one call per element). The rule "
                f"asks the factor inside [{WORK_FACTOR_TWO.low}, {WORK_FACTOR_TWO.high}] at "
                f"each p\\,$\\geq$\\,2.")
    return verdicts(rows, ["p", "backend", "n"], summarize,
                    ["backend", "n", "p", "serial_per_element", "per_element", "factor",
                     "holds"],
                    f"the counted work factor lies outside [{WORK_FACTOR_TWO.low}, "
                    f"{WORK_FACTOR_TWO.high}]")


# --------------------------------------------------------------------------------------------
# Pack (pack vs scan_two_pass)

def pack_saves_pass(run):
    pack = run.data("pack")
    scan = run.data("scan_two_pass")
    p = run.cores
    rows = []
    for backend in backends_of(pack, "pack", "scan_pack"):
        serial = serial_backend(backend)
        common = sorted(set(select(pack, variant="scan_pack", backend=backend, p=p)["n"]) &
                        set(select(scan, variant="two_pass", backend=backend, p=p)["n"]))
        if not common:
            if not backend.startswith("cpython"):
                raise LookupError(f"pack and scan_two_pass share no size n on the {backend} "
                                  f"pool at p={p}")
            continue
        n = common[-1]
        scan_pair = (times(scan, "scan", variant="serial", backend=serial, n=n),
                     times(scan, "scan", variant="two_pass", backend=backend, n=n, p=p))
        for keep in sorted(select(pack, variant="scan_pack", backend=backend, n=n)["keep_pct"]
                           .unique()):
            pack_pair = (times(pack, "pack", variant="serial", backend=serial, n=n,
                               keep_pct=keep),
                         times(pack, "pack", variant="scan_pack", backend=backend, n=n, p=p,
                               keep_pct=keep))
            ratio = ratio_of_ratios(pack_pair, scan_pair)
            rows.append({"backend": backend, "n": int(n), "keep_pct": int(keep),
                         "pack_speedup": ratio_interval(*pack_pair).estimate,
                         "scan_speedup": ratio_interval(*scan_pair).estimate,
                         "ratio": ratio.estimate, "low": ratio.low, "high": ratio.high,
                         "holds": beats(ratio)})

    def summarize(cases):
        sizes = ", ".join(f"{code(b)} n\\,=\\,{power_of_two(g.n.iloc[0])}"
                          for b, g in cases.groupby("backend"))
        return (f"At p\\,=\\,{p} and the largest n both experiments measured ({sizes}), pack's "
                f"speedup over a serial pack runs from {number(cases.pack_speedup.min())} to "
                f"{number(cases.pack_speedup.max())}, the two-pass scan's from "
                f"{number(cases.scan_speedup.min())} to {number(cases.scan_speedup.max())}; "
                f"the rule asks the interval of their ratio above 1 beyond the "
                f"{int(TOLERANCE * 100)}\\,\\% band, as one pass less should make it.")
    return verdicts(rows, ["backend", "keep_pct"], summarize,
                    ["backend", "n", "keep_pct", "pack_speedup", "scan_speedup", "ratio", "low",
                     "high", "holds"],
                    "pack's speedup does not exceed the scan's beyond the band")


# --------------------------------------------------------------------------------------------
# Inner product (dot_flop_mop)

def dot_scales_better(run):
    df = run.data("dot_flop_mop")
    p = run.cores
    dot = partitioned_speedups(run, "dot_flop_mop", "dot", "dot")
    rows = []
    for case in dot:
        backend, n = case["backend"], case["n"]
        serial = serial_backend(backend)
        if select(df, variant="reduce", backend=serial, n=n).empty:
            continue  # a size of the grain sweep only: dot alone (the reduce's is its own)

        def pair(variant):
            return (times(df, "dot", variant=variant, backend=serial, n=n),
                    times(df, "dot", variant=variant, backend=backend, n=n, p=p))
        ratio = ratio_of_ratios(pair("dot"), pair("reduce"))
        rows.append(dict(case, ratio=ratio.estimate, ratio_low=ratio.low, ratio_high=ratio.high,
                         reduce_speedup=ratio_interval(*pair("reduce")).estimate,
                         holds=beats(ratio)))

    def summarize(cases):
        return (f"At p\\,=\\,{p}, dot's speedup runs from {number(cases.speedup.min())} to "
                f"{number(cases.speedup.max())}, the reduce's from "
                f"{number(cases.reduce_speedup.min())} to {number(cases.reduce_speedup.max())}; "
                f"the rule asks the interval of dot's speedup over the reduce's above 1 beyond "
                f"the {int(TOLERANCE * 100)}\\,\\% band at each n."
                + superlinear_note(cases, cache_sizes(run), 16))
    return verdicts(rows, ["backend", "n"], summarize,
                    ["backend", "n", "speedup", "reduce_speedup", "ratio", "ratio_low",
                     "ratio_high", "holds"],
                    "dot's speedup does not exceed the reduce's beyond the band")


# --------------------------------------------------------------------------------------------
# Dense matrix-vector product (matvec_blas)

BLAS_REFERENCE = {"process": "openblas_serial", "thread": "openblas_serial",
                  "openmp": "openblas_serial", "cpython_process": "numpy"}


def blas_wins(run):
    df = run.data("matvec_blas")
    rows = []
    for (r, c), shape in df.groupby(["rows", "cols"]):
        for backend, reference in BLAS_REFERENCE.items():
            blas = select(shape, backend=reference)
            if reference == "numpy":
                blas = select(blas, p=1)  # numpy with one BLAS thread: the seed's serial numpy
            measured = select(shape, backend=backend)
            if blas.empty or measured.empty:
                continue
            for p, group in measured.groupby("p"):
                if p < 2 or p > run.cores:
                    continue  # the claim is about parallel matvec on this machine's cores
                ratio = ratio_interval(group["seconds"], blas["seconds"])
                rows.append({"matrix": f"{int(r)}$\\times${int(c)}", "backend": backend,
                             "p": int(p), "ratio": ratio.estimate, "low": ratio.low,
                             "high": ratio.high, "holds": no_worse(ratio)})
    if not rows:
        raise LookupError("matvec_blas: no parallel matvec at 2 <= p <= cores beside a serial "
                          "BLAS time")

    def summarize(cases):
        best = cases.loc[cases["ratio"].idxmin()]
        at = ("p\\,=\\,2" if run.cores == 2 else
              f"2\\,$\\leq$\\,p\\,$\\leq$\\,{run.cores}")
        return (f"At {at}, the fastest parallel matvec takes "
                f"{number(best.ratio)} [{number(best.low)}, {number(best.high)}] times serial "
                f"BLAS ({best.matrix}, {code(best.backend)}, p\\,=\\,{best.p}); the rule asks "
                f"every parallel matvec's time over serial BLAS not below 1 beyond the "
                f"{int(TOLERANCE * 100)}\\,\\% band, for every shape.")
    return verdicts(rows, ["matrix", "backend", "p"], summarize,
                    ["matrix", "backend", "p", "ratio", "low", "high", "holds"],
                    "the parallel matvec is faster than serial BLAS beyond the band")


# --------------------------------------------------------------------------------------------
# Shared arrays (shared_array_lock)

def split_access(df):
    """Columns access and pattern from the variant '<access>_<pattern>'."""
    parts = df["variant"].str.rsplit("_", n=1, expand=True)
    return df.assign(access=parts[0], pattern=parts[1])


def locked_costs_more(run):
    df = split_access(run.data("shared_array_lock"))
    rows = []
    for (pattern, backend, n, p), locked in select(df, access="locked").groupby(
            ["pattern", "backend", "n", "p"], dropna=False):
        if backend in ("serial", "cpython_serial"):
            continue
        raw = times(df, "shared_array_lock", access="raw", pattern=pattern, backend=backend,
                    n=n, p=p)
        ratio = ratio_interval(locked["seconds"], raw)
        rows.append({"pattern": pattern, "backend": backend, "p": int(p), "n": int(n),
                     "ratio": ratio.estimate, "low": ratio.low, "high": ratio.high,
                     "holds": above(ratio, Band.around(COSTLIER, TOLERANCE))})
    if not rows:
        raise LookupError("shared_array_lock: no locked_<pattern> measurement on a pool")

    def summarize(cases):
        per = "; ".join(f"{code(b)} {number(g.ratio.min())} to {number(g.ratio.max())}"
                        for b, g in cases.groupby("backend"))
        return (f"An increment under the lock costs, per backend, {per} times an unlocked "
                f"one; the rule asks the ratio's interval above {COSTLIER} for every pattern "
                f"and p.")
    return verdicts(rows, ["pattern", "backend", "p", "n"], summarize,
                    ["pattern", "backend", "p", "n", "ratio", "low", "high", "holds"],
                    f"the locked / raw ratio's interval lies below the band around {COSTLIER}")


def writes_atomic(run):
    df = split_access(run.data("shared_array_lock"))
    if "lost_fraction" not in df.columns:
        raise LookupError("shared_array_lock: no column lost_fraction")
    rows = []
    # Processes (and C++ threads) sharing an array; CPython's threads hold the GIL anyway.
    for backend in ("process", "thread", "cpython_process"):
        same = select(df, pattern="same", backend=backend)
        for p, group in same.groupby("p"):
            if p < 2:
                continue

            def lost(*accesses):
                rows_ = select(group, access=list(accesses))
                if rows_.empty:
                    raise LookupError(f"shared_array_lock: no {'/'.join(accesses)}_same on "
                                      f"{backend} at p={p}")
                return float(rows_["lost_fraction"].max())
            locked, raw, per_access = lost("locked", "locked_block"), lost("raw"), \
                lost("locked_access")
            rows.append({"backend": backend, "p": int(p), "locked_lost": locked,
                         "raw_lost": raw, "locked_access_lost": per_access,
                         "holds": False if locked > 0 else (True if raw > 0 else None)})

    def summarize(cases):
        return (f"With p\\,$\\geq$\\,2 workers updating the same elements, updates made with "
                f"the lock held (each a locked write of the new value) lose "
                f"{number(100 * cases.locked_lost.max())}\\,\\%, the same updates without the "
                f"lock lose up to {number(100 * cases.raw_lost.max())}\\,\\%. The rule asks "
                f"none lost under the lock where some are lost without it (where nothing is "
                f"lost without the lock, the data cannot show what the lock does). "
                f"\\emph{{Our finding, not the seed's claim:}} \\texttt{{a[i] += 1}} on a "
                f"locked array (a locked load, then a locked store) still loses up to "
                f"{number(100 * cases.locked_access_lost.max())}\\,\\% of the increments: each "
                f"write is atomic, the read-modify-write is not.")
    return verdicts(rows, ["backend", "p"], summarize,
                    ["backend", "p", "locked_lost", "raw_lost", "locked_access_lost", "holds"],
                    "updates made under the lock were lost")


# --------------------------------------------------------------------------------------------
# MapReduce (mapreduce_wordcount)

def wordcount_scales(run):
    df = run.data("mapreduce_wordcount")
    rows = []
    for backend in ("process", "thread", "cpython_process"):
        measured = select(df, backend=backend)
        if measured.empty:
            if backend.startswith("cpython"):
                continue
            raise LookupError(f"mapreduce_wordcount: no measurement on {backend}")
        p = resolve(measured, {"p": CORES}, run.cores)["p"]
        serial = serial_backend(backend)
        for n in sorted(select(measured, p=p)["n"].unique()):
            serial_t = times(df, "wordcount", backend=serial, n=n)
            s = ratio_interval(serial_t, times(df, "wordcount", backend=backend, n=n, p=p))
            one = select(df, backend=backend, n=n, p=1)
            rows.append({"backend": backend, "n": int(n), "p": int(p), "speedup": s.estimate,
                         "low": s.low, "high": s.high, "efficiency": s.estimate / p,
                         "p1_speedup": (ratio_interval(serial_t, one["seconds"]).estimate
                                        if not one.empty else np.nan),
                         "holds": above(s.scaled(1 / p),
                                        Band.around(USEFUL_EFFICIENCY, TOLERANCE))})

    def summarize(cases):
        parts = [f"{code(r.backend)} at n\\,=\\,{number(r.n / 2**20)}\\,MiB "
                 f"{number(r.speedup)} [{number(r.low)}, {number(r.high)}]"
                 for r in cases.itertuples()]
        return (f"At p\\,=\\,{cases.p.iloc[0]}, the word count's speedups over its serial run "
                f"of the same corpus are " + "; ".join(parts) + f". The rule asks the "
                f"efficiency's interval above {USEFUL_EFFICIENCY}."
                + superlinear_note(cases, size=lambda n: f"{number(n / 2**20)}\\,MiB of text"))
    return verdicts(rows, ["backend", "n"], summarize,
                    ["backend", "n", "speedup", "low", "high", "efficiency", "holds"],
                    f"the efficiency's interval lies below the band around {USEFUL_EFFICIENCY}")
