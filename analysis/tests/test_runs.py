"""Bad or missing input stops the analysis with a message naming the file and the problem."""

import contextlib
import io
import json
import tempfile
import unittest
from pathlib import Path

from analysis import draw_figure as figure, tables, write_verdicts as verdicts
from analysis.runs import InputError, load_runs, read_run_list
from analysis.tests.synthetic import write_run


class RunValidationTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)
        self.run = write_run(self.dir / "run-a", seed=1,
                             experiments=["gil_baseline", "pack", "pool_overhead"])
        self.csv = self.run / "gil_baseline.csv"

    def tearDown(self):
        self.tmp.cleanup()

    def assertRefused(self, pattern, experiments=("gil_baseline",), run=None):
        with self.assertRaisesRegex(InputError, pattern):
            load_runs([run or self.run], experiments)

    def test_a_good_run_loads(self):
        (run,) = load_runs([self.run], ["gil_baseline", "pack"])
        self.assertEqual(run.cores, 2)
        self.assertGreater(len(run.data("pack")), 0)
        self.assertTrue({"keep_pct", "seconds"} <= set(run.data("pack").columns))

    def test_missing_experiment(self):
        self.assertRefused(r"run-a/scan_two_pass\.csv: missing \(experiment 'scan_two_pass' "
                           r"did not finish", ("scan_two_pass",))

    def test_empty_file(self):
        self.csv.write_text("")
        self.assertRefused(r"gil_baseline\.csv: empty file")

    def test_header_only(self):
        self.csv.write_text(self.csv.read_text().splitlines()[0] + "\n")
        self.assertRefused(r"gil_baseline\.csv: a header but no rows")

    def test_missing_column(self):
        lines = self.csv.read_text().splitlines()
        header = lines[0].split(",")
        drop = header.index("seconds")
        self.csv.write_text("\n".join(",".join(c for i, c in enumerate(line.split(","))
                                               if i != drop) for line in lines) + "\n")
        self.assertRefused(r"gil_baseline\.csv: missing column\(s\) seconds")

    def test_experiment_own_column_missing(self):
        pack = self.run / "pack.csv"
        pack.write_text(pack.read_text().replace("keep_pct", "kept"))
        self.assertRefused(r"pack\.csv: missing column\(s\) keep_pct", ("pack",))

    def test_bad_values(self):
        lines = self.csv.read_text().splitlines()
        lines[3] = lines[3].replace(lines[3].split(",")[7], "fast")
        self.csv.write_text("\n".join(lines) + "\n")
        self.assertRefused(r"gil_baseline\.csv:4: column 'seconds' holds 'fast', not a number")
        lines[3] = lines[3].replace("fast", "-1.0")
        self.csv.write_text("\n".join(lines) + "\n")
        self.assertRefused(r"gil_baseline\.csv:4: seconds must be positive")

    def test_rows_of_another_experiment(self):
        self.csv.write_text(self.csv.read_text().replace("\ngil_baseline,", "\npack,", 1))
        self.assertRefused(r"gil_baseline\.csv: rows of experiment\(s\) pack")

    def test_rows_of_two_runs_appended(self):
        other = write_run(self.dir / "run-b", seed=2, experiments=["gil_baseline"])
        rows = (other / "gil_baseline.csv").read_text().splitlines()[1:]
        self.csv.write_text(self.csv.read_text() + "\n".join(rows) + "\n")
        self.assertRefused(r"gil_baseline\.csv:\d+: measurement \(variant=loop, backend=serial.*"
                           r"appears more than once: rows of two runs mixed")

    def test_rows_dropped_or_replaced(self):
        lines = self.csv.read_text().splitlines()
        self.csv.write_text("\n".join(lines[:-1]) + "\n")
        self.assertRefused(r"gil_baseline\.csv: \d+ rows, but the run wrote \d+ \(run\.json\)")

    def test_csv_of_another_run(self):
        other = write_run(self.dir / "run-b", seed=2, experiments=["scan_two_pass"])
        (self.run / "scan_two_pass.csv").write_text((other / "scan_two_pass.csv").read_text())
        self.assertRefused(r"scan_two_pass\.csv: .*run\.json does not record experiment "
                           r"'scan_two_pass' as finished in this run", ("scan_two_pass",))

    def test_machine_json_of_another_run(self):
        other = write_run(self.dir / "run-b", seed=2, experiments=["gil_baseline"])
        (self.run / "machine.json").write_text((other / "machine.json").read_text())
        self.assertRefused(r"run-a/machine\.json: belongs to run 'run-b' but lies in folder "
                           r"'run-a': files of two runs are mixed")

    def test_machine_json_missing_or_broken(self):
        (self.run / "machine.json").write_text("{")
        self.assertRefused(r"machine\.json: not valid JSON")
        machine = {"run": "run-a", "profile": "quick", "date": "x", "cpu": {"model": "m"}}
        (self.run / "machine.json").write_text(json.dumps(machine))
        self.assertRefused(r"machine\.json: no 'cpu\.logical_cores'")
        (self.run / "machine.json").unlink()
        self.assertRefused(r"machine\.json: missing")

    def test_run_json_missing(self):
        (self.run / "run.json").unlink()
        self.assertRefused(r"run-a/run\.json: missing")

    def test_benchmark_json_of_another_run(self):
        (self.run / "gil_baseline.json").write_text(json.dumps({"context": {"run": "run-z"}}))
        self.assertRefused(r"gil_baseline\.json: comes from run 'run-z', not 'run-a'")

    def test_no_such_run(self):
        self.assertRefused(r"nowhere: no such run folder", run=self.dir / "nowhere")

    def test_reference_run_list(self):
        path = self.dir / "REFERENCE_RUNS"
        with self.assertRaisesRegex(InputError, r"REFERENCE_RUNS: missing"):
            read_run_list(path)
        path.write_text("# only a comment\n\n")
        with self.assertRaisesRegex(InputError, r"REFERENCE_RUNS: lists no run"):
            read_run_list(path)
        path.write_text("a  # two cores\nb\na\n")
        with self.assertRaisesRegex(InputError, r"REFERENCE_RUNS:3: run 'a' is listed twice"):
            read_run_list(path)
        path.write_text("results/raw/a\n")
        with self.assertRaisesRegex(InputError, r"REFERENCE_RUNS:1: .* is not a run name"):
            read_run_list(path)
        path.write_text("a  # two cores\nb\n")
        self.assertEqual(read_run_list(path), ["a", "b"])


class ScriptsRefuseBadInputTest(unittest.TestCase):
    """The command-line scripts exit with status 2 and a message, writing nothing."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)
        self.run = write_run(self.dir / "run-a", seed=1, experiments=["gil_baseline"])

    def tearDown(self):
        self.tmp.cleanup()

    def call(self, main, argv):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            status = main(argv)
        return status, err.getvalue()

    def test_figure(self):
        out = self.dir / "f.pdf"
        status, err = self.call(figure.main, ["pack", "--run", str(self.run), "--out", str(out)])
        self.assertEqual(status, 2)
        self.assertRegex(err, r"figure pack: .*run-a/pack\.csv: missing")
        self.assertFalse(out.exists())

    def test_verdict(self):
        out = self.dir / "v.tex"
        status, err = self.call(verdicts.main, ["tree_loses", "--run", str(self.run), "--json",
                                                str(self.dir / "v.json"), "--tex", str(out)])
        self.assertEqual(status, 2)
        self.assertRegex(err, r"reduce_tree_vs_partitioned\.csv: missing")
        self.assertFalse(out.exists())

    def test_verdict_names_a_missing_configuration(self):
        csv = self.run / "gil_baseline.csv"
        kept = [line for line in csv.read_text().splitlines() if ",cpython_thread," not in line]
        csv.write_text("\n".join(kept) + "\n")
        record = json.loads((self.run / "run.json").read_text())
        record["experiments"]["gil_baseline"]["rows"] = len(kept) - 1
        (self.run / "run.json").write_text(json.dumps(record))
        status, err = self.call(verdicts.main, ["gil_processes", "--run", str(self.run),
                                                "--json", str(self.dir / "v.json"), "--tex",
                                                str(self.dir / "v.tex")])
        self.assertEqual(status, 2)
        self.assertRegex(err, r"gil_baseline\.csv: claim gil_processes: gil_baseline: no "
                              r"measurement with backend=cpython_thread, n=1048576, p=2")

    def test_table(self):
        status, err = self.call(tables.main, ["pool_cost", "--run", str(self.run), "--out",
                                              str(self.dir / "t.tex")])
        self.assertEqual(status, 2)
        self.assertRegex(err, r"pool_overhead\.csv: missing")
        status, err = self.call(tables.main, ["claims", "--verdict", str(self.dir / "none.json"),
                                              "--out", str(self.dir / "t.tex")])
        self.assertEqual(status, 2)
        self.assertRegex(err, r"none\.json: unreadable verdict")


if __name__ == "__main__":
    unittest.main()
