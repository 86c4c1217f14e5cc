"""Where a run's measurements come from and how much they vary, from the run's own records.

A run may be a composite: an experiment rerun with the runner's --resume at a later commit
replaces its CSV and JSON, machine.json appends the resume (date and commit) to `resumed`, and
run.json keeps the rerun's duration. Google Benchmark's JSON of each experiment records when its
binary started (`context.date`), so an experiment belongs to the last resume that began before
it, or to the run's first commit.
"""

import csv
import datetime
import json

from analysis import paths
from analysis.registry import EXPERIMENTS
from analysis.runs import InputError


def _date(text, where):
    try:
        return datetime.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise InputError(f"{where}: date {text!r} is not an ISO 8601 date") from None


def finished_experiments(run):
    """The experiments run.json records as finished, in the order they ran."""
    return [name for name, outcome in run.record.get("experiments", {}).items()
            if outcome.get("status") == "ok"]


def experiment_start(run, experiment):
    """When the experiment's binary started, from its Google Benchmark JSON (an MPI experiment
    has one per rank count, <experiment>.np<k>.json: the earliest)."""
    path = paths.experiment_json(run.path, experiment)
    candidates = [path] if path.exists() else sorted(
        path.parent.glob(f"{experiment}.np*.json")) or [path]
    return min(_json_date(candidate) for candidate in candidates)


def _json_date(path):
    try:
        with open(path) as f:
            context = json.load(f).get("context", {})
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: unreadable ({e}); it dates the experiment") from None
    return _date(context.get("date"), f"{path}: context.date")


def experiment_commits(run):
    """[(commit, date the run or resume began, [experiments])] in the order the parts ran: the
    run's first commit, then each resume that ran an experiment."""
    machine_path = paths.machine_json(run.path)
    first = (run.machine.get("git") or {}).get("commit") or "unknown"
    parts = [(first, _date(run.machine.get("date"), f"{machine_path}: date"))]
    for resume in run.machine.get("resumed") or []:
        parts.append((resume.get("git_commit") or "unknown",
                      _date(resume.get("date"), f"{machine_path}: resumed date")))
    ran = {index: [] for index in range(len(parts))}
    for experiment in finished_experiments(run):
        index = 0
        if len(parts) > 1:  # only a resumed run needs to know when each experiment ran
            start = experiment_start(run, experiment)
            index = max((i for i, (_, began) in enumerate(parts) if began <= start), default=0)
        ran[index].append(experiment)
    return [(commit, began, ran[i]) for i, (commit, began) in enumerate(parts) if ran[i]]


def duration_seconds(run):
    """How long the finished experiments took, as run.json records (a rerun's own time)."""
    return sum(float(run.record["experiments"][e]["seconds"]) for e in finished_experiments(run))


def relative_iqrs(run):
    """IQR / median of the repetitions' times, one value per configuration of every finished
    experiment the analysis knows."""
    values = []
    for experiment in finished_experiments(run):
        if experiment not in EXPERIMENTS:
            continue
        df = run.data(experiment)
        keys = [c for c in EXPERIMENTS[experiment].config_columns if c in df.columns]
        grouped = df.groupby(keys, dropna=False)["seconds"]
        spread = (grouped.quantile(0.75) - grouped.quantile(0.25)) / grouped.median()
        values += [float(v) for v in spread.dropna()]
    if not values:
        raise InputError(f"{run.path}: no finished experiment to measure the noise of")
    return values


def baseline_run_spreads(path=paths.BASELINE_SPEEDUPS):
    """For each speedup the CI gate tracks, its fastest baseline run's median over its slowest's
    (columns high and low of results/baseline/speedups.csv), and how many runs that is."""
    try:
        with open(path) as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise InputError(f"{path}: unreadable ({e})") from None
    try:
        spreads = [float(r["high"]) / float(r["low"]) for r in rows]
        runs = {int(r["runs"]) for r in rows}
    except (KeyError, ValueError, ZeroDivisionError) as e:
        raise InputError(f"{path}: a row without numeric low, high and runs ({e})") from None
    if not spreads:
        raise InputError(f"{path}: tracks no speedup")
    return spreads, runs
