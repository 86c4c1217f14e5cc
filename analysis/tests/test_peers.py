"""The speed goals against the peers are computed from the run, and a slower primitive misses
its goal."""

import tempfile
import unittest
from pathlib import Path

from analysis import mpi, peers
from analysis.runs import load_runs
from analysis.tests.synthetic import write_run


def _by_goal(run_dir):
    (run,) = load_runs([run_dir], peers.EXPERIMENTS)
    return {(r.primitive, r.goal): r for r in peers.evaluate(run)}


class PeersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        raw = Path(cls.tmp.name)
        cls.plain = _by_goal(write_run(raw / "plain", seed=3, noise=0.0))
        cls.slow = _by_goal(write_run(
            raw / "slow", seed=3, noise=0.0,
            slowdown={("reduce_tree_vs_partitioned", "partitioned", "process"): 3.0}))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_goal_is_evaluated_at_the_largest_size_and_the_cores(self):
        expected = {(p.name, g.text) for p in peers.PRIMITIVES for g in p.goals}
        self.assertEqual(set(self.plain), expected)
        for result in self.plain.values():
            self.assertEqual(result.p, 2)
            self.assertGreater(result.process_seconds, 0)
            self.assertAlmostEqual(result.ratio,
                                   result.process_seconds / result.reference_seconds, places=9)

    def test_the_fastest_candidate_is_the_reference(self):
        best = self.plain[("reduce", "within 5% of the best peer")]
        (prim,) = [p for p in peers.PRIMITIVES if p.name == "reduce"]
        self.assertIn(best.reference, [f"{v}/{b}" for v, b in prim.goals[0].references])
        openmp = self.plain[("reduce", "90% of the OpenMP sum's bandwidth")]
        self.assertLessEqual(best.reference_seconds, openmp.reference_seconds)

    def test_a_slower_primitive_misses_its_goals(self):
        for goal in ("within 5% of the best peer", "within 10% of the thread pool"):
            before, after = self.plain[("reduce", goal)], self.slow[("reduce", goal)]
            self.assertAlmostEqual(after.ratio, 3 * before.ratio, places=6)
            self.assertFalse(after.met)
        # Other primitives are untouched.
        self.assertEqual(self.plain[("dot", "within 5% of the best peer")].ratio,
                         self.slow[("dot", "within 5% of the best peer")].ratio)

    def test_met_compares_the_ratio_with_the_limit(self):
        result = self.plain[("word count", "30 times CPython's throughput")]
        self.assertEqual(result.met, result.ratio <= 1 / 30)

    def test_a_goal_over_a_sweep_is_judged_at_its_worst_value(self):
        from analysis.stats import select, speedup
        result = self.plain[("map", "20 times CPython's throughput")]
        (run,) = load_runs([Path(self.tmp.name) / "plain"], peers.EXPERIMENTS)
        df = select(run.data("pool_overhead"), variant="map", p=2, n=result.n)
        ratios = {}
        for c in sorted(set(df["chunksize"].dropna())):
            ours = select(df, backend="process", chunksize=c)["seconds"]
            cpython = select(df, backend="cpython_process", chunksize=c)["seconds"]
            ratios[int(c)] = speedup(ours, cpython).median
        self.assertGreater(len(ratios), 1)
        worst = max(ratios, key=ratios.get)
        self.assertEqual(result.swept, f"chunksize={worst}")
        self.assertAlmostEqual(result.ratio, ratios[worst])
        self.assertEqual(self.plain[("apply", "30 times cheaper than CPython's")].swept, "")

    def test_the_command_judges_a_partial_run_and_names_what_it_left_out(self):
        import contextlib
        import io
        partial = write_run(Path(self.tmp.name) / "partial", seed=3, noise=0.0)
        for csv in partial.glob("*.csv"):
            if csv.stem != "dot_flop_mop":
                csv.unlink()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(peers.main([str(partial)]), 0)
        self.assertIn("not judged: apply, map, reduce, scan, pack, matvec, word count",
                      out.getvalue())
        self.assertEqual(len([line for line in out.getvalue().splitlines()
                              if line.startswith("dot ")]), 3)
        # The MPI goals are listed too; this run has none of their data (one line per pool
        # reference, one for rank 0's bytes, one for MpiPool's round trip).
        self.assertEqual(len([line for line in out.getvalue().splitlines()
                              if line.endswith(": not measured in this run")]),
                         len(mpi.POOL_REFERENCES) + 2)
        (partial / "dot_flop_mop.csv").unlink()
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(peers.main([str(partial)]), 2)
        self.assertIn("none of the experiments the goals need", err.getvalue())


if __name__ == "__main__":
    unittest.main()
