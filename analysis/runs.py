"""Reading one run folder, results/raw/<run>/, and refusing bad input.

Every problem stops the caller with an InputError whose message names the file and what is
wrong: a missing or empty file, a missing column, a value of the wrong kind, or files of two
runs mixed in one folder. Mixing is caught three ways: machine.json and run.json must name the
folder's run; the runner's run.json records how many rows each experiment wrote, which the CSV
must have; and a configuration may have each repetition only once.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.registry import FIXED_COLUMNS, experiment as experiment_spec


class InputError(Exception):
    """Input the analysis cannot use; the message says which file and why."""


def read_run_list(path):
    """The run names listed in `path` (one per line; '#' starts a comment)."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputError(f"{path}: missing (it lists the reference runs, one name per line)") \
            from None
    names = []
    for number, line in enumerate(text.splitlines(), start=1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        if "/" in name or name in (".", ".."):
            raise InputError(f"{path}:{number}: '{name}' is not a run name (a folder name "
                             f"under results/raw/)")
        if name in names:
            raise InputError(f"{path}:{number}: run '{name}' is listed twice")
        names.append(name)
    if not names:
        raise InputError(f"{path}: lists no run")
    return names


def _read_json(path, what):
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise InputError(f"{path}: missing ({what})") from None
    except ValueError as e:
        raise InputError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object")
    return data


def _require(data, path, *keys):
    value = data
    for depth, key in enumerate(keys):
        if not isinstance(value, dict) or key not in value or value[key] is None:
            raise InputError(f"{path}: no '{'.'.join(keys[:depth + 1])}'")
        value = value[key]
    return value


@dataclass
class Run:
    """One run folder: its machine record and the experiments read so far."""
    path: Path
    machine: dict
    record: dict
    frames: dict = field(default_factory=dict)

    @property
    def name(self):
        return self.path.name

    @property
    def cores(self):
        return int(self.machine["cpu"]["logical_cores"])

    @property
    def profile(self):
        return self.machine["profile"]

    @property
    def synthetic(self):
        return bool(self.machine.get("synthetic", False))

    @property
    def label(self):
        return f"{self.cores} cores"

    def data(self, experiment):
        if experiment not in self.frames:
            self.frames[experiment] = load_experiment(self, experiment)
        return self.frames[experiment]


def open_run(path):
    """Reads and checks machine.json and run.json of the run folder `path`."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"{path}: no such run folder")
    machine_path = paths.machine_json(path)
    machine = _read_json(machine_path, "the runner writes it once per run")
    for keys in (("run",), ("profile",), ("date",), ("cpu", "logical_cores"), ("cpu", "model")):
        _require(machine, machine_path, *keys)
    if machine["run"] != path.name:
        raise InputError(f"{machine_path}: belongs to run '{machine['run']}' but lies in folder "
                         f"'{path.name}': files of two runs are mixed in one folder")
    cores = machine["cpu"]["logical_cores"]
    if not isinstance(cores, int) or cores < 1:
        raise InputError(f"{machine_path}: cpu.logical_cores is {cores!r}, not a core count")
    record_path = paths.run_json(path)
    record = _read_json(record_path, "the runner's record of what ran")
    if _require(record, record_path, "run") != path.name:
        raise InputError(f"{record_path}: belongs to run '{record['run']}' but lies in folder "
                         f"'{path.name}': files of two runs are mixed in one folder")
    if record.get("profile") != machine["profile"]:
        raise InputError(f"{record_path}: profile '{record.get('profile')}' differs from "
                         f"machine.json's '{machine['profile']}': files of two runs mixed")
    _require(record, record_path, "experiments")
    return Run(path=path, machine=machine, record=record)


def load_experiment(run, experiment):
    """The tidy rows of `experiment` in `run`, checked; columns n, p, chunksize numeric."""
    spec = experiment_spec(experiment)
    csv_path = paths.experiment_csv(run.path, experiment)
    outcome = run.record["experiments"].get(experiment)
    if not csv_path.exists():
        why = f"; run.json says: {outcome.get('error')}" if outcome and outcome.get("error") \
            else ""
        raise InputError(f"{csv_path}: missing (experiment '{experiment}' did not finish in run "
                         f"'{run.name}'{why})")
    if csv_path.stat().st_size == 0:
        raise InputError(f"{csv_path}: empty file")
    try:
        df = pd.read_csv(csv_path, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise InputError(f"{csv_path}: empty file") from None
    except pd.errors.ParserError as e:
        raise InputError(f"{csv_path}: not a readable CSV ({e})") from None
    missing = [c for c in FIXED_COLUMNS + spec.params if c not in df.columns]
    if missing:
        raise InputError(f"{csv_path}: missing column(s) {', '.join(missing)}")
    if df.empty:
        raise InputError(f"{csv_path}: a header but no rows")
    others = sorted(set(df["experiment"].astype(str)) - {experiment})
    if others:
        raise InputError(f"{csv_path}: rows of experiment(s) {', '.join(others)} in the file of "
                         f"'{experiment}'")
    numeric_params = tuple(c for c in spec.params
                           if pd.to_numeric(df[c], errors="coerce").notna().sum()
                           == df[c].notna().sum())
    for column in ("n", "p", "chunksize", "repetition", "seconds") + numeric_params:
        if column in ("repetition", "seconds") or df[column].notna().any():
            converted = pd.to_numeric(df[column], errors="coerce")
            bad = df[column].notna() & converted.isna()
            if column in ("repetition", "seconds"):
                bad |= df[column].isna()
            if bad.any():
                row = int(bad.idxmax())
                raise InputError(f"{csv_path}:{row + 2}: column '{column}' holds "
                                 f"'{df[column][row]}', not a number")
            df[column] = converted
    if (df["seconds"] <= 0).any():
        row = int((df["seconds"] <= 0).idxmax())
        raise InputError(f"{csv_path}:{row + 2}: seconds must be positive, not "
                         f"{df['seconds'][row]}")
    key = list(spec.config_columns) + _integer_columns(df, spec) + ["repetition"]
    duplicated = df[key].fillna(-1).duplicated(keep=False)
    if duplicated.any():
        row = int(duplicated.idxmax())
        config = ", ".join(f"{c}={df[c][row]}" for c in key if pd.notna(df[c][row]))
        raise InputError(f"{csv_path}:{row + 2}: measurement ({config}) appears more than once: "
                         f"rows of two runs mixed in one file?")
    if outcome is None or outcome.get("status") != "ok":
        raise InputError(f"{csv_path}: {paths.run_json(run.path)} does not record experiment "
                         f"'{experiment}' as finished in this run: the CSV comes from another run")
    if outcome.get("rows") != len(df):
        raise InputError(f"{csv_path}: {len(df)} rows, but the run wrote {outcome.get('rows')} "
                         f"(run.json): rows of two runs mixed, or the file was edited")
    _check_benchmark_context(run, experiment)
    return df


def _integer_columns(df, spec):
    """Further columns that may name a configuration: an experiment's own integer arguments.
    Counters (rates, fractions) are not integers and stay out; an integer counter that varies
    between repetitions only makes the duplicate check weaker, never wrong."""
    known = set(spec.config_columns) | {"experiment", "repetition", "seconds", "iterations"}
    columns = []
    for column in df.columns:
        if column in known:
            continue
        values = pd.to_numeric(df[column], errors="coerce")
        if values.notna().any() and values.isna().equals(df[column].isna()) and \
                (values.dropna() % 1 == 0).all():
            columns.append(column)
    return columns


def _check_benchmark_context(run, experiment):
    """Google Benchmark's JSON beside the CSV, when it names its run, must name this one."""
    json_path = paths.experiment_json(run.path, experiment)
    if not json_path.exists():
        return
    report = _read_json(json_path, "Google Benchmark's output")
    named = report.get("context", {}).get("run")
    if named is not None and named != run.name:
        raise InputError(f"{json_path}: comes from run '{named}', not '{run.name}': files of two "
                         f"runs are mixed in one folder")


def load_runs(run_paths, experiments=()):
    """Opens every run and reads `experiments` of each, so that bad input stops early."""
    runs = [open_run(p) for p in run_paths]
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise InputError(f"the same run is given twice: {', '.join(names)}")
    for run in runs:
        for e in experiments:
            run.data(e)
    return runs
