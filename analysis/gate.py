"""CI's regression gate: tracked speedups of a quick run against the committed baseline.

    /usr/bin/python3 -m analysis.gate compare --baseline results/baseline/speedups.csv \
        --run results/ci/runs/RUN [--rerun results/ci/runs/RUN-rerun] \
        --report results/ci/gate.txt [--suspects results/ci/suspects.txt]
    /usr/bin/python3 -m analysis.gate baseline --run results/ci/runs/RUN1 [--run RUN2 ...] \
        --out results/baseline/speedups.csv --machine-out results/baseline/machine.json

Each tracked speedup is a ratio of two timings of one run (TRACKED below). Noise on a shared
2-core machine moves a speedup by tens of percent, so a single bad number must not fail CI; a
real loss must. Two kinds of noise matter: the spread of repetitions within a run (the IQR),
and the state of the machine from one run to the next, which moves a whole run at once (seen
here: the apply round trip over CPython's read 59 and then 20 in two quick runs of one commit
minutes apart, each with an IQR under 30 %). So the baseline is made from several runs, and the rule uses
the slowest of them: with L and H the lowest and the highest of the baseline runs' medians,
  - ok:    the new median is at least WARN_FRACTION * L;
  - warn:  the new median is below WARN_FRACTION * L (a loss worth a look, not a failure);
  - better: the new median is above BETTER_FRACTION * H (a lasting gain: a new baseline?);
  - suspect: the whole interquartile range of the new speedup lies below FAIL_FRACTION * L.
    A suspect is measured again (--rerun: the suspects' experiments run once more); it fails
    only if the rerun's whole IQR is below FAIL_FRACTION * L too, else it is a warning.
Exit status: 0 pass (warnings allowed), 1 a confirmed regression, 2 bad input (a missing run,
experiment, configuration or baseline: never a silent pass), 3 suspects and no rerun given yet
(their experiments are written to --suspects, one per line).
"""

import argparse
import csv
import io
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from analysis.runs import InputError, load_runs
from analysis.stats import Spread, describe, ratios, resolve, select
from analysis.texout import write_atomic

WARN_FRACTION = 0.85
FAIL_FRACTION = 0.75
BETTER_FRACTION = 1.25   # reported, so that a lasting gain can be made the new baseline


@dataclass(frozen=True)
class Tracked:
    """reference time / measured time. Selector values: 'max' (the largest value measured for
    the rest of the selector), 'cores' (the run's cores), 'log2n' (floor of log2 of the
    resolved n, as map_chunksize.cc), 'same' (in `reference`: the measured side's resolved
    value)."""
    id: str
    experiment: str
    what: str
    measured: dict
    reference: dict
    per_item: bool = False   # compare seconds / n (the two sides measure different n)


TRACKED = (
    Tracked("gil_process", "gil_baseline", "CPU loop, process pool over serial",
            {"variant": "loop", "backend": "process", "p": "cores", "n": "max"},
            {"variant": "loop", "backend": "serial", "n": "same"}),
    Tracked("gil_thread", "gil_baseline", "CPU loop, thread pool over serial",
            {"variant": "loop", "backend": "thread", "p": "cores", "n": "max"},
            {"variant": "loop", "backend": "serial", "n": "same"}),
    Tracked("apply_vs_cpython", "pool_overhead", "apply round trip, CPython over process pool",
            {"variant": "apply", "backend": "process", "n": "max"},
            {"variant": "apply", "backend": "cpython_process", "n": "max"}, per_item=True),
    Tracked("map1_vs_cpython", "pool_overhead", "map at chunksize 1, CPython over process pool",
            {"variant": "map", "backend": "process", "chunksize": 1, "p": "cores", "n": "max"},
            {"variant": "map", "backend": "cpython_process", "chunksize": 1, "p": "cores",
             "n": "max"}, per_item=True),
    Tracked("map_log2n_process", "map_chunksize",
            "expensive map at chunksize log2 n, process pool over serial",
            {"variant": "map", "function": "expensive", "backend": "process", "p": "cores",
             "n": "max", "chunksize": "log2n"},
            {"variant": "map", "function": "expensive", "backend": "serial", "n": "same"}),
    Tracked("reduce_process", "reduce_tree_vs_partitioned",
            "partitioned reduce, process pool over serial",
            {"variant": "partitioned", "backend": "process", "p": "cores", "n": "max"},
            {"variant": "serial", "backend": "serial", "n": "same"}),
    Tracked("reduce_thread", "reduce_tree_vs_partitioned",
            "partitioned reduce, thread pool over serial",
            {"variant": "partitioned", "backend": "thread", "p": "cores", "n": "max"},
            {"variant": "serial", "backend": "serial", "n": "same"}),
    Tracked("scan_two_pass_process", "scan_two_pass", "two-pass scan, process pool over serial",
            {"variant": "two_pass", "backend": "process", "p": "cores", "n": "max"},
            {"variant": "serial", "backend": "serial", "n": "same"}),
    Tracked("scan_rts_process", "scan_two_pass", "reduce-then-scan, process pool over serial",
            {"variant": "reduce_then_scan", "backend": "process", "p": "cores", "n": "max"},
            {"variant": "serial", "backend": "serial", "n": "same"}),
    Tracked("scan_single_pass_process", "scan_two_pass",
            "single-pass scan, process pool over serial",
            {"variant": "single_pass", "backend": "process", "p": "cores", "n": "max"},
            {"variant": "serial", "backend": "serial", "n": "same"}),
    Tracked("pack_process", "pack", "pack (50 % kept), process pool over serial",
            {"variant": "scan_pack", "backend": "process", "p": "cores", "keep_pct": 50,
             "n": "max"},
            {"variant": "serial", "backend": "serial", "keep_pct": 50, "n": "same"}),
    Tracked("dot_process", "dot_flop_mop", "dot, process pool over serial",
            {"variant": "dot", "backend": "process", "p": "cores", "n": "max"},
            {"variant": "dot", "backend": "serial", "n": "same"}),
    Tracked("matvec_process", "matvec_blas", "matvec (largest), process pool over serial BLAS",
            # Several shapes may share the largest n: the tallest of them, one shape.
            {"variant": "matvec", "backend": "process", "p": "cores", "n": "max", "rows": "max",
             "cols": "max"},
            {"variant": "matvec", "backend": "openblas_serial", "n": "same", "rows": "same",
             "cols": "same"}),
    Tracked("wordcount_process", "mapreduce_wordcount", "word count, process pool over serial",
            {"variant": "wordcount", "backend": "process", "p": "cores", "n": "max"},
            {"variant": "wordcount", "backend": "serial", "n": "same"}),
    Tracked("wordcount_vs_cpython", "mapreduce_wordcount",
            "word count, process pool over CPython's at p = cores",
            {"variant": "wordcount", "backend": "process", "p": "cores", "n": "max"},
            {"variant": "wordcount", "backend": "cpython_process", "p": "cores", "n": "max"},
            per_item=True),
)
TRACKED_BY_ID = {t.id: t for t in TRACKED}
assert len(TRACKED_BY_ID) == len(TRACKED), "tracked speedup ids must be unique"

# low, high: the lowest and highest of the baseline runs' medians (the rule's L and H);
# median, q1, q3, count: the speedup's spread over every baseline run's ratios together.
BASELINE_COLUMNS = ("id", "experiment", "what", "measured", "reference", "per_item", "low",
                    "high", "runs", "median", "q1", "q3", "count")


def _seconds(df, selector, per_item, where):
    rows = select(df, **selector)
    if rows.empty:
        raise LookupError(f"{where}: no measurement with {describe(selector)}")
    if rows["repetition"].duplicated().any():
        raise LookupError(f"{where}: {describe(selector)} matches several configurations (a "
                          f"repetition occurs twice); TRACKED must pin one")
    return (rows["seconds"] / rows["n"]).to_numpy() if per_item else rows["seconds"].to_numpy()


def measure_ratios(tracked, run, measured=None, reference=None):
    """The tracked speedup's ratios (every reference repetition over every measured one) in
    `run`, with the selectors as resolved (unless given)."""
    df = run.data(tracked.experiment)
    where = f"{run.path / (tracked.experiment + '.csv')}: {tracked.id}"
    try:
        if measured is None:
            measured = resolve(df, tracked.measured, run.cores)
            reference = resolve(df, tracked.reference, run.cores, same=measured)
        return measured, reference, ratios(_seconds(df, reference, tracked.per_item, where),
                                           _seconds(df, measured, tracked.per_item, where))
    except LookupError as e:
        message = str(e) if str(e).startswith(str(run.path)) else f"{where}: {e}"
        raise InputError(message) from None


def measure(tracked, run, measured=None, reference=None):
    """The tracked speedup's spread in `run`; resolves the selectors unless given."""
    measured, reference, values = measure_ratios(tracked, run, measured, reference)
    return measured, reference, Spread.of(values)


def make_baseline(run_paths, allow_synthetic=False):
    """The baseline rows from one or more runs of the same profile on one machine kind."""
    runs = [load_runs([path])[0] for path in run_paths]
    if not runs:
        raise InputError("a baseline needs at least one run")
    for run in runs:
        if run.synthetic and not allow_synthetic:
            raise InputError(f"{run.path}: a synthetic run cannot be the baseline")
        if run.cores != runs[0].cores:
            raise InputError(f"{run.path}: {run.cores} cores, but {runs[0].path} has "
                             f"{runs[0].cores}; a baseline comes from one machine kind")
    rows = []
    for t in TRACKED:
        measured = reference = None  # as the first run resolves them
        spreads, pooled = [], []
        for run in runs:
            m, r, values = measure_ratios(t, run)
            if measured is None:
                measured, reference = m, r
            elif (m, r) != (measured, reference):
                raise InputError(f"{run.path}: {t.id} is measured at {describe(m)} over "
                                 f"{describe(r)}, but in {runs[0].path} at {describe(measured)} "
                                 f"over {describe(reference)}: runs of different profiles")
            spreads.append(Spread.of(values))
            pooled.extend(values)
        s = Spread.of(pooled)
        rows.append({"id": t.id, "experiment": t.experiment, "what": t.what,
                     "measured": json.dumps(measured, sort_keys=True),
                     "reference": json.dumps(reference, sort_keys=True),
                     "per_item": int(t.per_item),
                     "low": repr(min(x.median for x in spreads)),
                     "high": repr(max(x.median for x in spreads)), "runs": len(runs),
                     "median": repr(s.median), "q1": repr(s.q1), "q3": repr(s.q3),
                     "count": s.count})
    return runs, rows


def write_baseline(rows, out):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=BASELINE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(out, buffer.getvalue())


def read_baseline(path):
    path = Path(path)
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in BASELINE_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
            rows = list(reader)
    except FileNotFoundError:
        raise InputError(f"{path}: missing; make one deliberately with `make baseline`") \
            from None
    if not rows:
        raise InputError(f"{path}: no tracked speedups")
    ids = [r["id"] for r in rows]
    unknown = sorted(set(ids) - set(TRACKED_BY_ID))
    absent = sorted(set(TRACKED_BY_ID) - set(ids))
    if unknown or absent:
        raise InputError(f"{path}: tracks {', '.join(unknown) or 'nothing'} that analysis/gate.py "
                         f"no longer tracks and lacks {', '.join(absent) or 'nothing'}; refresh "
                         f"it with `make baseline`")
    for r in rows:
        try:
            for key in ("low", "high", "median", "q1", "q3"):
                r[key] = float(r[key])
            r["measured"] = json.loads(r["measured"])
            r["reference"] = json.loads(r["reference"])
        except ValueError as e:
            raise InputError(f"{path}: row {r['id']}: {e}") from None
        if not 0 < r["low"] <= r["high"]:
            raise InputError(f"{path}: row {r['id']}: low {r['low']} and high {r['high']} are "
                             f"not positive and ordered")
    return rows


@dataclass
class Outcome:
    id: str
    what: str
    low: float
    high: float
    new: Spread
    rerun: Spread = None
    verdict: str = "ok"

    @property
    def ratio(self):
        """The new median over the slowest baseline run's."""
        return self.new.median / self.low


def judge(low, high, new, rerun=None):
    """The verdict on spread `new` (and its rerun) against baseline run medians low..high."""
    if new.q3 < FAIL_FRACTION * low:
        if rerun is None:
            return "suspect"
        return "FAIL" if rerun.q3 < FAIL_FRACTION * low else "warn (rerun recovered)"
    if new.median < WARN_FRACTION * low:
        return "warn"
    if new.median > BETTER_FRACTION * high:
        return "better"
    return "ok"


def _read_machine(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: unreadable ({e}); it records the baseline's machine "
                         f"(`make baseline` writes it)") from None


def compare(baseline_path, run_path, rerun_path=None, baseline_machine_path=None):
    rows = read_baseline(baseline_path)
    baseline_machine = _read_machine(baseline_machine_path) if baseline_machine_path else None
    (run,) = load_runs([run_path])
    rerun = load_runs([rerun_path])[0] if rerun_path else None
    if baseline_machine is not None:
        cores = baseline_machine.get("cpu", {}).get("logical_cores")
        if cores is not None and cores != run.cores:
            raise InputError(f"{run.path}: {run.cores} cores, but the baseline was made on "
                             f"{cores}; speedups of other machines are not comparable "
                             f"(make a baseline on this machine kind with `make baseline`)")
    outcomes = []
    for r in rows:
        tracked = TRACKED_BY_ID[r["id"]]
        _, _, new = measure(tracked, run, r["measured"], r["reference"])
        outcome = Outcome(r["id"], r["what"], r["low"], r["high"], new)
        outcome.verdict = judge(r["low"], r["high"], new)
        if outcome.verdict == "suspect" and rerun is not None:
            if tracked.experiment not in rerun.record["experiments"]:
                raise InputError(f"{rerun.path}: the rerun did not run experiment "
                                 f"{tracked.experiment}, needed for suspect {r['id']}")
            _, _, outcome.rerun = measure(tracked, rerun, r["measured"], r["reference"])
            outcome.verdict = judge(r["low"], r["high"], new, outcome.rerun)
        outcomes.append(outcome)
    return run, outcomes


def report(run, outcomes, baseline_path):
    def spread(s):
        return f"{s.median:8.3g} [{s.q1:.3g}, {s.q3:.3g}]"
    width = max(len(o.id) for o in outcomes)
    lines = [f"Speedups of run {run.name} against {baseline_path}",
             f"old: the lowest and highest median of the baseline runs; ratio: new median over "
             f"the lowest", f"fail: whole IQR below {FAIL_FRACTION:.0%} of the lowest in the "
             f"run and its rerun; warn: median below {WARN_FRACTION:.0%} of it; better: above "
             f"{BETTER_FRACTION:.0%} of the highest", "",
             f"{'speedup':<{width}}  {'old':>15}  {'new median [IQR]':<28}  {'ratio':>6}  "
             f"verdict"]
    for o in outcomes:
        old = f"{o.low:.3g}..{o.high:.3g}"
        line = (f"{o.id:<{width}}  {old:>15}  {spread(o.new):<28}  {o.ratio:6.2f}  "
                f"{o.verdict}")
        if o.rerun is not None:
            line += f"   (rerun: {spread(o.rerun).strip()})"
        lines.append(line)
    counts = {}
    for o in outcomes:
        key = o.verdict.split(" ")[0]
        counts[key] = counts.get(key, 0) + 1
    lines += ["", "summary: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))]
    lines += [f"  {o.id}: {o.what}" for o in outcomes]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare", help="a run's tracked speedups against the baseline")
    c.add_argument("--baseline", required=True)
    c.add_argument("--baseline-machine", help="the baseline's machine.json (cores must match)")
    c.add_argument("--run", required=True)
    c.add_argument("--rerun", help="the suspects' experiments, measured again")
    c.add_argument("--report", required=True, help="where the table is written")
    c.add_argument("--suspects", help="where the suspects' experiments are listed")
    b = sub.add_parser("baseline", help="make the baseline from one or more runs")
    b.add_argument("--run", required=True, action="append",
                   help="a quick run of this machine kind (repeat for several: the more runs, "
                        "the better the baseline knows the machine's run-to-run noise)")
    b.add_argument("--out", required=True)
    b.add_argument("--machine-out", required=True, help="copy of the run's machine.json")
    args = parser.parse_args(argv)
    try:
        if args.command == "baseline":
            runs, rows = make_baseline(args.run)
            write_baseline(rows, args.out)
            shutil.copyfile(runs[0].path / "machine.json", args.machine_out)
            print(f"baseline: {len(rows)} tracked speedups from run(s) "
                  f"{', '.join(r.name for r in runs)} -> {args.out}")
            return 0
        run, outcomes = compare(args.baseline, args.run, args.rerun, args.baseline_machine)
    except InputError as e:
        print(f"gate: {e}", file=sys.stderr)
        return 2
    text = report(run, outcomes, args.baseline)
    write_atomic(args.report, text)
    print(text, end="")
    suspects = sorted({TRACKED_BY_ID[o.id].experiment for o in outcomes if o.verdict == "suspect"})
    if suspects:
        if args.suspects:
            write_atomic(args.suspects, "\n".join(suspects) + "\n")
        print(f"gate: suspects in {', '.join(suspects)}: measure them again (--rerun)")
        return 3
    if any(o.verdict == "FAIL" for o in outcomes):
        print("gate: FAILED: a speedup lost more than "
              f"{1 - FAIL_FRACTION:.0%} in the run and in its rerun", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
