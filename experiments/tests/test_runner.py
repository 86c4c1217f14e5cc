"""Tests of the suite's runner (experiments/runner.py) end to end: a run's files, failures,
timeouts, resume, selection and interruption (test_tidy.py and test_progress.py test its parts).

Experiments are stand-ins: small Python programs that behave like Google Benchmark binaries
(list their benchmarks, write a JSON report) and can crash, hang or report errors on demand.
"""

import csv
import datetime
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
EXPERIMENTS = os.path.dirname(HERE)
sys.path.insert(0, EXPERIMENTS)
import runner  # noqa: E402
import common  # noqa: E402  (runner put experiments/python on the path)

RUNNER = os.path.join(EXPERIMENTS, "runner.py")

# A stand-in experiment binary. Its behaviour comes from files beside it: <name>.mode holds
# ok | crash | error | hang | badname, and every run appends a line to <name>.calls.
FAKE_BINARY = textwrap.dedent("""\
    #!/usr/bin/python3
    import json, os, subprocess, sys, time
    here, name = os.path.split(os.path.abspath(sys.argv[0]))
    def read(suffix, default):
        try:
            with open(os.path.join(here, name + suffix)) as f:
                return f.read().strip()
        except FileNotFoundError:
            return default
    mode = read(".mode", "ok")
    names = ["tree/process/n:8/p:2/real_time", "serial/serial/n:8/real_time"]
    if mode == "badname":
        names = ["tree/process/8/real_time"]
    if "--benchmark_list_tests=true" in sys.argv:
        print("\\n".join(names))
        sys.exit(0)
    with open(os.path.join(here, name + ".calls"), "a") as f:
        f.write(os.environ.get("PROCPAR_PROFILE", "unset") + "\\n")
    options = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
    if mode == "crash":
        print("something went wrong", flush=True)
        sys.exit(3)
    if mode == "hang":
        worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(os.path.join(here, name + ".pids"), "w") as f:
            f.write(f"{os.getpid()} {worker.pid}\\n")
        time.sleep(600)
    runs = []
    for bench in names:
        for r in range(int(options["benchmark_repetitions"])):
            print(bench, " 1.5 ms  1.5 ms  10", flush=True)
            run = {"name": bench, "run_name": bench, "run_type": "iteration",
                   "repetitions": int(options["benchmark_repetitions"]),
                   "repetition_index": r, "threads": 1, "iterations": 10,
                   "real_time": 1.5 + r, "cpu_time": 1.0, "time_unit": "ms",
                   "items_per_second": 1e6, "tasks": 3.0}
            if mode == "error":
                run.update(error_occurred=True, error_message="wrong sum")
            runs.append(run)
        runs.append(dict(runs[-1], name=bench + "_mean", run_type="aggregate",
                         aggregate_name="mean"))
    with open(options["benchmark_out"], "w") as f:
        json.dump({"context": {"num_cpus": 2}, "benchmarks": runs}, f)
    """)

# A stand-in reference script: writes tidy rows, or fails if <name>.pymode says so.
FAKE_REFERENCE = textwrap.dedent("""\
    import argparse, os, sys
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile"); parser.add_argument("--repetitions", type=int)
    parser.add_argument("--out")
    args = parser.parse_args()
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    mode_file = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), name + ".pymode")
    mode = open(mode_file).read().strip() if os.path.exists(mode_file) else "ok"
    if mode == "crash":
        sys.exit("reference failed")
    with open(args.out, "w") as f:
        f.write("experiment,variant,backend,n,p,chunksize,repetition,seconds,keep_pct\\n")
        for r in range(args.repetitions):
            f.write(f"{name},tree,cpython_process,8,2,1,{r},0.25,{args.profile}\\n")
    """)


# A stand-in MPI experiment, started by the runner under a real mpirun: every rank appends
# "rank ranks TMPDIR" to <name>.calls; rank 0 alone lists benchmarks and writes the JSON report,
# its rows at p = the number of ranks (mode badp: one more). In mode hang, from 2 ranks on, every
# rank starts a worker, records both pids in <name>.pids and sleeps (mode hanglist: already when
# asked to list its benchmarks).
FAKE_MPI_BINARY = textwrap.dedent("""\
    #!/usr/bin/python3
    import json, os, subprocess, sys, time
    here, name = os.path.split(os.path.abspath(sys.argv[0]))
    rank = int(os.environ["OMPI_COMM_WORLD_RANK"])
    ranks = int(os.environ["OMPI_COMM_WORLD_SIZE"])
    with open(os.path.join(here, name + ".mode")) as f:
        mode = f.read().strip()
    names = [f"allreduce/mpi/bytes:8/p:{ranks + (mode == 'badp')}/real_time"]
    listing = "--benchmark_list_tests=true" in sys.argv
    if listing and mode != "hanglist":
        if rank == 0:
            print("\\n".join(names))
        sys.exit(0)
    with open(os.path.join(here, name + ".calls"), "a") as f:
        f.write(f"{rank} {ranks} {os.environ['TMPDIR']}\\n")
    if (mode == "hang" and ranks > 1) or mode == "hanglist":
        worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(os.path.join(here, name + ".pids"), "a") as f:
            f.write(f"{os.getpid()} {worker.pid}\\n")
        time.sleep(600)
    if rank != 0:
        sys.exit(0)
    options = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
    runs = []
    for bench in names:
        for r in range(int(options["benchmark_repetitions"])):
            print(bench, " 1.5 us  1.5 us  10", flush=True)
            runs.append({"name": bench, "run_name": bench, "run_type": "iteration",
                         "repetition_index": r, "iterations": 10, "real_time": 1.5 + r,
                         "cpu_time": 1.0, "time_unit": "us", "oversubscribed": 0})
    with open(options["benchmark_out"], "w") as f:
        json.dump({"context": {"num_cpus": 2}, "benchmarks": runs}, f)
    """)


def alive(pid):
    """True while `pid` runs (a zombie left for init to reap counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class RunNameTest(unittest.TestCase):
    def test_default_run_name_is_the_machine_and_the_date(self):
        # The Makefile names the run of `make` through runner.default_run_name.
        name = runner.default_run_name(datetime.datetime(2026, 11, 23, 21, 7, 5))
        self.assertRegex(name, rf"^[a-z0-9]+(-[a-z0-9]+)*-{os.cpu_count()}c-20261123-210705$")


class SuiteTest(unittest.TestCase):
    """The runner end to end on stand-in experiments."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.bin = os.path.join(self.dir.name, "bin")
        self.python = os.path.join(self.bin, "python")
        self.results = os.path.join(self.dir.name, "results")
        os.makedirs(self.python)

    def tearDown(self):
        for name in os.listdir(self.bin):
            if name.endswith(".pids"):
                with open(os.path.join(self.bin, name)) as f:
                    for pid in map(int, f.read().split()):
                        if alive(pid):
                            os.kill(pid, signal.SIGKILL)
        self.dir.cleanup()

    def experiment(self, name, mode="ok", reference=None):
        path = os.path.join(self.bin, name)
        with open(path, "w") as f:
            f.write(FAKE_BINARY)
        os.chmod(path, 0o755)
        self.set_mode(name, mode)
        if reference is not None:
            with open(os.path.join(self.python, name + ".py"), "w") as f:
                f.write(FAKE_REFERENCE)
            with open(os.path.join(self.python, name + ".pymode"), "w") as f:
                f.write(reference)

    def mpi_experiment(self, name, mode="ok"):
        path = os.path.join(self.bin, name)
        with open(path, "w") as f:
            f.write(FAKE_MPI_BINARY)
        os.chmod(path, 0o755)
        self.set_mode(name, mode)

    def set_mode(self, name, mode):
        with open(os.path.join(self.bin, name + ".mode"), "w") as f:
            f.write(mode)

    def calls(self, name):
        try:
            with open(os.path.join(self.bin, name + ".calls")) as f:
                return f.read().split()
        except FileNotFoundError:
            return []

    def mpi_calls(self, name):
        """(rank, ranks, session folder) of every rank that ran `name`."""
        with open(os.path.join(self.bin, name + ".calls")) as f:
            return [(int(rank), int(ranks), session)
                    for rank, ranks, session in (line.split() for line in f)]

    def argv(self, names, *extra):
        return ["--experiments", ",".join(names), "--bin-dir", self.bin,
                "--results-dir", self.results, "--python", sys.executable,
                "--workspace", EXPERIMENTS, *extra]

    def main(self, names, *extra):
        out = io.StringIO()
        with mock.patch("sys.stderr", io.StringIO()) as err:
            status = runner.main(self.argv(names, *extra), stream=out)
        return status, out.getvalue() + err.getvalue()

    def run_dir(self, name="r1"):
        return os.path.join(self.results, name)

    def test_successful_run_writes_tidy_csv_json_and_machine(self):
        self.experiment("alpha", reference="ok")
        self.experiment("beta")
        status, output = self.main(["alpha", "beta"], "--profile=quick", "--run-name=r1")
        self.assertEqual(status, 0, output)
        run = self.run_dir()
        self.assertEqual(sorted(os.listdir(run)), ["alpha.csv", "alpha.json", "beta.csv",
                                                   "beta.json", "machine.json", "run.json"])
        rows = read_csv(os.path.join(run, "alpha.csv"))
        cpp = [r for r in rows if r["backend"] == "process"]
        cpython = [r for r in rows if r["backend"] == "cpython_process"]
        repetitions = common.PROFILES["quick"]["repetitions"]
        self.assertEqual(len(cpp), repetitions)
        self.assertEqual(len(cpython), repetitions)
        self.assertEqual(len(rows), 3 * repetitions)
        self.assertEqual([float(r["seconds"]) for r in cpp],
                         [(1.5 + i) * 1e-3 for i in range(repetitions)])
        self.assertEqual(cpython[0]["keep_pct"], "quick")  # the script got --profile quick
        self.assertEqual(self.calls("alpha"), ["quick"])  # the binary got PROCPAR_PROFILE
        with open(os.path.join(run, "machine.json")) as f:
            machine = json.load(f)
        self.assertEqual(machine["profile"], "quick")
        self.assertEqual(machine["repetitions"], repetitions)
        self.assertEqual(machine["cpu"]["logical_cores"], os.cpu_count())
        self.assertIn("libraries", machine)
        self.assertIn("alpha", output)

    def test_failures_are_reported_and_do_not_stop_the_others(self):
        self.experiment("crashes", mode="crash")
        self.experiment("errs", mode="error")
        self.experiment("badname", mode="badname")
        self.experiment("refails", reference="crash")
        self.experiment("good")
        names = ["crashes", "errs", "badname", "refails", "good"]
        status, output = self.main(names, "--profile=quick", "--run-name=r1")
        self.assertEqual(status, 1)
        run = self.run_dir()
        self.assertTrue(os.path.exists(os.path.join(run, "good.csv")))
        expected_errors = {"crashes": "exit status 3(.|\n)*something went wrong",
                           "errs": "reported errors: .*wrong sum",
                           "badname": "unnamed argument '8'",
                           "refails": "python/refails.py: exit status 1(.|\n)*reference failed"}
        with open(os.path.join(run, "run.json")) as f:
            record = json.load(f)["experiments"]
        for name, pattern in expected_errors.items():
            self.assertFalse(os.path.exists(os.path.join(run, name + ".csv")), name)
            with open(os.path.join(run, name + ".error.txt")) as f:
                self.assertRegex(f.read(), pattern)
            self.assertEqual(record[name]["status"], "failed")
            self.assertIn(name, output)
        self.assertEqual(record["good"]["status"], "ok")
        self.assertIn("FAILED: crashes, errs, badname, refails", output)
        self.assertEqual([f for f in os.listdir(run) if f.startswith(".")], [])

    def test_missing_binary_is_a_failure_of_that_experiment(self):
        self.experiment("good")
        status, output = self.main(["absent", "good"], "--run-name=r1", "--profile=quick")
        self.assertEqual(status, 1)
        self.assertIn("no experiment binary", output)
        self.assertTrue(os.path.exists(os.path.join(self.run_dir(), "good.csv")))

    def test_resume_runs_only_what_has_no_csv(self):
        self.experiment("good")
        self.experiment("flaky", mode="crash")
        status, _ = self.main(["good", "flaky"], "--profile=quick", "--run-name=r1")
        self.assertEqual(status, 1)
        self.set_mode("flaky", "ok")
        status, output = self.main(["good", "flaky"], "--resume", "r1")
        self.assertEqual(status, 0, output)
        self.assertEqual(self.calls("good"), ["quick"])  # not run again
        self.assertEqual(self.calls("flaky"), ["quick", "quick"])  # the run's profile
        run = self.run_dir()
        self.assertTrue(os.path.exists(os.path.join(run, "flaky.csv")))
        self.assertFalse(os.path.exists(os.path.join(run, "flaky.error.txt")))
        with open(os.path.join(run, "machine.json")) as f:
            self.assertEqual(len(json.load(f)["resumed"]), 1)
        with open(os.path.join(run, "run.json")) as f:
            record = json.load(f)["experiments"]
        self.assertEqual({k: v["status"] for k, v in record.items()},
                         {"good": "ok", "flaky": "ok"})

    def test_resume_refuses_another_profile_or_a_missing_run(self):
        self.experiment("good")
        self.main(["good"], "--profile=quick", "--run-name=r1")
        for extra in (["--resume", "r1", "--profile=full"], ["--resume", "nonesuch"]):
            with mock.patch("sys.stderr", io.StringIO()) as err:
                with self.assertRaises(SystemExit):
                    runner.main(self.argv(["good"], *extra), stream=io.StringIO())
            self.assertRegex(err.getvalue(), "profile quick, not full|no readable run")

    def test_new_run_refuses_an_existing_folder(self):
        self.experiment("good")
        self.main(["good"], "--profile=quick", "--run-name=r1")
        with mock.patch("sys.stderr", io.StringIO()) as err:
            with self.assertRaises(SystemExit):
                runner.main(self.argv(["good"], "--run-name=r1"), stream=io.StringIO())
        self.assertIn("exists already", err.getvalue())

    def test_only_and_skip_select_and_unknown_names_are_errors(self):
        for name in ("a", "b", "c"):
            self.experiment(name)
        status, _ = self.main(["a", "b", "c"], "--only=a,c", "--skip", "c", "--run-name=r1",
                              "--profile=quick")
        self.assertEqual(status, 0)
        self.assertEqual((self.calls("a"), self.calls("b"), self.calls("c")), (["quick"], [], []))
        with mock.patch("sys.stderr", io.StringIO()) as err:
            with self.assertRaises(SystemExit):
                runner.main(self.argv(["a", "b"], "--only=z"), stream=io.StringIO())
        self.assertIn("unknown experiment(s) z; the suite has a, b", err.getvalue())

    def test_timeout_kills_the_experiments_whole_process_group(self):
        self.experiment("hangs", mode="hang")
        self.experiment("good")
        status, output = self.main(["hangs", "good"], "--profile=quick", "--run-name=r1",
                                   "--timeout=2")
        self.assertEqual(status, 1)
        self.assertIn("ran past the timeout of 2 s", output)
        with open(os.path.join(self.bin, "hangs.pids")) as f:
            pids = [int(pid) for pid in f.read().split()]
        self.assertEqual([pid for pid in pids if alive(pid)], [])
        self.assertTrue(os.path.exists(os.path.join(self.run_dir(), "good.csv")))

    def test_mpi_experiment_runs_at_each_rank_count_into_one_csv(self):
        self.mpi_experiment("collectives")
        self.experiment("good")
        status, output = self.main(["collectives", "good"], "--mpi-experiments=collectives",
                                   "--profile=quick", "--run-name=r1")
        self.assertEqual(status, 0, output)
        run = self.run_dir()
        self.assertEqual(sorted(f for f in os.listdir(run) if f.startswith("collectives")),
                         ["collectives.csv", "collectives.np1.json", "collectives.np2.json",
                          "collectives.np4.json"])
        rows = read_csv(os.path.join(run, "collectives.csv"))
        repetitions = common.PROFILES["quick"]["repetitions"]
        self.assertEqual(sorted(int(r["p"]) for r in rows),
                         sorted([1, 2, 4] * repetitions))
        self.assertEqual({r["bytes"] for r in rows}, {"8"})
        self.assertEqual({r["oversubscribed"] for r in rows}, {"0"})
        with open(os.path.join(run, "run.json")) as f:
            self.assertEqual(json.load(f)["experiments"]["collectives"]["rows"], 3 * repetitions)
        # Every rank of the three jobs ran, each job with a session folder of its own that the
        # runner removed; the other experiment ran without mpirun.
        calls = self.mpi_calls("collectives")
        self.assertEqual(sorted((rank, ranks) for rank, ranks, _ in calls),
                         sorted((rank, ranks) for ranks in (1, 2, 4) for rank in range(ranks)))
        sessions = {session for _, _, session in calls}
        self.assertEqual(len(sessions), 3)
        self.assertEqual([s for s in sessions if os.path.exists(s)], [])
        self.assertTrue(os.path.exists(os.path.join(run, "good.json")))

    def test_mpi_ranks_and_a_hostfile_choose_where_the_job_runs(self):
        self.mpi_experiment("collectives")
        hostfile = os.path.join(self.dir.name, "hosts")
        with open(hostfile, "w") as f:
            f.write("localhost slots=3\n")
        status, output = self.main(["collectives"], "--mpi-experiments=collectives",
                                   "--mpi-ranks=1,3", f"--hostfile={hostfile}",
                                   "--profile=quick", "--run-name=r1")
        self.assertEqual(status, 0, output)
        rows = read_csv(os.path.join(self.run_dir(), "collectives.csv"))
        self.assertEqual({r["p"] for r in rows}, {"1", "3"})
        self.assertEqual(sorted((rank, ranks) for rank, ranks, _ in self.mpi_calls("collectives")),
                         [(0, 1), (0, 3), (1, 3), (2, 3)])
        with open(os.path.join(self.run_dir(), "machine.json")) as f:
            machine = json.load(f)
        self.assertEqual((machine["mpi_ranks"], machine["mpi_hostfile"]), ([1, 3], hostfile))
        job = runner.MpiJob(2, {}, hostfile)
        try:
            command = job.command("/bin/x", "--a")
        finally:
            job.close()
        self.assertEqual(command[-4:], ["-np", "2", "/bin/x", "--a"])
        self.assertIn(f"--hostfile {hostfile} --mca btl self,vader,tcp", " ".join(command))

    def test_resume_keeps_the_runs_rank_counts(self):
        self.mpi_experiment("collectives", mode="badp")
        status, _ = self.main(["collectives"], "--mpi-experiments=collectives",
                              "--mpi-ranks=1,3", "--profile=quick", "--run-name=r1")
        self.assertEqual(status, 1)
        with mock.patch("sys.stderr", io.StringIO()) as err:
            with self.assertRaises(SystemExit):
                runner.main(self.argv(["collectives"], "--mpi-experiments=collectives",
                                      "--resume=r1", "--mpi-ranks=2"), stream=io.StringIO())
        self.assertIn("the run used mpi_ranks 1,3, not 2", err.getvalue())
        self.set_mode("collectives", "ok")
        status, output = self.main(["collectives"], "--mpi-experiments=collectives",
                                   "--resume=r1")
        self.assertEqual(status, 0, output)
        rows = read_csv(os.path.join(self.run_dir(), "collectives.csv"))
        self.assertEqual({r["p"] for r in rows}, {"1", "3"})

    def test_bad_mpi_ranks_or_hostfile_are_errors_of_the_command_line(self):
        for option, message in (("--mpi-ranks=1,x", "--mpi-ranks must be"),
                                ("--mpi-ranks=2,2", "--mpi-ranks must be"),
                                ("--mpi-ranks=0", "--mpi-ranks must be"),
                                ("--hostfile=/nonexistent/hosts", "no such file")):
            with mock.patch("sys.stderr", io.StringIO()) as err:
                with self.assertRaises(SystemExit):
                    runner.main(self.argv(["a"], option), stream=io.StringIO())
            self.assertIn(message, err.getvalue())

    def test_mpi_rows_whose_p_is_not_the_ranks_fail_the_experiment(self):
        self.mpi_experiment("collectives", mode="badp")
        status, output = self.main(["collectives"], "--mpi-experiments=collectives",
                                   "--profile=quick", "--run-name=r1")
        self.assertEqual(status, 1)
        self.assertIn("collectives at 1 ranks: rows with p = [2]", output)
        self.assertEqual(sorted(os.listdir(self.run_dir())),
                         ["collectives.error.txt", "machine.json", "run.json"])

    def test_mpi_experiment_names_must_be_in_the_registry(self):
        with mock.patch("sys.stderr", io.StringIO()) as err:
            with self.assertRaises(SystemExit):
                runner.main(self.argv(["a"], "--mpi-experiments=z"), stream=io.StringIO())
        self.assertIn("--mpi-experiments: unknown experiment(s) z", err.getvalue())

    def check_mpi_job_gone(self, name):
        """Every rank of `name`'s job and every worker they started has ended, and the job's
        session folder is removed."""
        with open(os.path.join(self.bin, name + ".pids")) as f:
            pids = [int(pid) for pid in f.read().split()]
        self.assertGreaterEqual(len(pids), 2 * 2, "the hanging job's ranks never started")
        self.assertEqual([pid for pid in pids if alive(pid)], [])
        sessions = {session for _, _, session in self.mpi_calls(name)}
        self.assertEqual([s for s in sessions if os.path.exists(s)], [])

    def test_mpi_timeout_kills_the_whole_mpirun_job(self):
        self.mpi_experiment("hangs", mode="hang")
        self.experiment("good")
        status, output = self.main(["hangs", "good"], "--mpi-experiments=hangs",
                                   "--profile=quick", "--run-name=r1", "--timeout=3")
        self.assertEqual(status, 1)
        self.assertIn("ran past the timeout of 3 s", output)
        self.check_mpi_job_gone("hangs")
        self.assertFalse(os.path.exists(os.path.join(self.run_dir(), "hangs.csv")))
        self.assertEqual([f for f in os.listdir(self.run_dir()) if f.startswith(".")], [])
        self.assertTrue(os.path.exists(os.path.join(self.run_dir(), "good.csv")))

    def test_a_hanging_listing_kills_the_whole_mpirun_job(self):
        self.mpi_experiment("hangs", mode="hanglist")
        with mock.patch.object(runner, "LIST_TIMEOUT_SECONDS", 3):
            status, output = self.main(["hangs"], "--mpi-experiments=hangs", "--profile=quick",
                                       "--run-name=r1", "--mpi-ranks=2")
        self.assertEqual(status, 1)
        self.assertIn("--benchmark_list_tests did not finish in 3 s and was killed", output)
        self.check_mpi_job_gone("hangs")

    def test_sigterm_during_an_mpi_job_leaves_no_process(self):
        status, output, _ = self.interrupt(signal.SIGTERM, mpi=True)
        self.assertEqual(status, 130, output)
        self.check_mpi_job_gone("hangs")

    def interrupt(self, sig, mpi=False):
        """Runs [good, hangs] in a separate runner and sends it `sig` while `hangs` runs."""
        self.experiment("good")
        if mpi:
            self.mpi_experiment("hangs", mode="hang")
        else:
            self.experiment("hangs", mode="hang")
        process = subprocess.Popen(
            [sys.executable, RUNNER, *self.argv(["good", "hangs"], "--profile=quick",
                                                "--run-name=r1",
                                                *(["--mpi-experiments=hangs"] if mpi else []))],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            # As from a terminal: a shell starts background commands with SIGINT ignored, and an
            # ignored signal stays ignored across exec, so a suite run in the background (as CI
            # may be) would otherwise hand the runner a Ctrl-C it cannot receive.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        pids_file = os.path.join(self.bin, "hangs.pids")
        deadline = time.monotonic() + 30
        while not (os.path.exists(pids_file) and os.path.getsize(pids_file)):
            self.assertLess(time.monotonic(), deadline, "the hanging experiment never started")
            time.sleep(0.05)
        process.send_signal(sig)
        output, _ = process.communicate(timeout=30)
        with open(pids_file) as f:
            pids = [int(pid) for pid in f.read().split()]
        return process.returncode, output, pids

    def check_interrupted(self, status, output, pids):
        self.assertEqual(status, 130, output)
        self.assertIn("--resume r1", output)
        self.assertEqual([pid for pid in pids if alive(pid)], [])
        run = self.run_dir()
        self.assertEqual(sorted(os.listdir(run)),
                         ["good.csv", "good.json", "machine.json", "run.json"])
        self.assertEqual(len(read_csv(os.path.join(run, "good.csv"))),
                         2 * common.PROFILES["quick"]["repetitions"])

    def test_ctrl_c_keeps_finished_results_and_leaves_no_process(self):
        self.check_interrupted(*self.interrupt(signal.SIGINT))

    def test_sigterm_keeps_finished_results_and_leaves_no_process(self):
        self.check_interrupted(*self.interrupt(signal.SIGTERM))


if __name__ == "__main__":
    unittest.main()
