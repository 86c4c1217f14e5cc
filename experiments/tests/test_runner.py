"""Tests of the suite's runner (experiments/runner.py): Google Benchmark JSON to tidy CSV, the
reference scripts' rows, atomic writes, failures, timeouts, resume and interruption.

Experiments are stand-ins: small Python programs that behave like Google Benchmark binaries
(list their benchmarks, write a JSON report) and can crash, hang or report errors on demand.
"""

import csv
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


class ParseNameTest(unittest.TestCase):
    def test_variant_backend_and_named_arguments(self):
        self.assertEqual(runner.parse_name("tree/process/n:1024/p:2/real_time"),
                         ("tree", "process", {"n": 1024, "p": 2}))

    def test_options_that_google_benchmark_appends_are_dropped(self):
        name = "map/thread/n:64/chunksize:4/repeats:3/iterations:10/min_time:0.500/manual_time"
        self.assertEqual(runner.parse_name(name), ("map", "thread", {"n": 64, "chunksize": 4}))

    def test_threads_is_kept_as_an_argument(self):
        self.assertEqual(runner.parse_name("lock/shared/n:8/real_time/threads:4"),
                         ("lock", "shared", {"n": 8, "threads": 4}))

    def test_text_valued_argument(self):
        self.assertEqual(runner.parse_name("map/process/function:cheap/n:8/real_time"),
                         ("map", "process", {"function": "cheap", "n": 8}))

    def test_name_without_arguments(self):
        self.assertEqual(runner.parse_name("serial/serial"), ("serial", "serial", {}))

    def test_unnamed_argument_is_an_error_naming_it(self):
        with self.assertRaisesRegex(runner.ExperimentError, "unnamed argument '1024'.*ArgNames"):
            runner.parse_name("tree/process/1024/real_time")

    def test_name_without_backend_is_an_error(self):
        for name in ("tree", "tree/n:8", ""):
            with self.assertRaisesRegex(runner.ExperimentError, "variant>/<backend"):
                runner.parse_name(name)

    def test_repeated_argument_is_an_error(self):
        with self.assertRaisesRegex(runner.ExperimentError, "'n' twice"):
            runner.parse_name("tree/process/n:1/n:2")


def report(*runs):
    return {"context": {}, "benchmarks": list(runs)}


def run_entry(name, repetition=0, **fields):
    entry = {"name": name, "run_name": name, "run_type": "iteration", "repetitions": 2,
             "repetition_index": repetition, "threads": 1, "iterations": 100,
             "real_time": 2.5, "cpu_time": 0.1, "time_unit": "us"}
    entry.update(fields)
    return entry


class TidyRowsTest(unittest.TestCase):
    def test_one_row_per_repetition_with_seconds_and_counters(self):
        rows = runner.tidy_rows("reduce", report(
            run_entry("tree/process/n:1024/p:2/real_time", 0, items_per_second=4e8, tasks=3.0),
            run_entry("tree/process/n:1024/p:2/real_time", 1, real_time=3.0,
                      items_per_second=3e8, tasks=3.0),
            dict(run_entry("tree/process/n:1024/p:2/real_time"), run_type="aggregate",
                 name="tree/process/n:1024/p:2/real_time_mean", aggregate_name="mean")))
        self.assertEqual(len(rows), 2)
        first, second = rows
        self.assertEqual(first["experiment"], "reduce")
        self.assertEqual((first["variant"], first["backend"], first["n"], first["p"]),
                         ("tree", "process", 1024, 2))
        self.assertIsNone(first["chunksize"])
        self.assertEqual((first["repetition"], second["repetition"]), (0, 1))
        self.assertAlmostEqual(first["seconds"], 2.5e-6)
        self.assertAlmostEqual(second["seconds"], 3.0e-6)
        self.assertEqual((first["items_per_second"], first["tasks"]), (4e8, 3.0))
        self.assertEqual(first["iterations"], 100)
        self.assertNotIn("cpu_time", first)

    def test_time_units(self):
        for unit, seconds in (("ns", 2e-9), ("us", 2e-6), ("ms", 2e-3), ("s", 2.0)):
            rows = runner.tidy_rows("x", report(run_entry("a/b", real_time=2.0, time_unit=unit)))
            self.assertAlmostEqual(rows[0]["seconds"], seconds)
        with self.assertRaisesRegex(runner.ExperimentError, "unknown time unit 'h'"):
            runner.tidy_rows("x", report(run_entry("a/b", time_unit="h")))

    def test_experiment_arguments_become_columns_before_counters(self):
        arguments = []
        rows = runner.tidy_rows("pack", report(
            run_entry("serial/serial/n:64/real_time", items_per_second=1.0),
            run_entry("scan_pack/process/n:64/p:2/keep_pct:50/real_time", items_per_second=2.0)),
            arguments)
        self.assertEqual(rows[1]["keep_pct"], 50)
        self.assertEqual(arguments, ["keep_pct"])
        header = common.csv_text(rows, leading=arguments).splitlines()[0]
        self.assertTrue(header.endswith(",keep_pct,items_per_second,iterations"), header)

    def test_benchmark_errors_fail_the_experiment_with_their_messages(self):
        with self.assertRaisesRegex(runner.ExperimentError,
                                    r"1 benchmark runs reported errors: a/b: wrong sum"):
            runner.tidy_rows("x", report(run_entry("a/c"), run_entry(
                "a/b", error_occurred=True, error_message="wrong sum")))

    def test_no_measurements_is_an_error(self):
        with self.assertRaisesRegex(runner.ExperimentError, "no measurements"):
            runner.tidy_rows("x", report())
        with self.assertRaisesRegex(runner.ExperimentError, "no 'benchmarks' list"):
            runner.tidy_rows("x", {"context": {}})

    def test_duplicate_measurement_is_an_error(self):
        with self.assertRaisesRegex(runner.ExperimentError, "appears twice"):
            runner.tidy_rows("x", report(run_entry("a/b"), run_entry("a/b")))

    def test_counter_clashing_with_a_column_is_an_error(self):
        with self.assertRaisesRegex(runner.ExperimentError, "counter 'n' that clashes"):
            runner.tidy_rows("x", report(run_entry("a/b/n:4", n=3.0)))


class CsvTextTest(unittest.TestCase):
    def test_fixed_columns_first_then_others_in_order_of_appearance(self):
        text = common.csv_text([
            {"experiment": "e", "variant": "v", "backend": "b", "n": 4, "p": None,
             "repetition": 0, "seconds": 0.5, "tasks": 3.0},
            {"experiment": "e", "variant": "v", "backend": "b", "n": 4, "p": 2,
             "chunksize": 1, "repetition": 0, "seconds": 0.25, "keep_pct": "50"}])
        lines = text.splitlines()
        self.assertEqual(lines[0], "experiment,variant,backend,n,p,chunksize,repetition,seconds,"
                                   "tasks,keep_pct")
        self.assertEqual(lines[1], "e,v,b,4,,,0,0.5,3.0,")
        self.assertEqual(lines[2], "e,v,b,4,2,1,0,0.25,,50")

    def test_floats_keep_full_precision(self):
        seconds = 1.2345678901234567e-07
        rows = list(csv.DictReader(io.StringIO(common.csv_text([{"seconds": seconds}]))))
        self.assertEqual(float(rows[0]["seconds"]), seconds)


class WriteAtomicTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "x.csv")

    def tearDown(self):
        self.dir.cleanup()

    def test_writes_the_whole_text(self):
        common.write_atomic(self.path, "a,b\n1,2\n")
        with open(self.path) as f:
            self.assertEqual(f.read(), "a,b\n1,2\n")
        self.assertEqual(os.listdir(self.dir.name), ["x.csv"])
        umask = os.umask(0)
        os.umask(umask)
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o666 & ~umask)

    def test_a_failed_write_leaves_the_old_file_and_no_temporary(self):
        common.write_atomic(self.path, "old\n")
        for failure in (KeyboardInterrupt, OSError):
            with mock.patch("os.replace", side_effect=failure):
                with self.assertRaises(failure):
                    common.write_atomic(self.path, "new\n")
            with open(self.path) as f:
                self.assertEqual(f.read(), "old\n")
            self.assertEqual(os.listdir(self.dir.name), ["x.csv"])


class ReferenceRowsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "ref.csv")

    def tearDown(self):
        self.dir.cleanup()

    def write(self, text):
        with open(self.path, "w") as f:
            f.write(text)

    def test_valid_rows_are_returned(self):
        self.write("experiment,variant,backend,n,p,chunksize,repetition,seconds,x\n"
                   "e,tree,cpython_process,8,2,,0,0.5,7\n")
        rows = runner.read_reference_rows("e", self.path)
        self.assertEqual(rows[0]["x"], "7")

    def test_bad_rows_are_errors_naming_the_line(self):
        header = "experiment,variant,backend,n,p,chunksize,repetition,seconds\n"
        cases = {"experiment is 'f'": header + "f,tree,b,8,2,,0,0.5\n",
                 ":2: seconds '0' is not positive": header + "e,tree,b,8,2,,0,0\n",
                 ":3: empty 'backend'": header + "e,tree,b,8,2,,0,1\ne,tree,,8,2,,1,1\n",
                 "lacks columns": "experiment,variant,backend,seconds\ne,t,b,1\n",
                 "no rows": header}
        for message, text in cases.items():
            self.write(text)
            with self.assertRaisesRegex(runner.ExperimentError, message):
                runner.read_reference_rows("e", self.path)

    def test_missing_file_is_an_error(self):
        with self.assertRaisesRegex(runner.ExperimentError, "wrote no CSV"):
            runner.read_reference_rows("e", self.path)


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

    def set_mode(self, name, mode):
        with open(os.path.join(self.bin, name + ".mode"), "w") as f:
            f.write(mode)

    def calls(self, name):
        try:
            with open(os.path.join(self.bin, name + ".calls")) as f:
                return f.read().split()
        except FileNotFoundError:
            return []

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

    def interrupt(self, sig):
        """Runs [good, hangs] in a separate runner and sends it `sig` while `hangs` runs."""
        self.experiment("good")
        self.experiment("hangs", mode="hang")
        process = subprocess.Popen(
            [sys.executable, RUNNER, *self.argv(["good", "hangs"], "--profile=quick",
                                                "--run-name=r1")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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


class ProgressTest(unittest.TestCase):
    def test_estimate_uses_history_then_the_running_mean(self):
        progress = runner.Progress(["a", "b", "c"], {"b": 100.0}, io.StringIO())
        progress.begin(1, "a")
        self.assertIsNone(progress.estimate_left())  # nothing known about a or c yet
        progress.end("a", 10.0)
        progress.begin(2, "b")
        left = progress.estimate_left()
        self.assertGreater(left, 109.0)  # about 100 for b (history) + 10 for c (mean of a)
        self.assertLessEqual(left, 110.0)

    def test_estimate_inside_an_experiment_follows_its_benchmarks(self):
        progress = runner.Progress(["a"], {}, io.StringIO())
        progress.begin(1, "a")
        progress.experiment_start -= 10  # ten seconds in
        progress.set_phase("C++", total=4)
        progress.step()  # a quarter done: about 30 s left
        self.assertAlmostEqual(progress.estimate_left(), 30.0, delta=1.0)


if __name__ == "__main__":
    unittest.main()
