"""Tidy rows (docs/experiments.md) from what an experiment wrote: Google Benchmark's JSON report
of the binary, and the CSV of the CPython reference script."""

import csv

import common  # experiments/python (runner.py puts it on the path), shared with the scripts

# Fields Google Benchmark writes for every run; any other field of a run is a counter.
_STANDARD_FIELDS = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type",
    "repetitions", "repetition_index", "threads", "iterations", "real_time", "cpu_time",
    "time_unit", "aggregate_name", "aggregate_unit", "error_occurred", "error_message", "label",
}
# Name components that say how a benchmark was run, not what it measured.
_TIMING_FLAGS = {"real_time", "manual_time", "process_time"}
_RUN_OPTIONS = {"repeats", "iterations", "min_time", "min_warmup_time"}

_TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


class ExperimentError(Exception):
    """An experiment failed; the message says why."""


def parse_name(run_name):
    """'tree/process/n:1024/p:2/real_time' -> ('tree', 'process', {'n': 1024, 'p': 2}).

    The first two components are the variant and the backend; the rest are named arguments
    (ArgNames), except the options Google Benchmark appends (real_time, repeats:3, ...), which
    are dropped, and threads:N, which is kept as the argument `threads`.
    """
    parts = run_name.split("/")
    if len(parts) < 2 or not parts[0] or not parts[1] or ":" in parts[0] or ":" in parts[1]:
        raise ExperimentError(
            f"benchmark '{run_name}' is not named '<variant>/<backend>/...' (docs/experiments.md)")
    variant, backend = parts[0], parts[1]
    args = {}
    for part in parts[2:]:
        if part in _TIMING_FLAGS:
            continue
        key, sep, value = part.partition(":")
        if not sep:
            raise ExperimentError(
                f"benchmark '{run_name}' has an unnamed argument '{part}': register it with "
                "ArgNames so that the CSV can name its column")
        if key in _RUN_OPTIONS:
            continue
        if key in args:
            raise ExperimentError(f"benchmark '{run_name}' names argument '{key}' twice")
        args[key] = _number(value)
    return variant, backend, args


def _number(text):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def tidy_rows(experiment, report, arguments=None):
    """The tidy rows (one per repetition of each benchmark) of a Google Benchmark JSON report;
    the names of the benchmarks' own arguments are added to the list `arguments`.

    Aggregates (mean, median, ...) are dropped: the analysis computes its own from the kept
    repetitions. A benchmark that reported an error, a report without measurements, and two
    measurements of the same benchmark and repetition are errors of the experiment.
    """
    benchmarks = report.get("benchmarks") if isinstance(report, dict) else None
    if not isinstance(benchmarks, list):
        raise ExperimentError("the JSON report has no 'benchmarks' list")
    errors = []
    rows = []
    seen = set()
    for run in benchmarks:
        if run.get("run_type", "iteration") != "iteration":
            continue
        name = run.get("run_name", run.get("name", "?"))
        if run.get("error_occurred"):
            errors.append(f"{name}: {run.get('error_message', 'error')}")
            continue
        variant, backend, args = parse_name(name)
        unit = run.get("time_unit", "ns")
        if unit not in _TIME_UNITS:
            raise ExperimentError(f"benchmark '{name}' has an unknown time unit '{unit}'")
        repetition = int(run.get("repetition_index", 0))
        key = (name, repetition)
        if key in seen:
            raise ExperimentError(f"benchmark '{name}' repetition {repetition} appears twice")
        seen.add(key)
        row = {"experiment": experiment, "variant": variant, "backend": backend,
               "n": args.pop("n", None), "p": args.pop("p", None),
               "chunksize": args.pop("chunksize", None), "repetition": repetition,
               "seconds": float(run["real_time"]) * _TIME_UNITS[unit]}
        row.update(args)
        if arguments is not None:
            arguments.extend(a for a in args if a not in arguments)
        for field, value in run.items():
            if field in _STANDARD_FIELDS:
                continue
            if field in row:
                raise ExperimentError(
                    f"benchmark '{name}' has a counter '{field}' that clashes with a column")
            row[field] = value
        if run.get("label"):
            row["label"] = run["label"]
        row["iterations"] = run.get("iterations")
        rows.append(row)
    if errors:
        shown = "; ".join(errors[:5]) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
        raise ExperimentError(f"{len(errors)} benchmark runs reported errors: {shown}")
    if not rows:
        raise ExperimentError("the JSON report holds no measurements")
    return rows


def read_reference_rows(experiment, path):
    """The rows a reference script wrote, checked against the tidy schema."""
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in common.FIXED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ExperimentError(f"{path}: the reference CSV lacks columns {missing}")
            rows = list(reader)
    except FileNotFoundError:
        raise ExperimentError(f"the reference script wrote no CSV ({path})") from None
    if not rows:
        raise ExperimentError(f"{path}: the reference CSV has no rows")
    for number, row in enumerate(rows, start=2):
        if row["experiment"] != experiment:
            raise ExperimentError(
                f"{path}:{number}: experiment is '{row['experiment']}', not '{experiment}'")
        for column in ("variant", "backend", "repetition", "seconds"):
            if not row[column]:
                raise ExperimentError(f"{path}:{number}: empty '{column}'")
        try:
            seconds = float(row["seconds"])
        except ValueError:
            seconds = -1.0
        if not seconds > 0:
            raise ExperimentError(f"{path}:{number}: seconds '{row['seconds']}' is not positive")
    return rows
