"""Tests of the runner's tidy rows (experiments/tidy.py: Google Benchmark JSON and the reference
scripts' CSV to tidy rows) and of how they are written (experiments/python/common.py: the CSV
text, written whole)."""

import csv
import io
import os
import sys
import tempfile
import unittest
from unittest import mock

EXPERIMENTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [EXPERIMENTS, os.path.join(EXPERIMENTS, "python")]
import common  # noqa: E402
import tidy  # noqa: E402


class ParseNameTest(unittest.TestCase):
    def test_variant_backend_and_named_arguments(self):
        self.assertEqual(tidy.parse_name("tree/process/n:1024/p:2/real_time"),
                         ("tree", "process", {"n": 1024, "p": 2}))

    def test_options_that_google_benchmark_appends_are_dropped(self):
        name = "map/thread/n:64/chunksize:4/repeats:3/iterations:10/min_time:0.500/manual_time"
        self.assertEqual(tidy.parse_name(name), ("map", "thread", {"n": 64, "chunksize": 4}))

    def test_threads_is_kept_as_an_argument(self):
        self.assertEqual(tidy.parse_name("lock/shared/n:8/real_time/threads:4"),
                         ("lock", "shared", {"n": 8, "threads": 4}))

    def test_text_valued_argument(self):
        self.assertEqual(tidy.parse_name("map/process/function:cheap/n:8/real_time"),
                         ("map", "process", {"function": "cheap", "n": 8}))

    def test_name_without_arguments(self):
        self.assertEqual(tidy.parse_name("serial/serial"), ("serial", "serial", {}))

    def test_unnamed_argument_is_an_error_naming_it(self):
        with self.assertRaisesRegex(tidy.ExperimentError, "unnamed argument '1024'.*ArgNames"):
            tidy.parse_name("tree/process/1024/real_time")

    def test_name_without_backend_is_an_error(self):
        for name in ("tree", "tree/n:8", ""):
            with self.assertRaisesRegex(tidy.ExperimentError, "variant>/<backend"):
                tidy.parse_name(name)

    def test_repeated_argument_is_an_error(self):
        with self.assertRaisesRegex(tidy.ExperimentError, "'n' twice"):
            tidy.parse_name("tree/process/n:1/n:2")


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
        rows = tidy.tidy_rows("reduce", report(
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
            rows = tidy.tidy_rows("x", report(run_entry("a/b", real_time=2.0, time_unit=unit)))
            self.assertAlmostEqual(rows[0]["seconds"], seconds)
        with self.assertRaisesRegex(tidy.ExperimentError, "unknown time unit 'h'"):
            tidy.tidy_rows("x", report(run_entry("a/b", time_unit="h")))

    def test_experiment_arguments_become_columns_before_counters(self):
        arguments = []
        rows = tidy.tidy_rows("pack", report(
            run_entry("serial/serial/n:64/real_time", items_per_second=1.0),
            run_entry("scan_pack/process/n:64/p:2/keep_pct:50/real_time", items_per_second=2.0)),
            arguments)
        self.assertEqual(rows[1]["keep_pct"], 50)
        self.assertEqual(arguments, ["keep_pct"])
        header = common.csv_text(rows, leading=arguments).splitlines()[0]
        self.assertTrue(header.endswith(",keep_pct,items_per_second,iterations"), header)

    def test_benchmark_errors_fail_the_experiment_with_their_messages(self):
        with self.assertRaisesRegex(tidy.ExperimentError,
                                    r"1 benchmark runs reported errors: a/b: wrong sum"):
            tidy.tidy_rows("x", report(run_entry("a/c"), run_entry(
                "a/b", error_occurred=True, error_message="wrong sum")))

    def test_no_measurements_is_an_error(self):
        with self.assertRaisesRegex(tidy.ExperimentError, "no measurements"):
            tidy.tidy_rows("x", report())
        with self.assertRaisesRegex(tidy.ExperimentError, "no 'benchmarks' list"):
            tidy.tidy_rows("x", {"context": {}})

    def test_duplicate_measurement_is_an_error(self):
        with self.assertRaisesRegex(tidy.ExperimentError, "appears twice"):
            tidy.tidy_rows("x", report(run_entry("a/b"), run_entry("a/b")))

    def test_counter_clashing_with_a_column_is_an_error(self):
        with self.assertRaisesRegex(tidy.ExperimentError, "counter 'n' that clashes"):
            tidy.tidy_rows("x", report(run_entry("a/b/n:4", n=3.0)))


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
        rows = tidy.read_reference_rows("e", self.path)
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
            with self.assertRaisesRegex(tidy.ExperimentError, message):
                tidy.read_reference_rows("e", self.path)

    def test_missing_file_is_an_error(self):
        with self.assertRaisesRegex(tidy.ExperimentError, "wrote no CSV"):
            tidy.read_reference_rows("e", self.path)


if __name__ == "__main__":
    unittest.main()
