"""The grain of the bulk primitives and the machine's limits they are judged against (issue 15).

Two measures of grain per primitive (reduce, dot, scan, pack) and backend, at p = the run's
cores, from the medians of the repetitions:

    n_1/2  Hockney's half-performance length: the smallest n at which the rate n / t reaches
           half the backend's best rate over the sweep. It compares backends whose best rates
           are alike (the pools, OpenMP, oneTBB): a slow system reaches half of its own best
           rate early.
    n_eff  the smallest n at which the speedup over the same system's serial code (C++ serial
           code for the C++ backends, CPython's for CPython's pool, OpenBLAS's one thread for
           OpenBLAS) reaches p / 2, an efficiency of 0.5. It compares across systems.

Between the two measured sizes around the crossing, log n is interpolated linearly in the log of
the rate (or speedup). A threshold already reached at the smallest size gives "at most" that
size; one never reached gives no number, and says so. A backend with several variants of a
primitive (the pools' three scans) is taken at its fastest variant at each n.

The seed's coarse-grain claim (analysis/claims_processes.py) compares n_eff across backends with
the noise of the repetitions: n_eff_resamples finds n_eff on bootstrap resamples, and
grain_ratio_interval makes a ratio of two grains and its interval, a grain outside its sweep
counting as the bound it gives.

The machine's limits come from the experiment machine_limits: the round trip of a cache line
between two processes, an empty OpenMP region per p, and read and copy bandwidth per n and p.
A bulk experiment measures its primitive's bandwidth limit again at its largest n, interleaved
with the primitive (traffic_limit), and its goal is judged against that one.
goals() judges the goals of the issue that name "n_1/2" or "machine limit"; analysis.peers
prints them after its own. A run without the data a goal needs (no machine_limits, say) gets
"not measured in this run" for that goal, not a number.

    /usr/bin/python3 -m analysis.grain RUN_FOLDER     prints the grain, the limits and the goals
"""

import math
import sys
from dataclasses import dataclass

import numpy as np

from analysis import paths
from analysis.runs import InputError, open_run
from analysis.stats import (BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, CONFIDENCE, Interval, Spread,
                            select, speedup)
from analysis.texout import GENERATED_HEADER, escape
from analysis.classify import code, number, seconds

# How a grain was found.
CROSSED = "crossed"        # between two measured sizes, interpolated
AT_MOST = "at most"        # already at the smallest size measured
NEVER = "never reached"    # not at any size measured

SERIAL_BACKENDS = ("serial", "cpython_serial", "openblas_serial")


def serial_backend_of(backend):
    """The serial code of the same system as `backend`."""
    if backend.startswith("cpython_"):
        return "cpython_serial"
    if backend == "openblas":
        return "openblas_serial"
    return "serial"


@dataclass(frozen=True)
class Grain:
    """A size at which a curve first reaches a threshold, or why there is none."""
    kind: str                # CROSSED, AT_MOST or NEVER
    n: float                 # the size (CROSSED, AT_MOST); None when NEVER
    threshold: float
    best: float              # the curve's largest value
    best_n: int              # where it was reached
    smallest: int            # the sizes measured
    largest: int

    @property
    def found(self):
        return self.kind != NEVER

    def bounds(self):
        """Where the true size lies, (low, high): exact where crossed; below the smallest size
        (0, n) when already reached there; beyond the largest (largest, inf) when never
        reached."""
        if self.kind == CROSSED:
            return self.n, self.n
        if self.kind == AT_MOST:
            return 0.0, self.n
        return float(self.largest), math.inf

    def text(self):
        if self.kind == CROSSED:
            return f"{self.n:.3g}"
        if self.kind == AT_MOST:
            return f"<= {self.n:.0f} (the smallest size measured)"
        return (f"not reached from {self.smallest} to {self.largest} (best {self.best:.3g} at "
                f"n = {self.best_n}, threshold {self.threshold:.3g})")


def first_crossing(sizes, values, threshold):
    """The smallest n at which `values` (one per size) reach `threshold`, interpolated on the
    log scale between the measured sizes around it."""
    points = sorted(zip(sizes, values))
    if not points:
        raise ValueError("no sizes to find a grain in")
    if any(n <= 0 or v <= 0 or not math.isfinite(v) for n, v in points):
        raise ValueError(f"sizes and values must be positive and finite: {points}")
    if len({n for n, _ in points}) != len(points):
        raise ValueError(f"a size appears twice: {[n for n, _ in points]}")
    best_n, best = max(points, key=lambda point: point[1])
    common = dict(threshold=threshold, best=best, best_n=int(best_n),
                  smallest=int(points[0][0]), largest=int(points[-1][0]))
    for i, (n, value) in enumerate(points):
        if value < threshold:
            continue
        if i == 0:
            return Grain(AT_MOST, float(n), **common)
        (n0, v0) = points[i - 1]
        fraction = (math.log(threshold) - math.log(v0)) / (math.log(value) - math.log(v0))
        return Grain(CROSSED, math.exp(math.log(n0) + fraction * (math.log(n) - math.log(n0))),
                     **common)
    return Grain(NEVER, None, **common)


def half_performance_length(sizes, seconds):
    """n_1/2 of a curve of median times: where n / t first reaches half its best value."""
    rates = [n / t for n, t in zip(sizes, seconds)]
    return first_crossing(sizes, rates, max(rates) / 2)


def efficiency_length(sizes, serial_seconds, parallel_seconds, p):
    """n_eff: where serial time / parallel time first reaches p / 2."""
    speedups = [s / t for s, t in zip(serial_seconds, parallel_seconds)]
    return first_crossing(sizes, speedups, p / 2)


@dataclass(frozen=True)
class BulkPrimitive:
    name: str
    experiment: str
    variants: tuple          # the primitive's parallel variants (any backend)
    serial_variant: str      # its serial code's variant on the serial backends
    traffic: str             # the bandwidth limit its traffic is judged against: read or copy
    where: tuple = ()        # extra (column, value) pairs selecting the rows


BULK_PRIMITIVES = (
    BulkPrimitive("reduce", "reduce_tree_vs_partitioned", ("partitioned", "reduce", "reduce_unseq"),
                  "serial", "read"),
    BulkPrimitive("dot", "dot_flop_mop", ("dot",), "dot", "read"),
    BulkPrimitive("scan", "scan_two_pass",
                  ("two_pass", "reduce_then_scan", "single_pass", "scan"), "serial", "copy"),
    BulkPrimitive("pack", "pack", ("scan_pack", "copy_if"), "serial", "copy",
                  where=(("keep_pct", 50),)),
)
EXPERIMENTS = tuple(p.experiment for p in BULK_PRIMITIVES)


@dataclass(frozen=True)
class Curve:
    """One backend's fastest median time per n at p, and its grain."""
    primitive: str
    backend: str
    p: int
    sizes: tuple
    seconds: tuple           # medians, the fastest variant at each n
    variants: tuple          # which variant that was, per n
    n_half: Grain
    n_eff: Grain             # None when the system's serial code was not measured at any n

    @property
    def rates(self):
        return tuple(n / t for n, t in zip(self.sizes, self.seconds))

    def rows_at(self, df, n):
        """The repetitions behind the median at size n."""
        return select(df, n=n, backend=self.backend, p=self.p,
                      variant=self.variants[self.sizes.index(n)])


def _medians_by_n(rows):
    return {int(n): float(group["seconds"].median()) for n, group in rows.groupby("n")}


def _primitive_rows(run, prim):
    return select(run.data(prim.experiment), **dict(prim.where))


def curves(run, prim):
    """The grain curve of every parallel backend of `prim` measured at p = the run's cores."""
    df = _primitive_rows(run, prim)
    parallel = select(df, variant=list(prim.variants), p=run.cores)
    parallel = parallel[~parallel["backend"].isin(SERIAL_BACKENDS)]
    result = []
    for backend in sorted(set(parallel["backend"])):
        rows = select(parallel, backend=backend)
        fastest = {}  # n -> (median, variant)
        for variant, group in rows.groupby("variant"):
            for n, median in _medians_by_n(group).items():
                if n not in fastest or median < fastest[n][0]:
                    fastest[n] = (median, variant)
        sizes = tuple(sorted(fastest))
        medians = tuple(fastest[n][0] for n in sizes)
        serial = _medians_by_n(select(df, variant=prim.serial_variant,
                                      backend=serial_backend_of(backend)))
        both = [n for n in sizes if n in serial]
        n_eff = efficiency_length(both, [serial[n] for n in both],
                                  [fastest[n][0] for n in both], run.cores) if both else None
        result.append(Curve(prim.name, backend, run.cores, sizes, medians,
                            tuple(fastest[n][1] for n in sizes),
                            half_performance_length(sizes, medians), n_eff))
    return result


# ---- n_eff with the noise of the repetitions ----

def _resampled_medians(rng, seconds, resamples):
    values = np.asarray(seconds, dtype=float)
    if values.size == 0:
        raise ValueError("no repetitions to resample")
    return np.median(values[rng.integers(0, values.size, (resamples, values.size))], axis=1)


def n_eff_resamples(run, prim, backends, resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED):
    """{backend: [Grain]}: n_eff of each of `backends` (their curves at p = the run's cores) on
    `resamples` bootstrap resamples of the repetitions. At each n a backend's repetitions (of
    the variant its curve takes there) and its system's serial repetitions are drawn with
    replacement and their medians taken. Backends of one system share each serial resample, as
    they share the serial code, so a ratio of their grains does not count the serial code's
    noise twice. A backend without its system's serial code at any of its sizes gets None."""
    df = _primitive_rows(run, prim)
    by_backend = {c.backend: c for c in curves(run, prim)}
    missing = [b for b in backends if b not in by_backend]
    if missing:
        raise LookupError(f"{prim.experiment}: no {prim.name} on {', '.join(missing)} at "
                          f"p = {run.cores}")
    rng = np.random.default_rng(seed)
    serial_by_system = {}
    result = {}
    for backend in backends:
        curve = by_backend[backend]
        serial_name = serial_backend_of(backend)
        if serial_name not in serial_by_system:
            rows = select(df, variant=prim.serial_variant, backend=serial_name)
            serial_by_system[serial_name] = {
                int(n): _resampled_medians(rng, group["seconds"], resamples)
                for n, group in rows.groupby("n")}
        serial = serial_by_system[serial_name]
        sizes = [n for n in curve.sizes if n in serial]
        if not sizes:
            result[backend] = None
            continue
        parallel = {n: _resampled_medians(rng, curve.rows_at(df, n)["seconds"], resamples)
                    for n in sizes}
        result[backend] = [efficiency_length(sizes, [serial[n][i] for n in sizes],
                                             [parallel[n][i] for n in sizes], run.cores)
                           for i in range(resamples)]
    return result


def grain_ratio_interval(ours, theirs, ours_resamples, theirs_resamples,
                         confidence=CONFIDENCE):
    """ours / theirs, two grains (Grain) and their bootstrap resamples (paired by index), as
    (point, interval). A grain outside its sweep is a bound, so the point is a bracket
    (low, high) (0 or inf where one side is open) and the interval runs from the lower tail of
    the resamples' lowest possible ratios to the upper tail of their highest: it is as wide as
    what the sweep and the noise leave open, never narrower."""
    def bracket(mine, other):
        (mine_low, mine_high), (other_low, other_high) = mine, other
        with np.errstate(divide="ignore"):
            return (np.divide(mine_low, other_high), np.divide(mine_high, other_low))
    low, high = bracket(np.array([g.bounds() for g in ours_resamples]).T,
                        np.array([g.bounds() for g in theirs_resamples]).T)
    tail = 100 * (1 - confidence) / 2
    point = tuple(float(x) for x in bracket(ours.bounds(), theirs.bounds()))
    interval = Interval(point[0] if point[0] == point[1] else math.nan,
                        float(np.percentile(low, tail, method="lower")),
                        float(np.percentile(high, 100 - tail, method="higher")))
    return point, interval


# ---- The machine's limits ----

LIMITS_EXPERIMENT = "machine_limits"
BYTES_PER_ELEMENT = {"read": 8, "copy": 16}  # copy: read plus written


@dataclass(frozen=True)
class Limits:
    """The machine's limits measured in one run (medians and quartiles of the repetitions)."""
    cache_line_round_trip: Spread        # seconds
    fork_join: dict                      # p -> Spread of seconds
    bandwidth: dict                      # (kind, n, p) -> Spread of bytes per second
    cache_line_seconds: tuple            # the repetitions, for ratios over pairs

    def bandwidth_at(self, kind, n, p):
        return self.bandwidth.get((kind, int(n), int(p)))


def _present(run, experiment):
    return paths.experiment_csv(run.path, experiment).is_file()


def limits(run):
    """The run's machine limits, or None when the run did not measure them."""
    if not _present(run, LIMITS_EXPERIMENT):
        return None
    df = run.data(LIMITS_EXPERIMENT)
    trip = select(df, variant="cache_line_round_trip", backend="process")
    if trip.empty:
        raise LookupError(f"{LIMITS_EXPERIMENT}: no cache_line_round_trip/process rows")
    fork_join = {int(p): Spread.of(g["seconds"])
                 for p, g in select(df, variant="fork_join", backend="openmp").groupby("p")}
    bandwidth = {}
    for kind, per_element in BYTES_PER_ELEMENT.items():
        rows = select(df, variant=kind, backend="openmp")
        for (n, p), g in rows.groupby(["n", "p"]):
            bandwidth[(kind, int(n), int(p))] = Spread.of(per_element * n / g["seconds"])
    return Limits(Spread.of(trip["seconds"]), fork_join, bandwidth,
                  tuple(trip["seconds"].astype(float)))


# ---- The goals ----

MET, MISSED, UNDETERMINED, NOT_MEASURED = "met", "missed", "undetermined", "not measured in this run"


@dataclass(frozen=True)
class GoalResult:
    goal: str                # the goal's text ("n_1/2" or "machine limit" in it)
    status: str              # MET, MISSED, UNDETERMINED or NOT_MEASURED
    ratio: float             # ours over the reference (None unless judged)
    limit: float
    detail: str              # the numbers behind the ratio, or what is missing


def _not_measured(goal, limit, what):
    return GoalResult(goal, NOT_MEASURED, None, limit, what)


def _judge(goal, ratio, limit, detail):
    return GoalResult(goal, MET if ratio <= limit else MISSED, ratio, limit, detail)


def apply_goal(run, machine):
    goal, limit = "apply round trip at most 3 times the cache-line round trip (machine limit)", 3.0
    if machine is None:
        return _not_measured(goal, limit, f"no {LIMITS_EXPERIMENT} in this run")
    if not _present(run, "pool_overhead"):
        return _not_measured(goal, limit, "no pool_overhead in this run")
    rows = select(run.data("pool_overhead"), variant="apply", backend="process", p=run.cores)
    if rows.empty:
        return _not_measured(goal, limit, f"no apply/process at p = {run.cores}")
    per_trip = rows["seconds"] / rows["n"]
    ratio = speedup(per_trip, machine.cache_line_seconds).median  # apply time over line time
    return _judge(goal, ratio, limit,
                  f"apply {per_trip.median() * 1e6:.3g} us, cache line "
                  f"{machine.cache_line_round_trip.median * 1e6:.3g} us")


def _grain_ratio(goal, limit, ours, theirs):
    """n_1/2 of ours over theirs, honest about bounds: "at most the smallest size" on one side
    decides the goal only when the other side makes the answer certain."""
    detail = f"process {ours.text()}, reference {theirs.text()}"
    if ours.kind == NEVER or theirs.kind == NEVER:
        return GoalResult(goal, UNDETERMINED, None, limit, detail)
    ratio = ours.n / theirs.n
    if ours.kind == AT_MOST and theirs.kind == AT_MOST:
        return GoalResult(goal, UNDETERMINED, None, limit, detail + " (both below the sweep)")
    if ours.kind == AT_MOST:  # ours is at most ours.n: the true ratio is at most `ratio`
        return _judge(goal, ratio, limit, detail + "; the ratio is an upper bound") \
            if ratio <= limit else GoalResult(goal, UNDETERMINED, None, limit, detail)
    if theirs.kind == AT_MOST:  # theirs at most theirs.n: the true ratio is at least `ratio`
        return _judge(goal, ratio, limit, detail + "; the ratio is a lower bound") \
            if ratio > limit else GoalResult(goal, UNDETERMINED, None, limit, detail)
    return _judge(goal, ratio, limit, detail)


def grain_goals(run, prim):
    goals = ((f"{prim.name}: n_1/2 on the process pool at most 1.5 times OpenMP's", 1.5,
              "openmp"),
             (f"{prim.name}: n_1/2 on the process pool at most the thread pool's", 1.0, "thread"))
    if not _present(run, prim.experiment):
        return [_not_measured(text, limit, f"no {prim.experiment} in this run")
                for text, limit, _ in goals]
    by_backend = {c.backend: c for c in curves(run, prim)}
    results = []
    for text, limit, reference in goals:
        missing = [b for b in ("process", reference) if b not in by_backend]
        if missing:
            results.append(_not_measured(text, limit, f"no {prim.name} on {', '.join(missing)} "
                                                      f"at p = {run.cores}"))
        else:
            results.append(_grain_ratio(text, limit, by_backend["process"].n_half,
                                        by_backend[reference].n_half))
    return results


def traffic_limit(run, prim, machine, n, p):
    """The bandwidth `prim`'s traffic is judged against at (n, p), and where it was measured:
    beside the primitive in its own experiment, its repetitions interleaved with the
    primitive's, when the run has that (the same minutes of a machine whose bandwidth drifts);
    else in machine_limits, at the run's start. (None, None) when neither measured it."""
    if _present(run, prim.experiment):
        rows = select(run.data(prim.experiment), variant=prim.traffic, backend="openmp", n=n, p=p)
        if not rows.empty:
            per_element = BYTES_PER_ELEMENT[prim.traffic]
            return Spread.of(per_element * n / rows["seconds"]), prim.experiment
    if machine is not None:
        bandwidth = machine.bandwidth_at(prim.traffic, n, p)
        if bandwidth is not None:
            return bandwidth, LIMITS_EXPERIMENT
    return None, None


def bandwidth_goal(run, prim, machine):
    goal = (f"{prim.name}: at the largest n, at least 90% of the measured {prim.traffic} "
            f"bandwidth (machine limit)")
    limit = 1 / 0.9
    if not _present(run, prim.experiment):
        return _not_measured(goal, limit, f"no {prim.experiment} in this run")
    df = _primitive_rows(run, prim)
    process = [c for c in curves(run, prim) if c.backend == "process"]
    if not process:
        return _not_measured(goal, limit, f"no {prim.name} on the process pool at p = {run.cores}")
    curve = process[0]
    n = max(curve.sizes)
    bandwidth, source = traffic_limit(run, prim, machine, n, run.cores)
    if bandwidth is None:
        return _not_measured(goal, limit, f"no {prim.traffic} bandwidth at n = {n}, "
                                          f"p = {run.cores} in {prim.experiment} or "
                                          f"{LIMITS_EXPERIMENT}")
    rows = curve.rows_at(df, n)
    if "bytes_per_second" not in rows or rows["bytes_per_second"].isna().any():
        return _not_measured(goal, limit, f"{prim.experiment} has no bytes_per_second counter")
    achieved = Spread.of(rows["bytes_per_second"])
    ratio = bandwidth.median / achieved.median  # time over the time the limit allows
    detail = (f"{curve.variants[curve.sizes.index(n)]}/process at n = {n}: "
              f"{achieved.median / 1e9:.3g} GB/s of {bandwidth.median / 1e9:.3g} GB/s "
              f"({achieved.median / bandwidth.median:.0%}; limit measured in {source})")
    if achieved.q1 > bandwidth.q3:
        # Seen on a loaded machine: OpenMP's threads spin at a barrier while their partner
        # waits for a core, and the limit's own measurement falls far short.
        detail += ("; beyond the limit's whole spread: the limit's measurement fell short of "
                   "the machine's bandwidth")
    return _judge(goal, ratio, limit, detail)


def goals(run):
    """Every goal of the issue naming n_1/2 or a machine limit, judged on `run`."""
    machine = limits(run)
    results = [apply_goal(run, machine)]
    for prim in BULK_PRIMITIVES:
        results += grain_goals(run, prim)
    results += [bandwidth_goal(run, prim, machine) for prim in BULK_PRIMITIVES]
    return results


def goal_lines(run):
    lines = []
    for r in goals(run):
        ratio = f"ratio {r.ratio:6.3f} (limit {r.limit:.3f})" if r.ratio is not None else \
            f"(limit {r.limit:.3f})"
        status = "MISSED" if r.status == MISSED else r.status
        lines.append(f"{r.goal:86} {ratio:30} {status}: {r.detail}")
    return lines


# ---- The paper's tables ----

def grain_tex(found):
    """A grain in LaTeX: 2^k.k where crossed, "<= 2^k" at the smallest size measured, "> 2^k"
    beyond the largest, "--" without a grain (no serial code of the system measured)."""
    if found is None:
        return "--"
    if found.kind == NEVER:
        return rf"$>2^{{{math.log2(found.largest):.0f}}}$"
    exponent = f"2^{{{math.log2(found.n):.1f}}}" if found.kind == CROSSED else \
        rf"\le 2^{{{math.log2(found.n):.0f}}}"
    return f"${exponent}$"


def limits_table(runs):
    """The machine's limits of each run, or a sentence saying the run did not measure them."""
    lines = [GENERATED_HEADER.format(script="grain.py", inputs=", ".join(r.name for r in runs))
             .rstrip("\n")]
    measured = [(run, limits(run)) for run in runs]
    missing = [run for run, machine in measured if machine is None]
    # A sentence for the text: where the table is, or which run did not measure the limits.
    if missing:
        lines.append(r"\newcommand{\limitsstatement}{"
                     + ("The runs " if len(missing) > 1 else "The run ")
                     + ", ".join(r"\texttt{" + escape(r.name) + "}" for r in missing)
                     + r" did not measure the machine's limits (no \texttt{machine\_limits} "
                       r"in the run): its limits are not shown, and the goals that need them "
                       r"read ``not measured in this run''.}")
    else:
        lines.append(r"\newcommand{\limitsstatement}{Table~\ref{tab:limits} lists them.}")
    present = [(run, machine) for run, machine in measured if machine is not None]
    if not present:
        lines.append(r"\newcommand{\limitstable}{}")
        return "\n".join(lines) + "\n"
    rows = [r"\begin{table}[tp]", r"\centering\footnotesize",
            r"\begin{tabular}{@{}lrrrrr@{}}", r"\toprule",
            r"Run & $p$ & fork-join & read & copy & $n$ \\", r"\midrule"]
    for run, machine in present:
        trip = seconds(machine.cache_line_round_trip.median)
        rows.append(rf"\multicolumn{{6}}{{@{{}}l}}{{\emph{{{run.cores} cores}}: cache line "
                    rf"between two processes and back {trip}}} \\")
        n = max(n for _, n, _ in machine.bandwidth)
        for p, spread in sorted(machine.fork_join.items()):
            read = machine.bandwidth_at("read", n, p)
            copy = machine.bandwidth_at("copy", n, p)
            rows.append(" & ".join([
                "", str(p), seconds(spread.median),
                f"{number(read.median / 1e9)} GB/s" if read else "--",
                f"{number(copy.median / 1e9)} GB/s" if copy else "--",
                f"$2^{{{int(n).bit_length() - 1}}}$"]) + r" \\")
    rows += [r"\bottomrule", r"\end{tabular}",
             r"\caption{The machine's limits measured in the run: the cache-line round trip "
             r"between two processes, the empty OpenMP parallel region, and read and copy "
             r"bandwidth at each $p$ on the largest array.}", r"\label{tab:limits}",
             r"\end{table}"]
    lines.append(r"\newcommand{\limitstable}{" + "\n".join(rows) + "}")
    return "\n".join(lines) + "\n"


def grain_table(runs):
    """n_1/2 and n_eff per primitive and backend at p = cores, and at the largest n the share
    of the measured bandwidth limit each backend reaches (where the run measured it)."""
    lines = [GENERATED_HEADER.format(script="grain.py", inputs=", ".join(r.name for r in runs))
             .rstrip("\n"), r"\begin{tabular}{@{}llrrr@{}}", r"\toprule",
             r"Primitive & Backend & $n_{1/2}$ & $n_\mathrm{eff}$ & of limit \\", r"\midrule"]
    for run in runs:
        machine = limits(run)
        if len(runs) > 1:
            lines.append(rf"\multicolumn{{5}}{{@{{}}l}}{{\emph{{{run.cores} cores}}}} \\")
        for prim in BULK_PRIMITIVES:
            df = _primitive_rows(run, prim)
            for i, curve in enumerate(curves(run, prim)):
                share = "--"
                n = max(curve.sizes)
                bandwidth, _ = traffic_limit(run, prim, machine, n, run.cores)
                rows = curve.rows_at(df, n)
                if bandwidth is not None and "bytes_per_second" in rows and \
                        rows["bytes_per_second"].notna().all():
                    share = f"{rows['bytes_per_second'].median() / bandwidth.median:.0%}"
                    share = share.replace("%", r"\%")
                lines.append(" & ".join([
                    prim.name if i == 0 else "", code(curve.backend), grain_tex(curve.n_half),
                    grain_tex(curve.n_eff), share]) + r" \\")
        lines.append(r"\midrule" if run is not runs[-1] else r"\bottomrule")
    lines.append(r"\end{tabular}")
    return "\n".join(lines) + "\n"


def goals_table(runs):
    """The goals on n_1/2 and the machine's limits, one row per goal and run: the ratio
    against its limit and whether it is met, or why it could not be judged."""
    lines = [GENERATED_HEADER.format(script="grain.py", inputs=", ".join(r.name for r in runs))
             .rstrip("\n"), r"\begin{tabular}{@{}>{\raggedright\arraybackslash}p{0.55\linewidth}rrl@{}}", r"\toprule",
             r"Goal & ratio & limit & status \\", r"\midrule"]
    for run in runs:
        if len(runs) > 1:
            lines.append(rf"\multicolumn{{4}}{{@{{}}l}}{{\emph{{{run.cores} cores}}}} \\")
        for r in goals(run):
            status = r"\textbf{missed}" if r.status == MISSED else escape(r.status)
            goal = escape(r.goal).replace(r"n\_1/2", r"$n_{1/2}$")
            lines.append(" & ".join([goal, number(r.ratio), number(r.limit), status])
                         + r" \\")
        lines.append(r"\midrule" if run is not runs[-1] else r"\bottomrule")
    lines.append(r"\end{tabular}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python3 -m analysis.grain RUN_FOLDER", file=sys.stderr)
        return 2
    try:
        run = open_run(argv[0])
        machine = limits(run)
        if machine is None:
            print(f"machine limits: not measured in this run (no {LIMITS_EXPERIMENT})")
        else:
            print(f"cache-line round trip between processes: "
                  f"{machine.cache_line_round_trip.median * 1e6:.3g} us")
            for p, spread in sorted(machine.fork_join.items()):
                print(f"empty OpenMP region, p = {p}: {spread.median * 1e6:.3g} us")
            for (kind, n, p), spread in sorted(machine.bandwidth.items()):
                print(f"{kind} bandwidth, n = {n}, p = {p}: {spread.median / 1e9:.3g} GB/s")
        for prim in BULK_PRIMITIVES:
            if not _present(run, prim.experiment):
                print(f"{prim.name}: not measured in this run (no {prim.experiment})")
                continue
            for c in curves(run, prim):
                n_eff = c.n_eff.text() if c.n_eff else "no serial code of this system measured"
                print(f"{prim.name:7} {c.backend:16} p={c.p}  n_1/2 {c.n_half.text()};  "
                      f"n_eff {n_eff}")
        for line in goal_lines(run):
            print(line)
    except (InputError, LookupError) as e:
        print(f"grain: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
