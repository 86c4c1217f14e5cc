"""The CI gate: a synthetic regression fails it, noise does not, and missing input never passes.

Part of the tests drive scripts/bench_gate.sh end to end with a fake `bazel` (fake_bazel.py)
that writes synthetic runs, so the rerun logic and the exit statuses are tested as CI sees them.
"""

import os
import subprocess
import tempfile
import unittest
from pathlib import Path

from analysis import gate
from analysis.runs import InputError
from analysis.tests.synthetic import write_run

ROOT = Path(__file__).resolve().parents[2]
SLOW_REDUCE = [["reduce_tree_vs_partitioned", "partitioned", "process", 2.0]]


class GateRuleTest(unittest.TestCase):
    def test_judge(self):
        from analysis.stats import Spread
        self.assertEqual(gate.judge(2.0, Spread(1.95, 1.8, 2.1, 9)), "ok")
        self.assertEqual(gate.judge(2.0, Spread(1.6, 1.4, 1.8, 9)), "warn")
        self.assertEqual(gate.judge(2.0, Spread(3.0, 2.8, 3.1, 9)), "better")
        # The IQR reaches 75 % of the baseline: noise, not a failure.
        self.assertEqual(gate.judge(2.0, Spread(1.2, 1.0, 1.55, 9)), "warn")
        self.assertEqual(gate.judge(2.0, Spread(1.2, 1.0, 1.45, 9)), "suspect")
        self.assertEqual(gate.judge(2.0, Spread(1.2, 1.0, 1.45, 9), Spread(1.3, 1.1, 1.4, 9)),
                         "FAIL")
        self.assertEqual(gate.judge(2.0, Spread(1.2, 1.0, 1.45, 9), Spread(1.9, 1.7, 2.1, 9)),
                         "warn (rerun recovered)")


class CompareTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)
        base = write_run(self.dir / "base", seed=1, noise=0.1)
        _, rows = gate.make_baseline(base, allow_synthetic=True)
        self.baseline = self.dir / "speedups.csv"
        gate.write_baseline(rows, self.baseline)

    def tearDown(self):
        self.tmp.cleanup()

    def compare(self, run, rerun=None):
        argv = ["compare", "--baseline", str(self.baseline), "--run", str(run),
                "--report", str(self.dir / "gate.txt"), "--suspects", str(self.dir / "sus.txt")]
        if rerun:
            argv += ["--rerun", str(rerun)]
        return gate.main(argv)

    def test_noisy_runs_pass(self):
        for seed in range(2, 8):
            run = write_run(self.dir / f"noisy{seed}", seed=seed, noise=0.15)
            with self.subTest(seed=seed):
                self.assertEqual(self.compare(run), 0, (self.dir / "gate.txt").read_text())

    def test_regression_is_suspect_then_fails_when_rerun_confirms(self):
        slow = {tuple(SLOW_REDUCE[0][:3]): 2.0}
        run = write_run(self.dir / "slow", seed=3, slowdown=slow)
        self.assertEqual(self.compare(run), 3)
        self.assertEqual((self.dir / "sus.txt").read_text(), "reduce_tree_vs_partitioned\n")
        rerun = write_run(self.dir / "slow-rerun", seed=4, slowdown=slow,
                          experiments=["reduce_tree_vs_partitioned"])
        self.assertEqual(self.compare(run, rerun), 1)
        table = (self.dir / "gate.txt").read_text()
        self.assertRegex(table, r"reduce_process .* FAIL")
        self.assertRegex(table, r"reduce_thread .* (ok|better|warn)\n")

    def test_transient_regression_recovers_on_rerun(self):
        slow = {tuple(SLOW_REDUCE[0][:3]): 2.0}
        run = write_run(self.dir / "slow", seed=3, slowdown=slow)
        rerun = write_run(self.dir / "fine-rerun", seed=5,
                          experiments=["reduce_tree_vs_partitioned"])
        self.assertEqual(self.compare(run, rerun), 0)
        self.assertIn("warn (rerun recovered)", (self.dir / "gate.txt").read_text())

    def test_missing_input_is_an_error(self):
        run = write_run(self.dir / "partial", seed=2,
                        experiments=["gil_baseline", "pool_overhead"])
        self.assertEqual(self.compare(run), 2)
        with self.assertRaisesRegex(InputError, r"partial/map_chunksize.csv: missing"):
            gate.compare(self.baseline, run)
        with self.assertRaisesRegex(InputError, r"nothing\.csv: missing; make one deliberately"):
            gate.compare(self.dir / "nothing.csv", run)

    def test_baseline_and_run_must_agree(self):
        run = write_run(self.dir / "other", seed=2)
        with self.assertRaisesRegex(InputError, r"16 cores, but the baseline was made on 2"):
            gate.compare(self.baseline, write_run(self.dir / "big", cores=16, seed=2),
                         baseline_machine_path=self.dir / "base" / "machine.json")
        text = self.baseline.read_text().splitlines()
        (self.dir / "short.csv").write_text("\n".join(text[:-1]) + "\n")
        with self.assertRaisesRegex(InputError, r"lacks wordcount_vs_cpython.*make baseline"):
            gate.compare(self.dir / "short.csv", run)
        # A configuration the baseline names but the run no longer measures.
        changed = self.baseline.read_text().replace('"n"": 16777216', '"n"": 12345')
        (self.dir / "changed.csv").write_text(changed)
        with self.assertRaisesRegex(InputError, r"gil_baseline.csv: gil_process: no measurement"):
            gate.compare(self.dir / "changed.csv", run)

    def test_synthetic_run_is_refused_as_baseline(self):
        with self.assertRaisesRegex(InputError, "synthetic run cannot be the baseline"):
            gate.make_baseline(self.dir / "base")


class BenchGateScriptTest(unittest.TestCase):
    """scripts/bench_gate.sh with a fake bazel: the whole CI path."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)
        bazel = self.dir / "bazel"
        bazel.write_text(f"#!/bin/sh\nexec /usr/bin/python3 {ROOT}/analysis/tests/fake_bazel.py "
                         f"\"$@\"\n")
        bazel.chmod(0o755)
        self.env = dict(os.environ, BAZEL=str(bazel), BENCH_GATE_CI_DIR=str(self.dir / "ci"),
                        BENCH_GATE_BASELINE_DIR=str(self.dir / "baseline"))

    def tearDown(self):
        self.tmp.cleanup()

    def gate(self, *args, **env):
        result = subprocess.run([str(ROOT / "scripts/bench_gate.sh"), *args], cwd=ROOT,
                                env=dict(self.env, **env), capture_output=True, text=True,
                                timeout=300)
        return result.returncode, result.stdout + result.stderr

    def make_baseline(self):
        # The script refuses a synthetic baseline; make it from a synthetic run directly.
        base = write_run(self.dir / "base", seed=11, noise=0.1)
        _, rows = gate.make_baseline(base, allow_synthetic=True)
        (self.dir / "baseline").mkdir()
        gate.write_baseline(rows, self.dir / "baseline" / "speedups.csv")
        (self.dir / "baseline" / "machine.json").write_text((base / "machine.json").read_text())

    def test_refresh_refuses_synthetic_run(self):
        rc, out = self.gate("--refresh-baseline")
        self.assertEqual(rc, 1, out)
        self.assertIn("synthetic run cannot be the baseline", out)

    def test_without_baseline_fails(self):
        rc, out = self.gate()
        self.assertNotEqual(rc, 0, out)
        self.assertIn("speedups.csv: missing", out)

    def test_noise_passes(self):
        self.make_baseline()
        rc, out = self.gate(FAKE_NOISE="0.15")
        self.assertEqual(rc, 0, out)
        self.assertIn("bench-gate: passed", out)
        self.assertTrue((self.dir / "ci" / "gate.txt").exists())

    def test_confirmed_regression_fails(self):
        self.make_baseline()
        slow = '[["scan_two_pass", "two_pass", "process", 2.5]]'
        rc, out = self.gate(FAKE_SLOWDOWN=slow, FAKE_RERUN_SLOWDOWN=slow)
        self.assertEqual(rc, 1, out)
        self.assertIn("--only scan_two_pass", out)
        self.assertRegex((self.dir / "ci" / "gate.txt").read_text(),
                         r"scan_two_pass_process .* FAIL")

    def test_transient_regression_passes_after_rerun(self):
        self.make_baseline()
        rc, out = self.gate(FAKE_SLOWDOWN='[["scan_two_pass", "two_pass", "process", 2.5]]')
        self.assertEqual(rc, 0, out)
        self.assertIn("warn (rerun recovered)", (self.dir / "ci" / "gate.txt").read_text())

    def test_failed_experiment_fails_the_gate(self):
        self.make_baseline()
        rc, out = self.gate(FAKE_FAIL="1")
        self.assertEqual(rc, 1, out)
        self.assertIn("the quick run exited 1", out)


if __name__ == "__main__":
    unittest.main()
