"""Runs the experiment suite: `bazel run //experiments:all -- [options]`.

Every experiment of the registry (EXPERIMENTS in experiments/BUILD, passed as --experiments) is a
Google Benchmark binary, optionally with a CPython reference script python/<name>.py. Each run
writes one folder results/raw/<run>/ (the run named by machine and date):

  <experiment>.csv    tidy rows (docs/experiments.md): the binary's and the reference's
  <experiment>.json   Google Benchmark's own output
  machine.json        the machine, build, libraries, environment, git commit, profile
  run.json            what ran, how long it took, what failed and why
  <experiment>.error.txt   only for an experiment that failed: its error and last output

Every file is written whole (temporary file, then rename), and an experiment's CSV is written
last, so a CSV exists only for a finished experiment: an interrupted run keeps what finished and
`--resume RUN` runs only the rest. Each experiment runs in its own process group; a timeout, a
Ctrl-C or a SIGTERM kills the whole group. A failing experiment is reported and the others run;
the exit status is 1 if any failed (130 if interrupted).

This file is the command line and the order of work; beside it: tidy.py (the rows), child.py
(child processes), machine.py (machine.json, run names), progress.py (the status line).
"""

import argparse
import dataclasses
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))
import child  # noqa: E402
import common  # noqa: E402  (lives in python/, shared with the reference scripts)
import machine  # noqa: E402
from machine import default_run_name  # noqa: E402  (also the Makefile's, through runner)
from progress import Progress, clock, earlier_durations  # noqa: E402
from tidy import ExperimentError, read_reference_rows, tidy_rows  # noqa: E402

# Per experiment and part (the binary, the reference script; for an MPI experiment each rank
# count): a run past this is killed.
TIMEOUT_SECONDS = {"quick": 300, "full": 1800}

# An MPI experiment (MPI_EXPERIMENTS in experiments/BUILD) runs once per rank count (--mpi-ranks)
# under mpirun: more ranks than cores allowed (--oversubscribe), no binding (the machine is
# shared), pml ob1 with shared memory only on one machine (btl self and vader: no UCX or
# InfiniBand probing); with --hostfile, the hosts it names and TCP between them as well.
# PROCPAR_PROFILE is exported to every rank (-x), remote ones included.
MPI_RANKS = (1, 2, 4)
MPIRUN = ("mpirun", "--oversubscribe", "--bind-to", "none", "-x", "PROCPAR_PROFILE",
          "--mca", "pml", "ob1")

@dataclasses.dataclass(frozen=True)
class Context:
    """One run of the suite, resolved from the command line (and, with --resume, from the run's
    machine.json): what to run, from where, into where, and how."""
    selected: tuple        # the experiments to run, in registry order
    mpi: frozenset         # those of the registry that run under mpirun
    mpi_ranks: tuple       # the rank counts each of those runs at
    hostfile: str | None   # mpirun's hostfile (a cluster); None: this machine
    run_name: str
    run_dir: str
    results_dir: str
    resume: bool           # continuing run_name rather than starting it
    profile: str
    repetitions: int
    timeout: float         # seconds, per experiment part
    bin_dir: str           # the experiment binaries
    python_dir: str        # the reference scripts
    python: str            # their interpreter
    workspace: str | None  # the source tree (git commit, .bazelrc); None outside bazel run
    compilation_mode: str | None  # Bazel's and the project's compiler flags, as
    copts: tuple                  # experiments/BUILD passes them, for machine.json


class Interrupted(BaseException):
    """SIGTERM or SIGHUP: like Ctrl-C, not an error of the running experiment."""


def _raise_interrupted(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


class MpiJob:
    """How one run of an MPI experiment at `ranks` ranks is started: under mpirun, with a session
    directory of its own (Open MPI's and PMIx's files live under TMPDIR) that `close` removes
    whatever happened, so a killed job leaves no files behind either."""

    def __init__(self, ranks, env, hostfile=None):
        self.ranks = ranks
        self.hostfile = hostfile
        # In /tmp: a deeper TMPDIR (Bazel's) can make PMIx's socket paths too long.
        self.session = tempfile.mkdtemp(prefix="procpar-mpi.", dir="/tmp")
        # As root, Open MPI refuses to start without both variables.
        self.env = dict(env, TMPDIR=self.session, OMPI_ALLOW_RUN_AS_ROOT="1",
                        OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")

    def command(self, binary, *args):
        if self.hostfile:
            where = ["--hostfile", self.hostfile, "--mca", "btl", "self,vader,tcp"]
        else:
            where = ["--mca", "btl", "self,vader"]
        return [*MPIRUN, *where, "-np", str(self.ranks), binary, *args]

    def close(self):
        shutil.rmtree(self.session, ignore_errors=True)


# Seconds --benchmark_list_tests may take (an MPI job's start-up included).
LIST_TIMEOUT_SECONDS = 120


def list_benchmarks(command, env):
    """The benchmark names `command` registers. Runs in a process group of its own, killed
    whole when the listing ends, times out or is interrupted (an MPI job's ranks included)."""
    binary = command[-1]
    process = subprocess.Popen([*command, "--benchmark_list_tests=true"], env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, errors="replace",
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=LIST_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise ExperimentError(f"{binary} --benchmark_list_tests did not finish in "
                              f"{LIST_TIMEOUT_SECONDS:g} s and was killed") from None
    finally:
        child.end_group(process)
    if process.returncode != 0:
        raise ExperimentError(
            f"{binary} --benchmark_list_tests: {child.describe_status(process.returncode)}"
            f"\n{(stdout + stderr).strip()[-2000:]}")
    names = [line.strip() for line in stdout.splitlines() if line.strip()]
    if not names:
        raise ExperimentError(f"{binary} registers no benchmarks")
    return names


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _run_binary(ctx, name, binary, env, partial_json, progress, job=None):
    """One run of the experiment's binary (under `job`'s mpirun when given) writing Google
    Benchmark's JSON report to partial_json; returns the report."""
    def launch(*args):
        return job.command(binary, *args) if job else [binary, *args]
    run_env = job.env if job else env
    where = f"{name} at {job.ranks} ranks" if job else name
    instances = set(list_benchmarks(launch(), run_env))
    progress.set_phase(f"C++, {job.ranks} ranks" if job else "C++",
                       total=len(instances) * ctx.repetitions)

    def count(line):
        words = line.split()
        if words and words[0] in instances:
            progress.step()

    status, tail = child.run(
        launch(f"--benchmark_out={partial_json}", "--benchmark_out_format=json",
               f"--benchmark_repetitions={ctx.repetitions}",
               "--benchmark_enable_random_interleaving="
               + str(common.INTERLEAVE_REPETITIONS).lower(),
               f"--benchmark_min_time={common.PROFILES[ctx.profile]['min_time']}"),
        run_env, ctx.timeout, count, progress.tick)
    if status != 0:
        raise ExperimentError(f"{where}: {child.describe_status(status)}\n{tail}")
    try:
        with open(partial_json) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise ExperimentError(f"{where}: unreadable JSON report: {e}") from None


def _mpi_json_name(name, ranks):
    return f"{name}.np{ranks}.json"


def run_experiment(ctx, name, progress):
    """Runs one experiment into ctx.run_dir; raises ExperimentError (or child.TimedOut) if it
    fails. An MPI experiment runs at each of ctx.mpi_ranks ranks; rank 0 writes one JSON report
    per rank count (<name>.np<k>.json), and the rows of all of them make one CSV, p = the
    ranks."""
    binary = os.path.join(ctx.bin_dir, name)
    if not os.access(binary, os.X_OK):
        raise ExperimentError(f"no experiment binary {binary} (is //experiments:{name} built and "
                              "listed in EXPERIMENTS?)")
    env = dict(os.environ, PROCPAR_PROFILE=ctx.profile)
    partial_csv = os.path.join(ctx.run_dir, f".{name}.cpython.csv.partial")
    reports = {}  # final JSON name -> partial JSON path
    try:
        arguments = []
        rows = []
        if name in ctx.mpi:
            for ranks in ctx.mpi_ranks:
                partial_json = os.path.join(ctx.run_dir, f".{name}.np{ranks}.json.partial")
                reports[_mpi_json_name(name, ranks)] = partial_json
                job = MpiJob(ranks, env, ctx.hostfile)
                try:
                    report = _run_binary(ctx, name, binary, env, partial_json, progress, job)
                finally:
                    job.close()
                ranked = tidy_rows(name, report, arguments)
                wrong = {row["p"] for row in ranked} - {ranks}
                if wrong:
                    raise ExperimentError(
                        f"{name} at {ranks} ranks: rows with p = {sorted(wrong, key=str)}; an "
                        "MPI experiment's p is its number of ranks")
                rows += ranked
        else:
            partial_json = os.path.join(ctx.run_dir, f".{name}.json.partial")
            reports[f"{name}.json"] = partial_json
            rows = tidy_rows(name, _run_binary(ctx, name, binary, env, partial_json, progress),
                             arguments)

        script = os.path.join(ctx.python_dir, f"{name}.py")
        if os.path.exists(script):
            progress.set_phase("CPython")

            def show(line):  # the script prints one line per measurement
                progress.set_phase("CPython: " + " ".join(line.split()[:4]))

            status, tail = child.run(
                [ctx.python, script, "--profile", ctx.profile, "--repetitions",
                 str(ctx.repetitions), "--out", partial_csv],
                env, ctx.timeout, show, progress.tick)
            if status != 0:
                raise ExperimentError(
                    f"python/{name}.py: {child.describe_status(status)}\n{tail}")
            rows += read_reference_rows(name, partial_csv)

        for final, partial in reports.items():
            os.replace(partial, os.path.join(ctx.run_dir, final))
        common.write_atomic(os.path.join(ctx.run_dir, f"{name}.csv"),
                            common.csv_text(rows, leading=arguments))
        return len(rows)
    finally:
        for partial in reports.values():
            _remove(partial)
        _remove(partial_csv)


def _parser():
    parser = argparse.ArgumentParser(
        prog="bazel run //experiments:all --",
        description="Runs the experiment suite into results/raw/<run>/.")
    parser.add_argument("--experiments", required=True,
                        help="the registry: every experiment, comma-separated, in run order "
                             "(set by experiments/BUILD)")
    parser.add_argument("--mpi-experiments", default="",
                        help="those of the registry that run under mpirun at "
                             + ", ".join(map(str, MPI_RANKS)) + " ranks, comma-separated (set "
                             "by experiments/BUILD)")
    parser.add_argument("--mpi-ranks",
                        help="rank counts of the MPI experiments, comma-separated (default "
                             + ",".join(map(str, MPI_RANKS)) + ", or the resumed run's)")
    parser.add_argument("--hostfile",
                        help="run the MPI experiments on the hosts of this Open MPI hostfile "
                             "(README: on a cluster) rather than on this machine")
    parser.add_argument("--profile", choices=sorted(common.PROFILES),
                        help="quick (CI, minutes) or full (the paper); default full, or the "
                             "resumed run's")
    parser.add_argument("--repetitions", type=int,
                        help="repetitions of each benchmark (default: the profile's)")
    parser.add_argument("--only", action="append", default=[],
                        help="run only these experiments (comma-separated, repeatable)")
    parser.add_argument("--skip", action="append", default=[],
                        help="do not run these experiments (comma-separated, repeatable)")
    parser.add_argument("--resume", metavar="RUN",
                        help="continue run RUN (a name under the results folder): run only "
                             "the experiments without a CSV there")
    parser.add_argument("--results-dir",
                        help="where run folders go (default: results/raw in the source tree "
                             "under bazel run)")
    parser.add_argument("--run-name", help="name of a new run (default: machine and date)")
    parser.add_argument("--timeout", type=float,
                        help="seconds before an experiment part is killed (default: "
                             + ", ".join(f"{k} {v}" for k, v in TIMEOUT_SECONDS.items()) + ")")
    parser.add_argument("--bin-dir", help="folder of the experiment binaries (default: beside "
                                          "this script)")
    parser.add_argument("--python-dir", help="folder of the reference scripts (default: "
                                             "python/ beside the binaries)")
    parser.add_argument("--python", default="/usr/bin/python3",
                        help="interpreter of the reference scripts (default: Debian's)")
    parser.add_argument("--workspace", default=os.environ.get("BUILD_WORKSPACE_DIRECTORY"),
                        help="source tree, for the git commit and .bazelrc (default: bazel "
                             "run's workspace)")
    parser.add_argument("--compilation-mode", help="Bazel's compilation mode (set by BUILD)")
    parser.add_argument("--copt", action="append", default=[],
                        help="a compiler flag of the project (set by BUILD)")
    return parser


def _selected(args, parser):
    """The experiments --only and --skip leave of the registry, in registry order."""
    registry = [name for name in args.experiments.split(",") if name]
    if not registry:
        parser.error("the registry is empty: list experiments in EXPERIMENTS (experiments/BUILD)")
    if len(set(registry)) != len(registry):
        parser.error(f"--experiments names an experiment twice: {args.experiments}")

    def names(values, option):
        chosen = [n for value in values for n in value.split(",") if n]
        unknown = [n for n in chosen if n not in registry]
        if unknown:
            parser.error(f"{option}: unknown experiment(s) {', '.join(unknown)}; the suite has "
                         f"{', '.join(registry)}")
        return chosen

    names(args.mpi_experiments.split(","), "--mpi-experiments")
    only, skip = names(args.only, "--only"), names(args.skip, "--skip")
    selected = [n for n in registry if (not only or n in only) and n not in skip]
    if not selected:
        parser.error("--only/--skip leave no experiment to run")
    return tuple(selected)


def parse_args(argv):
    """The run's Context, and machine.json of the run being resumed (None for a new run).
    Bad options, and a run folder that is missing (--resume) or exists already (a new run),
    are errors of the command line (SystemExit with usage)."""
    parser = _parser()
    args = parser.parse_args(argv)
    selected = _selected(args, parser)
    if args.repetitions is not None and args.repetitions < 1:
        parser.error(f"--repetitions must be at least 1, not {args.repetitions}")
    results_dir = args.results_dir
    if results_dir is None:
        if not args.workspace:
            parser.error("outside `bazel run`, say where results go with --results-dir")
        results_dir = os.path.join(args.workspace, "results", "raw")

    resumed = None
    if args.resume:
        run_name = os.path.basename(os.path.normpath(args.resume))
        run_dir = os.path.join(results_dir, run_name)
        try:
            with open(os.path.join(run_dir, "machine.json")) as f:
                resumed = json.load(f)
        except (OSError, ValueError) as e:
            parser.error(f"--resume {args.resume}: no readable run at {run_dir} ({e})")
        for option in ("profile", "repetitions"):
            given = getattr(args, option)
            if given is not None and given != resumed[option]:
                parser.error(f"--resume {run_name}: the run used {option} {resumed[option]}, "
                             f"not {given}")
        profile, repetitions = resumed["profile"], resumed["repetitions"]
    else:
        profile = args.profile or "full"
        repetitions = (args.repetitions if args.repetitions is not None
                       else common.PROFILES[profile]["repetitions"])
        run_name = args.run_name or default_run_name()
        run_dir = os.path.join(results_dir, run_name)
        if os.path.exists(run_dir):
            parser.error(f"run folder {run_dir} exists already (resume it with --resume)")

    mpi_ranks = MPI_RANKS
    if args.mpi_ranks is not None:
        try:
            mpi_ranks = tuple(int(k) for k in args.mpi_ranks.split(","))
        except ValueError:
            mpi_ranks = ()
        if not mpi_ranks or min(mpi_ranks) < 1 or len(set(mpi_ranks)) != len(mpi_ranks):
            parser.error(f"--mpi-ranks must be distinct positive integers, comma-separated, "
                         f"not '{args.mpi_ranks}'")
    if resumed is not None and "mpi_ranks" in resumed:  # runs before MPI lack the key
        recorded = tuple(resumed["mpi_ranks"])
        if args.mpi_ranks is not None and mpi_ranks != recorded:
            parser.error(f"--resume {run_name}: the run used mpi_ranks "
                         f"{','.join(map(str, recorded))}, not {args.mpi_ranks}")
        mpi_ranks = recorded
    if args.hostfile and not os.path.isfile(args.hostfile):
        parser.error(f"--hostfile {args.hostfile}: no such file")
    bin_dir = args.bin_dir or os.path.dirname(os.path.abspath(__file__))
    ctx = Context(
        selected=selected,
        mpi=frozenset(n for n in args.mpi_experiments.split(",") if n), mpi_ranks=mpi_ranks,
        hostfile=os.path.abspath(args.hostfile) if args.hostfile else None,
        run_name=run_name, run_dir=run_dir, results_dir=results_dir,
        resume=bool(args.resume), profile=profile, repetitions=repetitions,
        timeout=args.timeout or TIMEOUT_SECONDS[profile], bin_dir=bin_dir,
        python_dir=args.python_dir or os.path.join(bin_dir, "python"), python=args.python,
        workspace=args.workspace, compilation_mode=args.compilation_mode,
        copts=tuple(args.copt))
    return ctx, resumed


def _now():
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def machine_record(ctx):
    """machine.json of a new run: the run's settings, then the machine (machine.describe)."""
    return {
        "run": ctx.run_name,
        "date": _now(),
        "profile": ctx.profile,
        "repetitions": ctx.repetitions,
        "min_time_seconds": common.PROFILES[ctx.profile]["min_time"],
        # Whether the repetitions of an experiment's benchmarks run in a random order (Google
        # Benchmark's random interleaving, and the reference scripts' Table); runs made before
        # the scripts interleaved lack the second key, as their CPython rows were in sequence.
        "repetitions_interleaved": common.INTERLEAVE_REPETITIONS,
        "cpython_repetitions_interleaved": common.INTERLEAVE_REPETITIONS,
        # Where the MPI experiments ran: at these rank counts, on this machine (no hostfile)
        # or on the hosts of the hostfile.
        "mpi_ranks": list(ctx.mpi_ranks),
        "mpi_hostfile": ctx.hostfile,
        **machine.describe(ctx.workspace, ctx.python, ctx.compilation_mode, ctx.copts),
    }


def _record_resume(ctx, record):
    commit = machine.git_state(ctx.workspace)["commit"]
    if commit != record["git"]["commit"]:
        print(f"warning: run {ctx.run_name} began at commit {record['git']['commit']}, this "
              f"is {commit}; machine.json records both", file=sys.stderr)
    record.setdefault("resumed", []).append({"date": _now(), "git_commit": commit})
    return record


def main(argv=None, stream=None):
    ctx, resumed = parse_args(sys.argv[1:] if argv is None else argv)
    stream = stream or sys.stdout

    if ctx.resume:
        machine_json = _record_resume(ctx, resumed)
    else:
        os.makedirs(ctx.run_dir)
        machine_json = machine_record(ctx)
    common.write_atomic(os.path.join(ctx.run_dir, "machine.json"),
                        json.dumps(machine_json, indent=2) + "\n")

    record_path = os.path.join(ctx.run_dir, "run.json")
    record = {"run": ctx.run_name, "profile": ctx.profile, "experiments": {}}
    if ctx.resume and os.path.exists(record_path):
        with open(record_path) as f:
            record = json.load(f)

    def save_record():
        common.write_atomic(record_path, json.dumps(record, indent=2) + "\n")

    todo = [n for n in ctx.selected
            if not os.path.exists(os.path.join(ctx.run_dir, f"{n}.csv"))]
    print(f"run {ctx.run_name}: profile {ctx.profile}, {ctx.repetitions} repetitions, "
          f"{len(todo)} of {len(ctx.selected)} experiments to run, into {ctx.run_dir}",
          file=stream, flush=True)
    progress = Progress(todo, earlier_durations(ctx.results_dir, ctx.profile, ctx.run_dir),
                        stream)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupted)
    failed = []
    try:
        for name in ctx.selected:
            if name not in todo:
                progress.skip(name, "finished earlier in this run, kept")
                continue
            index = todo.index(name) + 1
            progress.begin(index, name)
            start = time.monotonic()
            error = None
            try:
                rows = run_experiment(ctx, name, progress)
            except (ExperimentError, child.TimedOut) as e:
                error = str(e)
            except Exception:  # a runner bug must not stop the other experiments either
                error = f"{name}: runner error\n{traceback.format_exc()}"
            seconds = time.monotonic() - start
            error_path = os.path.join(ctx.run_dir, f"{name}.error.txt")
            if error is None:
                _remove(error_path)
                record["experiments"][name] = {"status": "ok", "seconds": round(seconds, 3),
                                               "rows": rows}
            else:
                failed.append(name)
                common.write_atomic(error_path, error + "\n")
                record["experiments"][name] = {"status": "failed", "seconds": round(seconds, 3),
                                               "error": error.split("\n")[0]}
            save_record()
            progress.end(name, seconds, error)
    except (KeyboardInterrupt, Interrupted) as e:
        why = str(e) or "SIGINT"
        print(f"\ninterrupted ({why}): finished experiments are kept in {ctx.run_dir}; continue "
              f"with --resume {ctx.run_name}", file=sys.stderr, flush=True)
        return 130

    total = time.monotonic() - progress.start
    print(f"run {ctx.run_name}: {len(todo) - len(failed)} of {len(todo)} experiments ran in "
          f"{clock(total)}" + (f"; FAILED: {', '.join(failed)} (see {ctx.run_dir}/<name>.error.txt)"
                               if failed else ""), file=stream, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
