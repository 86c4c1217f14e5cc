"""Every claim's rule decides on synthetic data, and the data can change the verdict: a rule
that could not come out differently would not be a test of the claim."""

import tempfile
import unittest
from pathlib import Path

from analysis.claims import CLAIMS, CLAIMS_BY_ID
from analysis.runs import load_runs
from analysis.tests.synthetic import write_run
from analysis.classify import CONDITIONAL, CONFIRMED, NOT_MEASURED, REFUTED, STATUSES


class ClaimsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = Path(cls.tmp.name)
        (cls.quick,) = load_runs([write_run(cls.dir / "quick", seed=1)])
        (cls.full,) = load_runs([write_run(cls.dir / "full16", cores=16, profile="full",
                                           seed=2)])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def verdict(self, claim_id, slowdown=None, **kwargs):
        if slowdown is None and not kwargs:
            run = self.quick
        else:
            name = f"{claim_id}-{len(list(self.dir.iterdir()))}"
            (run,) = load_runs([write_run(self.dir / name, seed=3, slowdown=slowdown,
                                          **kwargs)])
        return CLAIMS_BY_ID[claim_id].verdict(run)

    def test_every_claim_decides_on_both_kinds_of_run(self):
        for run in (self.quick, self.full):
            for claim in CLAIMS:
                with self.subTest(claim=claim.id, cores=run.cores):
                    v = claim.verdict(run)
                    self.assertIn(v.status, STATUSES)
                    self.assertTrue(v.summary)
                    self.assertEqual(v.status == CONDITIONAL, v.condition is not None)
                    self.assertEqual(v.status == NOT_MEASURED, claim.decide is None)

    def test_claims_are_listed_once_with_rule_and_figure(self):
        from analysis.draw_figure import FIGURES
        self.assertEqual(len({c.quote for c in CLAIMS}), len(CLAIMS))
        for claim in CLAIMS:
            self.assertTrue(claim.quote and claim.rule and claim.title)
            self.assertIn(claim.figure, FIGURES)

    def test_tree_loses_until_the_tree_gets_cheap(self):
        self.assertEqual(self.verdict("tree_loses").status, CONFIRMED)
        cheap_tree = {("reduce_tree_vs_partitioned", "tree", b): 1e-6
                      for b in ("process", "thread", "cpython_process")}
        self.assertEqual(self.verdict("tree_loses", cheap_tree).status, REFUTED)

    def test_gil_threads_refuted_when_locked_threads_scale(self):
        self.assertEqual(self.verdict("gil_threads").status, CONFIRMED)
        # Threads twice as fast as serial at every p: a lock that costs nothing.
        fast = {("gil_baseline", "loop", "cpython_thread"): 0.4,
                ("gil_baseline", "loop", "gil_thread"): 0.4}
        self.assertEqual(self.verdict("gil_threads", fast).status, REFUTED)

    def test_scan_half_follows_the_ratio_of_speedups(self):
        # The model's two-pass scan scales about 0.6 times as well as the reduce; slowing or
        # speeding its parallel runs moves the ratio into [0.4, 0.6] or well above it.
        def scan(factor):
            return {("scan_two_pass", "two_pass", b): factor for b in ("process", "thread")}
        self.assertIn(self.verdict("scan_half", scan(1.25)).status, (CONFIRMED, CONDITIONAL))
        self.assertEqual(self.verdict("scan_half", scan(0.5)).status, REFUTED)

    def test_blas_claim_refuted_when_the_pools_win_everywhere(self):
        parallel = ("process", "thread", "openmp", "cpython_process")
        fast = {("matvec_blas", "matvec", b): 0.01 for b in parallel}
        self.assertEqual(self.verdict("blas_wins", fast).status, REFUTED)
        slow = {("matvec_blas", "matvec", b): 100.0 for b in parallel}
        self.assertEqual(self.verdict("blas_wins", slow).status, CONFIRMED)

    def test_locked_writes_refuted_when_the_lock_is_free(self):
        self.assertEqual(self.verdict("locked_costs_more").status, CONFIRMED)
        free = {("shared_array_lock", f"locked_{pattern}", backend): 0.001
                for pattern in ("disjoint", "interleaved", "same")
                for backend in ("process", "thread", "cpython_process")}
        self.assertEqual(self.verdict("locked_costs_more", free).status, REFUTED)

    def test_partitioned_reduce_condition_is_a_size(self):
        v = self.verdict("partitioned_beats_serial")
        self.assertEqual(v.status, CONDITIONAL)
        self.assertIn("n\\,$\\geq$", v.condition)


if __name__ == "__main__":
    unittest.main()
