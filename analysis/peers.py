"""The library against its peers: the speed goals of the pool and the primitives, computed
from a run.

At p = the run's cores and the largest size where both were measured, the process pool's time
is compared with each goal's reference in the same run:

    an apply round trip at least 30 times cheaper than CPython's multiprocessing.Pool, and map
    at least 20 times CPython's throughput at every chunk size of the sweep (the pool itself);
    within 5 % of the best peer, and at least 90 % of the OpenMP read-bandwidth sum (reduce, dot);
    faster than every library peer, and within 10 % of the hand-written OpenMP kernel (scan, pack);
    within 10 % of the thread pool (every bulk primitive);
    at least 30 times CPython's multiprocessing + Counter throughput (word count).
The command also prints the goals of the MPI layer (analysis/mpi.py): the distributed
primitives on k ranks within 10 % of the process pool with k workers, and no bulk data through
rank 0; a goal whose data the run lacks reads "not measured in this run".

The goals on the grain (n_1/2) and on the machine's limits are judged by analysis.grain.goals;
the command prints them after these.

A goal's ratio is the median, over every pair of repetitions, of the process pool's time over the
reference's; the goal is met when that median is at most the goal's limit. For a reference with
several candidates (the best peer), the candidate with the smallest median time is used. A goal
over a sweep (map: every chunk size) is judged at each value of the sweep both sides measured
and reported at the worst one.

    /usr/bin/python3 -m analysis.peers RUN_FOLDER     prints the goals of one run

A run made with --only holds some experiments: the command judges the goals of those and names
the primitives it had to leave out.
"""

import sys
from dataclasses import dataclass

from analysis import grain, mpi, paths
from analysis.runs import InputError, load_runs
from analysis.stats import CORES, LARGEST, resolve, select, speedup


@dataclass(frozen=True)
class Goal:
    text: str                # what the goal says
    label: str               # what it compares with, in a word or two (the paper's table)
    references: tuple        # (variant, backend) candidates; the fastest one is the reference
    limit: float             # process time / reference time must be at most this


@dataclass(frozen=True)
class Primitive:
    name: str
    experiment: str
    variants: tuple          # the primitive's variants on the pools; the process pool's fastest
    goals: tuple
    where: tuple = ()        # extra (column, value) pairs selecting the rows
    sweep: str = None        # a column whose every value must meet the goals (the worst counts)


def _thread_goal(variant):
    return Goal("within 10% of the thread pool", "thread pool", ((variant, "thread"),), 1.10)


PRIMITIVES = (
    Primitive("apply", "pool_overhead", ("apply",), (
        Goal("30 times cheaper than CPython's", "CPython", (("apply", "cpython_process"),),
             1 / 30),)),
    Primitive("map", "pool_overhead", ("map",), (
        Goal("20 times CPython's throughput", "CPython", (("map", "cpython_process"),), 1 / 20),),
        sweep="chunksize"),
    Primitive("reduce", "reduce_tree_vs_partitioned", ("partitioned",), (
        Goal("within 5% of the best peer", "best peer",
             (("reduce", "tbb"), ("reduce", "openmp"), ("reduce", "stdpar"),
              ("reduce_unseq", "stdpar")), 1.05),
        Goal("90% of the OpenMP sum's bandwidth", "OpenMP sum", (("reduce", "openmp"),), 1 / 0.9),
        _thread_goal("partitioned"))),
    Primitive("dot", "dot_flop_mop", ("dot",), (
        Goal("within 5% of the best peer", "best peer", (("dot", "openblas"), ("dot", "openmp")), 1.05),
        Goal("90% of the OpenMP dot's bandwidth", "OpenMP dot", (("dot", "openmp"),), 1 / 0.9),
        _thread_goal("dot"))),
    Primitive("scan", "scan_two_pass", ("single_pass", "reduce_then_scan", "two_pass"), (
        Goal("faster than every library peer", "library peers", (("scan", "tbb"), ("scan", "stdpar")), 1.0),
        Goal("within 10% of OpenMP two-pass", "OpenMP kernel", (("two_pass", "openmp"),), 1.10),
        _thread_goal(None))),
    Primitive("pack", "pack", ("scan_pack",), (
        Goal("faster than every library peer", "library peers", (("copy_if", "stdpar"),), 1.0),
        Goal("within 10% of OpenMP two-pass", "OpenMP kernel", (("scan_pack", "openmp"),), 1.10),
        _thread_goal("scan_pack")), where=(("keep_pct", 50),)),
    Primitive("matvec", "matvec_blas", ("matvec",), (_thread_goal("matvec"),)),
    Primitive("word count", "mapreduce_wordcount", ("wordcount",), (
        Goal("30 times CPython's throughput", "CPython", (("wordcount", "cpython_process"),), 1 / 30),
        _thread_goal("wordcount"))),
)

EXPERIMENTS = tuple(sorted({p.experiment for p in PRIMITIVES}))


@dataclass(frozen=True)
class Result:
    primitive: str
    n: int
    p: int
    goal: str
    label: str
    variant: str             # the process pool's variant compared
    reference: str           # "variant/backend" of the reference used
    process_seconds: float   # medians
    reference_seconds: float
    ratio: float             # median of process / reference over pairs of repetitions
    limit: float
    swept: str = ""          # for a goal over a sweep: "column=value" of the worst value

    @property
    def met(self):
        return self.ratio <= self.limit


def _median(rows):
    return float(rows["seconds"].median())


def _at_p(rows, p):
    return select(rows, p=p) if rows["p"].notna().any() else rows


def evaluate(run, primitives=PRIMITIVES):
    """Every goal of each of `primitives` measured in `run`, in their order. Each goal is
    judged at the largest n where both the process pool and a reference were measured (the
    CPython word count, for one, does not run the largest corpus)."""
    results = []
    for prim in primitives:
        df = select(run.data(prim.experiment), **dict(prim.where))
        ours_all = select(df, backend="process", variant=list(prim.variants))
        if ours_all.empty:
            raise LookupError(f"{prim.experiment}: no {'/'.join(prim.variants)} on the process pool")
        p = resolve(ours_all, {"p": CORES}, run.cores, cores_or_largest=True)["p"]
        ours_all = select(ours_all, p=p)
        for goal in prim.goals:
            def reference_rows(variant):
                rows = [(f"{v or variant}/{b}", _at_p(select(df, variant=v or variant, backend=b), p))
                        for v, b in goal.references]
                return [(name, r) for name, r in rows if not r.empty]
            sizes = set(ours_all["n"])
            sizes &= {n for v in prim.variants for _, r in reference_rows(v) for n in r["n"]}
            if not sizes:
                shown = ", ".join(f"{v or prim.variants[0]}/{b}" for v, b in goal.references)
                raise LookupError(f"{prim.experiment}: no reference for the goal "
                                  f"'{goal.text}' ({shown}) at p={p} and a size the process "
                                  f"pool ran")
            n = resolve(select(ours_all, n=list(sizes)), {"n": LARGEST}, run.cores)["n"]
            ours_n = select(ours_all, n=n)
            variant = min((v for v in prim.variants if not select(ours_n, variant=v).empty),
                          key=lambda v: _median(select(ours_n, variant=v)))
            ours_v = select(ours_n, variant=variant)
            candidates = [(name, select(rows, n=n)) for name, rows in reference_rows(variant)]
            candidates = [(name, rows) for name, rows in candidates if not rows.empty]
            judged = []  # (ratio, swept, ours, reference name, reference rows)
            values = [None] if prim.sweep is None else sorted(
                set(ours_v[prim.sweep].dropna()) &
                {x for _, rows in candidates for x in rows[prim.sweep].dropna()})
            if not values:
                raise LookupError(f"{prim.experiment}: no {prim.sweep} measured on both sides "
                                  f"for the goal '{goal.text}' at n={n}, p={p}")
            for value in values:
                def at(rows):
                    return rows if value is None else select(rows, **{prim.sweep: value})
                ours = at(ours_v)
                measured = [(c, at(rows)) for c, rows in candidates]
                name, ref = min(((c, rows) for c, rows in measured if not rows.empty),
                                key=lambda c: _median(c[1]))
                # speedup(a, b) is a / b over pairs: here process time over reference time.
                ratio = speedup(ours["seconds"], ref["seconds"]).median
                swept = "" if value is None else f"{prim.sweep}={int(value)}"
                judged.append((ratio, swept, ours, name, ref))
            ratio, swept, ours, name, ref = max(judged, key=lambda j: j[0])
            results.append(Result(prim.name, int(n), p, goal.text, goal.label, variant, name,
                                  _median(ours), _median(ref), ratio, goal.limit, swept))
    return results


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python3 -m analysis.peers RUN_FOLDER", file=sys.stderr)
        return 2
    present = [e for e in EXPERIMENTS if paths.experiment_csv(argv[0], e).is_file()]
    primitives = [p for p in PRIMITIVES if p.experiment in present]
    try:
        if not primitives and not paths.experiment_csv(argv[0], mpi.PRIMITIVES).is_file():
            raise InputError(f"{argv[0]}: none of the experiments the goals need "
                             f"({', '.join(EXPERIMENTS + (mpi.PRIMITIVES,))})")
        (run,) = load_runs(argv, present)
        results = evaluate(run, primitives)
        grain_lines = grain.goal_lines(run)  # the goals on n_1/2 and the machine's limits
        mpi_results = mpi.goals(run)
    except (InputError, LookupError) as e:
        print(f"peers: {e}", file=sys.stderr)
        return 2
    left_out = [p.name for p in PRIMITIVES if p not in primitives]
    if left_out:
        print(f"not in this run, so not judged: {', '.join(left_out)}")
    for r in results:
        goal = f"{r.goal} ({r.swept})" if r.swept else r.goal
        print(f"{r.primitive:10} n={r.n:<10} p={r.p}  {goal:38} "
              f"{r.variant}/process {r.process_seconds * 1e3:9.3f} ms  vs {r.reference:24} "
              f"{r.reference_seconds * 1e3:9.3f} ms  ratio {r.ratio:6.3f} (limit {r.limit:.3f})"
              f"  {'met' if r.met else 'MISSED'}")
    for line in grain_lines:
        print(line)
    print("on MPI (k ranks on this machine against the process pool with k workers):")
    for g in mpi_results:
        print("  " + mpi.describe_goal(g))
    return 0


if __name__ == "__main__":
    sys.exit(main())
