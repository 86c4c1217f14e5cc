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
from analysis.runs import InputError, load_runs
from analysis.tests.synthetic import write_run

ROOT = Path(__file__).resolve().parents[2]
SLOW_REDUCE = [["reduce_tree_vs_partitioned", "partitioned", "process", 2.0]]


class GateRuleTest(unittest.TestCase):
    def test_judge(self):
        from analysis.stats import Spread
        # Baseline runs' medians 2.0 (the slowest run) to 2.4.
        self.assertEqual(gate.judge(2.0, 2.4, Spread(1.95, 1.8, 2.1, 9)), "ok")
        self.assertEqual(gate.judge(2.0, 2.4, Spread(1.6, 1.4, 1.8, 9)), "warn")
        self.assertEqual(gate.judge(2.0, 2.4, Spread(3.1, 2.8, 3.2, 9)), "better")
        # Above 125 % of the slowest run but not of the fastest: within what was seen.
        self.assertEqual(gate.judge(2.0, 2.4, Spread(2.8, 2.7, 2.9, 9)), "ok")
        # The IQR reaches 75 % of the slowest run: noise, not a failure.
        self.assertEqual(gate.judge(2.0, 2.4, Spread(1.2, 1.0, 1.55, 9)), "warn")
        self.assertEqual(gate.judge(2.0, 2.4, Spread(1.2, 1.0, 1.45, 9)), "suspect")
        self.assertEqual(gate.judge(2.0, 2.4, Spread(1.2, 1.0, 1.45, 9),
                                    Spread(1.3, 1.1, 1.4, 9)), "FAIL")
        self.assertEqual(gate.judge(2.0, 2.4, Spread(1.2, 1.0, 1.45, 9),
                                    Spread(1.9, 1.7, 2.1, 9)), "warn (rerun recovered)")


def synthetic_baseline(directory, seeds, noise=0.1):
    """A baseline (speedups.csv, machine.json) in `directory` from synthetic runs of `seeds`."""
    directory = Path(directory)
    runs = [write_run(directory / f"base{seed}", seed=seed, noise=noise) for seed in seeds]
    _, rows = gate.make_baseline(runs, allow_synthetic=True)
    gate.write_baseline(rows, directory / "speedups.csv")
    (directory / "machine.json").write_text((runs[0] / "machine.json").read_text())
    return directory / "speedups.csv"


class CompareTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)
        self.baseline = synthetic_baseline(self.dir, seeds=(1, 21, 41))

    def tearDown(self):
        self.tmp.cleanup()

    def compare(self, run, rerun=None):
        argv = ["compare", "--baseline", str(self.baseline), "--run", str(run),
                "--report", str(self.dir / "gate.txt"), "--suspects", str(self.dir / "sus.txt")]
        if rerun:
            argv += ["--rerun", str(rerun)]
        return gate.main(argv)

    def test_baseline_spans_its_runs(self):
        rows = gate.read_baseline(self.baseline)
        self.assertEqual({r["runs"] for r in rows}, {"3"})
        for r in rows:
            self.assertLessEqual(r["low"], r["median"], r["id"])
            self.assertLessEqual(r["median"], r["high"], r["id"])
            self.assertEqual(r["count"], str(3 * 3 * 3), r["id"])  # 3 runs of 3 x 3 ratios

    def test_noisy_runs_pass(self):
        # As CI does: a suspect is measured again, and noise does not survive the rerun.
        for seed in range(2, 8):
            run = write_run(self.dir / f"noisy{seed}", seed=seed, noise=0.15)
            with self.subTest(seed=seed):
                rc = self.compare(run)
                if rc == 3:
                    only = (self.dir / "sus.txt").read_text().split()
                    rerun = write_run(self.dir / f"noisy{seed}-rerun", seed=100 + seed,
                                      noise=0.15, experiments=only)
                    rc = self.compare(run, rerun)
                self.assertEqual(rc, 0, (self.dir / "gate.txt").read_text())

    def test_a_selector_must_pin_one_configuration(self):
        run = load_runs([write_run(self.dir / "shapes", seed=2)])[0]
        loose = gate.Tracked("loose", "matvec_blas", "every shape of the largest n",
                             {"variant": "matvec", "backend": "process", "p": "cores",
                              "n": "max"},
                             {"variant": "matvec", "backend": "openblas_serial", "n": "same"})
        with self.assertRaisesRegex(InputError, r"matvec_blas.csv: loose: .* matches several "
                                                r"configurations"):
            gate.measure(loose, run)
        gate.measure(gate.TRACKED_BY_ID["matvec_process"], run)  # pins rows and cols

    def test_baseline_runs_must_agree(self):
        quick = write_run(self.dir / "quick", seed=2)
        full = write_run(self.dir / "full", seed=3, profile="full")
        with self.assertRaisesRegex(InputError, r"full: gil_process is measured at .* runs of "
                                                r"different profiles"):
            gate.make_baseline([quick, full], allow_synthetic=True)
        big = write_run(self.dir / "big", seed=4, cores=16)
        with self.assertRaisesRegex(InputError, r"big: 16 cores, but .*quick has 2"):
            gate.make_baseline([quick, big], allow_synthetic=True)

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
                         baseline_machine_path=self.dir / "machine.json")
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
            gate.make_baseline([self.dir / "base1"])


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
        # The script refuses a synthetic baseline; make it from synthetic runs directly.
        synthetic_baseline(self.dir / "baseline", seeds=(11, 12, 13))

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
