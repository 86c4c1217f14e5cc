"""The MPI analysis: alpha and beta come back from timings that follow t = alpha + beta * bytes,
the distributed primitives are judged against the process pool at each rank count, a rank 0
that sends bulk data misses its goal, MpiPool's round trip is judged against the ping-pong, and a
run without the data says so."""

import csv
import tempfile
import unittest
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import mpi
from analysis.runs import open_run
from analysis.tests.synthetic import write_run

POOL_EXPERIMENTS = ["reduce_tree_vs_partitioned", "dot_flop_mop", "scan_two_pass", "pack"]


class FitLineTest(unittest.TestCase):
    SIZES = [8, 64, 512, 4096, 32768, 262144, 2097152]

    def test_recovers_alpha_and_beta(self):
        line = mpi.fit_line(self.SIZES, [3e-6 + 2e-10 * b for b in self.SIZES])
        self.assertAlmostEqual(line.alpha, 3e-6, places=12)
        self.assertAlmostEqual(line.beta, 2e-10, places=16)
        self.assertLess(line.residual, 1e-9)
        self.assertTrue(line.usable)

    def test_one_size_is_an_error(self):
        with self.assertRaises(ValueError):
            mpi.fit_line([8, 8, 8], [1e-6, 2e-6, 3e-6])

    def test_small_messages_decide_alpha_despite_noise_at_large_ones(self):
        # +-5 % on the largest messages is 40 us: plain least squares would put alpha there.
        noise = [1.0, 1.0, 1.0, 1.0, 1.05, 0.95, 1.05]
        line = mpi.fit_line(self.SIZES, [(1e-6 + 1e-10 * b) * f
                                         for b, f in zip(self.SIZES, noise)])
        self.assertAlmostEqual(line.alpha, 1e-6, delta=0.05e-6)
        self.assertAlmostEqual(line.beta, 1e-10, delta=0.05e-10)
        self.assertTrue(line.usable)
        self.assertGreater(line.residual, 0.01)

    def test_the_interval_covers_the_truth_and_shrinks_with_less_noise(self):
        sizes = self.SIZES * 5
        truth = np.array([2e-6 + 1e-10 * b for b in sizes])
        median_width = {}
        for spread in (0.2, 0.02):
            covered, widths = 0, []
            for seed in range(100):
                rng = np.random.default_rng(seed)
                line = mpi.fit_line(sizes, truth * np.exp(rng.normal(0, spread, len(sizes))))
                covered += (abs(line.alpha - 2e-6) <= line.alpha_error
                            and abs(line.beta - 1e-10) <= line.beta_error)
                widths.append(line.alpha_error)
            self.assertGreaterEqual(covered, 85, f"spread {spread}")  # 95 % intervals, both
            median_width[spread] = np.median(widths)
        # A tenth of the noise, about a tenth of the interval.
        self.assertAlmostEqual(median_width[0.2] / median_width[0.02], 10, delta=3)

    def test_a_loaded_runs_times_make_an_unusable_fit(self):
        # Every size swamped by time slices of a few milliseconds, at random.
        rng = np.random.default_rng(3)
        sizes = self.SIZES * 3
        seconds = [1e-6 + 1e-10 * b + rng.choice([0, 4e-3, 13e-3]) for b in sizes]
        line = mpi.fit_line(sizes, seconds)
        self.assertFalse(line.usable)
        clean = mpi.fit_line(self.SIZES, [1e-6 + 1e-10 * b for b in self.SIZES])
        self.assertIn("UNUSABLE", mpi.describe_fit(mpi.Fit("pingpong", 2, line, clean, 7)))
        self.assertNotIn("UNUSABLE", mpi.describe_fit(mpi.Fit("pingpong", 2, clean, clean, 7)))


class RunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        raw = Path(cls.tmp.name)
        chosen = POOL_EXPERIMENTS + list(mpi.EXPERIMENTS)
        cls.plain = open_run(write_run(raw / "plain", noise=0.0, experiments=chosen))
        cls.slow = open_run(write_run(raw / "slow", noise=0.0, experiments=chosen,
                                      slowdown={("mpi_primitives", "reduce", "mpi"): 3.0}))
        cls.slow_pool = open_run(write_run(raw / "slow_pool", noise=0.0,
                                           experiments=[mpi.POOL],
                                           slowdown={("mpi_pool", "apply", "mpi"): 2.0}))
        cls.mpi_only = open_run(write_run(raw / "mpi_only", noise=0.0,
                                          experiments=list(mpi.EXPERIMENTS)))
        cls.older = open_run(write_run(raw / "older", noise=0.0, experiments=POOL_EXPERIMENTS))
        cls.bulk_dir = write_run(raw / "bulk", noise=0.0, experiments=["mpi_primitives"])
        path = cls.bulk_dir / "mpi_primitives.csv"
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        for row in rows:  # rank 0 sends as much as the busiest other rank, and more
            if row["variant"] == "pack":
                row["bytes_sent_rank0"] = str(float(row["bytes_sent_other_max"]) * 2 + 1)
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        cls.bulk = open_run(cls.bulk_dir)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_fits_recover_the_models_alpha_and_beta(self):
        fits = {(f.operation, f.p): f for f in mpi.fits(self.plain)}
        self.assertEqual(set(fits), {("pingpong", 2), ("pingpong", 4), ("allreduce", 1),
                                     ("allreduce", 2), ("allreduce", 4)})
        for p in (2, 4):  # the synthetic ping-pong's round trip is 2 (alpha + beta bytes)
            self.assertAlmostEqual(fits["pingpong", p].alpha, 1e-6, places=12)
            self.assertAlmostEqual(fits["pingpong", p].beta, 0.1e-9, places=16)
            self.assertAlmostEqual(fits["pingpong", p].bandwidth, 1e10, delta=1)
        self.assertAlmostEqual(fits["allreduce", 4].alpha, 3e-6, places=12)
        self.assertTrue(all(f.usable for f in fits.values()))

    def test_alpha_and_beta_come_from_each_end_across_a_protocol_switch(self):
        # An eager protocol up to 4 KiB (0.5 us + 0.2 ns/B), a rendezvous above (5 us + 0.1 ns/B)
        sizes = [1 << x for x in range(3, 22)] * 3
        seconds = [(0.5e-6 + 0.2e-9 * b) if b < 4096 else (5e-6 + 0.1e-9 * b) for b in sizes]
        rows = [{"variant": "pingpong", "backend": "mpi", "p": 2, "bytes": b,
                 mpi.LOW_SECONDS: 2 * t} for b, t in zip(sizes, seconds)]

        class FakeRun:
            path = Path("fake")

            @staticmethod
            def data(experiment):
                return pd.DataFrame(rows)

        (fit,) = mpi.fits(FakeRun)
        self.assertAlmostEqual(fit.alpha, 0.5e-6, places=12)
        self.assertAlmostEqual(fit.beta, 0.1e-9, places=15)
        self.assertTrue(fit.usable)

    def test_the_fit_reads_the_low_quantile_not_the_noisy_mean(self):
        noisy = open_run(write_run(Path(self.tmp.name) / "noisy", noise=0.5,
                                   experiments=list(mpi.EXPERIMENTS)))
        fits = {(f.operation, f.p): f for f in mpi.fits(noisy)}
        self.assertAlmostEqual(fits["pingpong", 2].alpha, 1e-6, places=12)

    def test_a_run_without_the_low_quantile_is_refused(self):
        path = self.mpi_only.path / "mpi_collectives.csv"
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        older_dir = write_run(Path(self.tmp.name) / "no_low", noise=0.0,
                              experiments=list(mpi.EXPERIMENTS))
        fields = [c for c in rows[0] if c != mpi.LOW_SECONDS]
        with open(older_dir / "mpi_collectives.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n",
                                    extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        with self.assertRaisesRegex(LookupError, "predates the seconds_low counter"):
            mpi.fits(open_run(older_dir))

    def test_every_primitive_is_judged_at_each_rank_count_at_the_largest_n(self):
        goals = [g for g in mpi.pool_goals(self.plain)]
        self.assertEqual({(g.primitive, g.k) for g in goals},
                         {(p, k) for p in mpi.POOL_REFERENCES for k in (1, 2, 4)})
        pool_sizes = {"reduce": 1 << 22, "dot": 1 << 20, "scan": 1 << 22, "pack": 1 << 22}
        for g in goals:
            self.assertEqual(g.n, pool_sizes[g.primitive])
            self.assertAlmostEqual(g.ratio, g.measured / g.reference, places=9)

    def test_pack_through_messages_is_compared_with_the_pool_but_not_judged(self):
        rows = mpi.comparisons(self.plain)
        self.assertEqual({(g.primitive, g.k) for g in rows},
                         {("pack_messages", k) for k in (1, 2, 4)})
        goals = {(g.primitive, g.k): g for g in mpi.pool_goals(self.plain)}
        for g in rows:
            self.assertIsNone(g.limit)
            self.assertIsNone(g.met)
            self.assertGreater(g.ratio, goals["pack", g.k].ratio)  # 1.6 against 1.2 ns
            self.assertIn("no goal", mpi.describe_goal(g))
        self.assertNotIn("pack_messages", {g.primitive for g in mpi.goals(self.plain)})

    def test_a_slower_distributed_reduce_misses_its_goal(self):
        plain = {(g.primitive, g.k): g for g in mpi.pool_goals(self.plain)}
        slow = {(g.primitive, g.k): g for g in mpi.pool_goals(self.slow)}
        for k in (1, 2, 4):
            self.assertAlmostEqual(slow["reduce", k].ratio, 3 * plain["reduce", k].ratio,
                                   places=9)
            self.assertFalse(slow["reduce", k].met)
            self.assertEqual(slow["dot", k].ratio, plain["dot", k].ratio)

    def test_rank0_goal_met_when_rank0_sends_no_more_than_the_others(self):
        goals = mpi.rank0_goals(self.plain)
        self.assertEqual({(g.primitive, g.k) for g in goals},
                         {(p, k) for p in mpi.POOL_REFERENCES for k in (2, 4)})
        self.assertTrue(all(g.met for g in goals))

    def test_rank0_sending_bulk_data_misses_the_goal(self):
        by_primitive = {(g.primitive, g.k): g for g in mpi.rank0_goals(self.bulk)}
        self.assertFalse(by_primitive["pack", 2].met)
        self.assertFalse(by_primitive["pack", 4].met)
        self.assertTrue(by_primitive["reduce", 2].met)

    def test_the_pools_round_trip_is_judged_against_the_ping_pong_from_two_ranks(self):
        goals = mpi.round_trip_goals(self.plain)
        self.assertEqual([g.k for g in goals], [2, 4])  # one rank has no one to ping
        for g in goals:
            self.assertAlmostEqual(g.ratio, 2.5, places=9)
            self.assertAlmostEqual(g.ratio, g.measured / g.reference, places=9)
            self.assertTrue(g.met)
        self.assertIn("apply", mpi.describe_goal(goals[0]))

    def test_a_round_trip_over_three_ping_pongs_misses_its_goal(self):
        goals = mpi.round_trip_goals(self.slow_pool)
        self.assertEqual([g.k for g in goals], [2, 4])
        for g in goals:
            self.assertAlmostEqual(g.ratio, 5.0, places=9)
            self.assertFalse(g.met)

    def test_missing_data_is_not_measured(self):
        lone = mpi.pool_goals(self.mpi_only)
        self.assertEqual([(g.primitive, g.k, g.met) for g in lone],
                         [(p, None, None) for p in mpi.POOL_REFERENCES])
        self.assertIn(mpi.NOT_MEASURED, mpi.describe_goal(lone[0]))
        older = mpi.goals(self.older)
        self.assertTrue(all(g.k is None for g in older))
        self.assertFalse(mpi.has(self.older, mpi.COLLECTIVES))
        self.assertEqual([(g.primitive, g.k) for g in mpi.round_trip_goals(self.older)],
                         [("apply", None)])


if __name__ == "__main__":
    unittest.main()
