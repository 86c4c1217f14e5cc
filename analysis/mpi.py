"""The MPI experiments of a run (issue 13): the message cost model and the goals of the
distributed primitives.

Cost model. Each operation's time is fitted by least squares to t = alpha + beta * bytes over
every repetition at every message size of one rank count: the ping-pong's one-way time (half the
round trip `mpi_collectives` records) gives the point-to-point alpha (latency, seconds) and beta
(seconds per byte, 1 / bandwidth); the all-reduce's time gives the same pair for that collective
at p ranks.

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
A goal whose experiments the run lacks is reported "not measured in this run".

    /usr/bin/python3 -m analysis.mpi RUN_FOLDER      prints the fits and the goals of one run
"""

import sys
from dataclasses import dataclass

import numpy as np

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
POOL_LIMIT = 1.10


@dataclass(frozen=True)
class Fit:
    operation: str   # "pingpong" (one way) or "allreduce"
    p: int           # ranks of the job
    alpha: float     # seconds
    beta: float      # seconds per byte
    sizes: int       # message sizes fitted

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
        return None if self.ratio is None else self.ratio <= self.limit


def has(run, experiment):
    """Whether the run finished `experiment` (an older run may predate it)."""
    outcome = run.record["experiments"].get(experiment, {})
    return outcome.get("status") == "ok" and paths.experiment_csv(run.path, experiment).is_file()


def fit_line(sizes, seconds):
    """(alpha, beta) of the least-squares line seconds = alpha + beta * sizes."""
    sizes = np.asarray(sizes, dtype=float)
    seconds = np.asarray(seconds, dtype=float)
    if len(set(sizes)) < 2:
        raise ValueError("a line needs at least two message sizes")
    design = np.column_stack([np.ones_like(sizes), sizes])
    (alpha, beta), *_ = np.linalg.lstsq(design, seconds, rcond=None)
    return float(alpha), float(beta)


def fits(run):
    """The cost model of every operation and rank count of the run's mpi_collectives."""
    df = run.data(COLLECTIVES)
    found = []
    for operation, share in (("pingpong", 0.5), ("allreduce", 1.0)):
        rows = select(df, variant=operation, backend="mpi")
        for p in sorted(set(rows["p"])):
            at_p = select(rows, p=p)
            alpha, beta = fit_line(at_p["bytes"], at_p["seconds"] * share)
            found.append(Fit(operation, int(p), alpha, beta, at_p["bytes"].nunique()))
    if not any(f.operation == "pingpong" for f in found):
        raise LookupError(f"{run.path}: {COLLECTIVES} has no ping-pong (it needs 2 ranks)")
    return found


def _not_measured(primitive, text):
    return Goal(primitive, None, None, text, None, None, None, None)


def pool_goals(run):
    """Each distributed primitive at each k against the process pool with k workers."""
    goals = []
    for primitive, (experiment, variant, where) in POOL_REFERENCES.items():
        text = f"within 10% of the process pool ({experiment})"
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
                              float(theirs.median()), speedup(mine, theirs).median, POOL_LIMIT))
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
    return (f"{g.primitive:7} k={g.k} n={g.n:<9} {g.text}: mpi {g.measured * scale:.3f} {unit} vs "
            f"{g.reference * scale:.3f} {unit}, ratio {g.ratio:.3f} (limit {g.limit:.2f})  "
            f"{'met' if g.met else 'MISSED'}")


def describe_fit(f):
    return (f"{f.operation:9} p={f.p}  alpha {f.alpha * 1e6:8.3f} us  beta {f.beta * 1e9:8.4f} "
            f"ns/B  ({f.bandwidth / 1e9:.2f} GB/s, {f.sizes} sizes)")


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
        for g in goals(run):
            print(describe_goal(g))
    except (InputError, LookupError, ValueError) as e:
        print(f"mpi: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
