"""The MPI experiments of a run (issue 13): the message cost model and the goals of the
distributed primitives.

Message costs. Each operation's time t at b bytes follows t = alpha + beta * b at each end of
the message sizes, but not across them: Open MPI switches protocol at its eager limit (4 KiB for
the shared-memory transport here, from copying through a shared buffer to a rendezvous and a
single copy), and a loaded run's ping-pong round trip jumped from 0.7 us at 512 B to 6 us at
4 KiB. So
alpha (latency, seconds) is fitted on the small messages (up to SMALL_BYTES), where it is nearly
all of the time, and beta (seconds per byte, 1 / bandwidth) on the large ones (from
LARGE_BYTES), where it is: each end gets its own line, and alpha is the small line's intercept,
beta the large line's slope. The ping-pong's one-way time (half the round trip
`mpi_collectives` records) gives the point-to-point pair; the all-reduce's time gives the same
pair for that collective at p ranks. The time fitted at each size is the lowest over the
repetitions of `seconds_low`, each repetition's 10th percentile of its iterations
(experiments/mpi_collectives.cc says why: on a shared machine a few descheduled iterations
dominate the mean, and made a loaded run's alpha 13 ms). The lowest repetition, because at a load
of 9 on 2 cores some repetitions had more than 90 % of their iterations disturbed, and load only
ever adds time. Each line is fitted by weighted least squares on relative residuals
((t - fitted) / fitted), so that no size's noise in microseconds swamps another size's whole
time.

Quality. Each fit reports the 95 % confidence interval of alpha and of beta (Student's t on the
weighted residuals of its line) and the root mean square of the relative residuals of both
lines. A fit is `usable` when alpha and beta are both positive and each interval's half-width is
at most half the value; otherwise the paper shows the fit marked unusable rather than a number
nobody should use (the cost model, analysis/mpi_model.py, takes the cluster's alpha and beta from
a published measurement and uses this run's only to check the message model on this machine).

Goals, judged at every rank count k the run measured on both sides, at the largest n both
measured (ratios of one run, as analysis/peers.py judges its goals):
  - reduce, dot, scan and pack on k ranks (`mpi_primitives`) within 10 % of the process pool with
    k workers: the median over pairs of repetitions of the MPI time over the pool's time is at
    most 1.10. The pool's rows: reduce_tree_vs_partitioned `partitioned`, dot_flop_mop `dot`,
    scan_two_pass `two_pass` (the same two-phase algorithm), pack `scan_pack` at keep_pct 50
    (the MPI pack keeps half of the elements too);
  - no bulk data through rank 0: at k >= 2 ranks, the payload rank 0 sends per call is at most
    that of the busiest other rank (medians of the counters, every primitive at its largest n).
  - MpiPool's apply round trip (`mpi_pool`, a trivial task) at most 3 times the MPI ping-pong
    of the same job, at each k >= 2: the median over pairs of repetitions of apply's time over
    the ping-pong's is at most 3 (round_trip_goals; the goal's n is 1, one task).
A goal whose experiments the run lacks is reported "not measured in this run". comparisons()
sets pack through messages only (`pack_messages`) beside the pool the same way, with no limit.

    /usr/bin/python3 -m analysis.mpi RUN_FOLDER      prints the fits and the goals of one run
"""

import sys
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

from analysis import paths
from analysis.runs import InputError, open_run
from analysis.stats import select, speedup

COLLECTIVES = "mpi_collectives"
PRIMITIVES = "mpi_primitives"
POOL = "mpi_pool"
EXPERIMENTS = (COLLECTIVES, PRIMITIVES, POOL)
NOT_MEASURED = "not measured in this run"

# MPI variant -> (pool experiment, pool variant, extra selection): the process pool's reference.
POOL_REFERENCES = {
    "reduce": ("reduce_tree_vs_partitioned", "partitioned", {}),
    "dot": ("dot_flop_mop", "dot", {}),
    "scan": ("scan_two_pass", "two_pass", {}),
    "pack": ("pack", "scan_pack", {"keep_pct": 50}),
}
# Compared with the process pool as the goals are, but not a goal: pack with every element that
# changes rank sent through MPI (mpi/pack.h's PackTransfer::kMessages), which shows what pack's
# writes straight into the pieces of ranks on the same node save.
COMPARISONS = {
    "pack_messages": ("pack", "scan_pack", {"keep_pct": 50}),
}
POOL_LIMIT = 1.10
LOW_SECONDS = "seconds_low"
CONFIDENCE = 0.95
USABLE_HALF_WIDTH = 0.5  # an interval's half-width, as a fraction of the value
SMALL_BYTES = 1024        # alpha's line: messages up to this size
LARGE_BYTES = 32 * 1024   # beta's line: messages from this size
WEIGHT_ITERATIONS = 5


@dataclass(frozen=True)
class Line:
    """t = alpha + beta * bytes, fitted, with the half-widths of the 95 % intervals and the RMS
    of the relative residuals."""
    alpha: float        # seconds
    beta: float         # seconds per byte
    alpha_error: float  # half-width of alpha's interval, seconds
    beta_error: float   # half-width of beta's interval, seconds per byte
    residual: float     # root mean square of (t - fitted) / t

    @property
    def usable(self):
        """Both parameters positive and known to within half their value."""
        return (self.alpha > 0 and self.beta > 0
                and self.alpha_error <= USABLE_HALF_WIDTH * self.alpha
                and self.beta_error <= USABLE_HALF_WIDTH * self.beta)


@dataclass(frozen=True)
class Fit:
    """One operation's alpha (from its small messages' line) and beta (from its large ones')."""
    operation: str   # "pingpong" (one way) or "allreduce"
    p: int           # ranks of the job
    small: Line      # fitted on messages up to SMALL_BYTES
    large: Line      # fitted on messages from LARGE_BYTES
    sizes: int       # message sizes fitted

    @property
    def alpha(self):
        return self.small.alpha

    @property
    def beta(self):
        return self.large.beta

    @property
    def alpha_error(self):
        return self.small.alpha_error

    @property
    def beta_error(self):
        return self.large.beta_error

    @property
    def residual(self):
        """The larger of the two lines' RMS relative residuals."""
        return max(self.small.residual, self.large.residual)

    @property
    def usable(self):
        """alpha (from the small line) and beta (from the large one) positive and known to
        within half their value."""
        return (self.alpha > 0 and self.beta > 0
                and self.alpha_error <= USABLE_HALF_WIDTH * self.alpha
                and self.beta_error <= USABLE_HALF_WIDTH * self.beta)

    @property
    def bandwidth(self):
        """Bytes per second (1 / beta)."""
        return 1 / self.beta if self.beta > 0 else float("inf")


@dataclass(frozen=True)
class Goal:
    primitive: str
    k: int | None            # ranks (None: the goal was not measured)
    n: int | None
    text: str
    measured: float | None   # the MPI side: seconds, or rank 0's bytes per call
    reference: float | None  # the pool's seconds, or the busiest other rank's bytes per call
    ratio: float | None
    limit: float | None

    @property
    def met(self):
        """Whether the ratio is within the limit; None when not measured or not a goal."""
        return None if self.ratio is None or self.limit is None else self.ratio <= self.limit


def has(run, experiment):
    """Whether the run finished `experiment` (an older run may predate it)."""
    outcome = run.record["experiments"].get(experiment, {})
    return outcome.get("status") == "ok" and paths.experiment_csv(run.path, experiment).is_file()


def fit_line(sizes, seconds):
    """The Line through (sizes, seconds), weighted least squares on relative residuals
    ((t - fitted) / fitted)."""
    sizes = np.asarray(sizes, dtype=float)
    seconds = np.asarray(seconds, dtype=float)
    if len(set(sizes)) < 2:
        raise ValueError("a line needs at least two message sizes")
    if len(sizes) < 3:
        raise ValueError("a line's intervals need at least three points")
    if np.any(seconds <= 0):
        raise ValueError("a time that is not positive cannot be fitted")
    # Weights 1 / fitted time, found by iterating from 1 / measured time: weighting by the
    # measured time itself would favour the points that came out low.
    plain = np.column_stack([np.ones_like(sizes), sizes])
    scale = seconds
    for _ in range(WEIGHT_ITERATIONS):
        design = plain / scale[:, None]
        (alpha, beta), *_ = np.linalg.lstsq(design, seconds / scale, rcond=None)
        fitted = plain @ np.array([alpha, beta])
        if np.any(fitted <= 0):
            break  # a line that reaches zero has no relative residuals; keep the last weights
        scale = fitted
    relative = seconds / scale - design @ np.array([alpha, beta])
    freedom = len(sizes) - 2
    variance = float(relative @ relative) / freedom
    covariance = variance * np.linalg.inv(design.T @ design)
    t = float(scipy_stats.t.ppf(0.5 + CONFIDENCE / 2, freedom))
    alpha_error, beta_error = (t * np.sqrt(np.diag(covariance))).tolist()
    return Line(float(alpha), float(beta), alpha_error, beta_error,
                float(np.sqrt(np.mean(relative ** 2))))


def fits(run):
    """The message costs of every operation and rank count of the run's mpi_collectives."""
    df = run.data(COLLECTIVES)
    if LOW_SECONDS not in df.columns:
        raise LookupError(f"{run.path}: {COLLECTIVES} predates the {LOW_SECONDS} counter "
                          f"(rerun it: --only={COLLECTIVES})")
    found = []
    for operation, share in (("pingpong", 0.5), ("allreduce", 1.0)):
        rows = select(df, variant=operation, backend="mpi")
        for p in sorted(set(rows["p"])):
            lowest = select(rows, p=p).groupby("bytes")[LOW_SECONDS].min() * share
            small = lowest[lowest.index <= SMALL_BYTES]
            large = lowest[lowest.index >= LARGE_BYTES]
            found.append(Fit(operation, int(p), fit_line(small.index, small),
                             fit_line(large.index, large), len(lowest)))
    if not any(f.operation == "pingpong" for f in found):
        raise LookupError(f"{run.path}: {COLLECTIVES} has no ping-pong (it needs 2 ranks)")
    return found


def _not_measured(primitive, text):
    return Goal(primitive, None, None, text, None, None, None, None)


def pool_goals(run):
    """Each distributed primitive at each k against the process pool with k workers."""
    return _against_pool(run, POOL_REFERENCES, "within 10% of the process pool", POOL_LIMIT)


def comparisons(run):
    """COMPARISONS at each k against the process pool with k workers: ratios with no limit."""
    return _against_pool(run, COMPARISONS, "for comparison: against the process pool", None)


def _against_pool(run, references, description, limit):
    goals = []
    for primitive, (experiment, variant, where) in references.items():
        text = f"{description} ({experiment})"
        if not (has(run, PRIMITIVES) and has(run, experiment)):
            goals.append(_not_measured(primitive, text))
            continue
        ours = select(run.data(PRIMITIVES), variant=primitive, backend="mpi")
        pool = select(run.data(experiment), variant=variant, backend="process", **where)
        judged = False
        for k in sorted(set(ours["p"]) & set(pool["p"])):
            ours_k, pool_k = select(ours, p=k), select(pool, p=k)
            sizes = set(ours_k["n"]) & set(pool_k["n"])
            if not sizes:
                continue
            n = max(sizes)
            mine, theirs = select(ours_k, n=n)["seconds"], select(pool_k, n=n)["seconds"]
            goals.append(Goal(primitive, int(k), int(n), text, float(mine.median()),
                              float(theirs.median()), speedup(mine, theirs).median, limit))
            judged = True
        if not judged:
            goals.append(_not_measured(primitive, text))
    return goals


def rank0_goals(run):
    """Rank 0's payload per call against the busiest other rank's, per primitive and k >= 2."""
    text = "no bulk data through rank 0 (bytes sent per call, rank 0 vs busiest other)"
    if not has(run, PRIMITIVES):
        return [_not_measured("all", text)]
    df = select(run.data(PRIMITIVES), backend="mpi")
    goals = []
    for primitive in POOL_REFERENCES:
        rows = select(df, variant=primitive)
        for k in sorted(k for k in set(rows["p"]) if k >= 2):
            at_k = select(rows, p=k)
            n = int(at_k["n"].max())
            at_n = select(at_k, n=n)
            rank0 = float(at_n["bytes_sent_rank0"].median())
            other = float(at_n["bytes_sent_other_max"].median())
            # rank 0 / other <= 1; both 0 cannot happen at k >= 2 (every primitive communicates).
            goals.append(Goal(primitive, int(k), n, text, rank0, other,
                              rank0 / other if other > 0 else float("inf"), 1.0))
    return goals or [_not_measured("all", text)]


ROUND_TRIP_LIMIT = 3.0


def round_trip_goals(run):
    """MpiPool's apply round trip against the MPI ping-pong of the same job, at each k >= 2."""
    text = "MpiPool apply round trip at most 3x the MPI ping-pong"
    if not has(run, POOL):
        return [_not_measured("apply", text)]
    df = select(run.data(POOL), backend="mpi")
    applies, pings = select(df, variant="apply"), select(df, variant="pingpong")
    goals = []
    for k in sorted(set(applies["p"]) & set(pings["p"])):
        mine, theirs = select(applies, p=k)["seconds"], select(pings, p=k)["seconds"]
        goals.append(Goal("apply", int(k), 1, text, float(mine.median()), float(theirs.median()),
                          speedup(mine, theirs).median, ROUND_TRIP_LIMIT))
    return goals or [_not_measured("apply", text)]


def goals(run):
    return pool_goals(run) + rank0_goals(run) + round_trip_goals(run)


def describe_goal(g):
    if g.k is None:
        return f"{g.primitive:7} {g.text}: {NOT_MEASURED}"
    unit = "B" if "bytes" in g.text else "ms"
    scale = 1 if unit == "B" else 1e3
    judged = ("(no goal)" if g.limit is None else
              f"(limit {g.limit:.2f})  {'met' if g.met else 'MISSED'}")
    return (f"{g.primitive:7} k={g.k} n={g.n:<9} {g.text}: mpi {g.measured * scale:.3f} {unit} vs "
            f"{g.reference * scale:.3f} {unit}, ratio {g.ratio:.3f} {judged}")


def describe_fit(f):
    return (f"{f.operation:9} p={f.p}  alpha {f.alpha * 1e6:8.3f} +- "
            f"{f.alpha_error * 1e6:.3f} us  beta {f.beta * 1e9:8.4f} +- "
            f"{f.beta_error * 1e9:.4f} ns/B  ({f.bandwidth / 1e9:.2f} GB/s, {f.sizes} sizes, "
            f"residual {f.residual:.1%}){'' if f.usable else '  UNUSABLE'}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python3 -m analysis.mpi RUN_FOLDER", file=sys.stderr)
        return 2
    try:
        run = open_run(argv[0])
        if has(run, COLLECTIVES):
            for f in fits(run):
                print(describe_fit(f))
        else:
            print(f"alpha, beta: {NOT_MEASURED} ({COLLECTIVES})")
        for g in goals(run) + comparisons(run):
            print(describe_goal(g))
    except (InputError, LookupError, ValueError) as e:
        print(f"mpi: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
