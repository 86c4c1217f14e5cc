"""The cluster cost model: synthetic latencies, bandwidths and kernels give the projections the
formulas say, the seed's claims restated from it, the kernels read from a run, and the paper's
macros."""

import math
import tempfile
import unittest
from pathlib import Path

from analysis import mpi, mpi_model
from analysis.mpi_model import Kernel, Network
from analysis.runs import open_run
from analysis.tests.synthetic import write_run

NET = Network("test network", alpha=1e-6, beta=1e-9, source="none")
NO_BANDWIDTH_COST = Network("latency only", alpha=1e-6, beta=0.0, source="none")


def kernel(primitive, per_element=1e-9, serial=None, **extra):
    return Kernel(primitive, 1 << 20, per_element, per_element if serial is None else serial,
                  **extra)


class CommunicationTest(unittest.TestCase):
    def test_one_machine_communicates_nothing(self):
        for primitive in mpi_model.PRIMITIVES:
            k = kernel(primitive, cols=1024, distinct=1000)
            self.assertEqual(mpi_model.communication_seconds(k, 1 << 20, 1, NET), 0.0)
            self.assertEqual(mpi_model.seconds(k, 1 << 20, 1, NET), (1 << 20) * 1e-9)

    def test_each_collective_costs_its_rounds(self):
        n, p = 1 << 20, 8  # 3 rounds
        round_of_8_bytes = 1e-6 + 8e-9
        cost = {name: mpi_model.communication_seconds(kernel(name, cols=1024, distinct=1000),
                                                      n, p, NET)
                for name in mpi_model.PRIMITIVES}
        self.assertAlmostEqual(cost["reduce"], 3 * round_of_8_bytes, places=15)
        self.assertAlmostEqual(cost["dot"], 3 * round_of_8_bytes, places=15)
        self.assertAlmostEqual(cost["scan"], 6 * round_of_8_bytes, places=15)
        # counts gathered, overlap agreed, then n/(2p) doubles to at most two machines
        self.assertAlmostEqual(cost["pack"], 6 * round_of_8_bytes + 2e-6 + 4 * n / p * 1e-9,
                               places=15)
        # the overlap check, then x (1024 doubles) gathered in 3 rounds
        self.assertAlmostEqual(cost["matvec"], 3 * round_of_8_bytes + 3e-6 + 7 / 8 * 8192e-9,
                               places=15)
        vocabulary = 1000 * mpi_model.WORD_BYTES
        self.assertAlmostEqual(cost["wordcount"], 7e-6 + vocabulary * 1e-9 + 3e-6
                               + 7 / 8 * vocabulary * 1e-9, places=15)

    def test_rounds_are_the_ceiling_of_log2(self):
        self.assertEqual([mpi_model.rounds(p) for p in (1, 2, 3, 4, 5, 1024)],
                         [0, 1, 2, 2, 3, 10])

    def test_no_machines_is_an_error(self):
        with self.assertRaises(ValueError):
            mpi_model.seconds(kernel("reduce"), 10, 0, NET)


class ProjectionTest(unittest.TestCase):
    def test_speedup_is_work_over_work_plus_latency(self):
        k = kernel("reduce")
        n = 1 << 20
        # P = 4: n/4 ns of work and 2 rounds of 1 us
        self.assertAlmostEqual(mpi_model.speedup(k, n, 4, NO_BANDWIDTH_COST),
                               n * 1e-9 / (n * 1e-9 / 4 + 2e-6), places=9)

    def test_the_distributed_kernels_extra_pass_lowers_the_speedup(self):
        scan = kernel("scan", per_element=1.5e-9, serial=1e-9)
        self.assertAlmostEqual(mpi_model.speedup(scan, 1 << 20, 1, NET), 1 / 1.5, places=12)

    def test_the_fastest_p_is_a_minimum_of_the_time(self):
        k = kernel("reduce")
        n = 1 << 16
        best = mpi_model.fastest_machines(k, n, NO_BANDWIDTH_COST)
        t = lambda p: mpi_model.seconds(k, n, p, NO_BANDWIDTH_COST)
        self.assertLess(t(best), t(best // 2))
        self.assertLessEqual(t(best), t(best * 2))
        # the continuous optimum of c n / P + alpha log2 P is c n ln 2 / alpha = 45
        self.assertIn(best, (32, 64))

    def test_breakeven_is_where_latency_equals_the_work_saved(self):
        # 2 machines beat one when n/2 ns > 1 us, n > 2000: the next power of two is 2048
        self.assertEqual(mpi_model.breakeven_n(kernel("reduce"), 2, NO_BANDWIDTH_COST), 2048)
        # 8 machines: 7n/8 ns > 3 us, n > 3429
        self.assertEqual(mpi_model.breakeven_n(kernel("reduce"), 8, NO_BANDWIDTH_COST), 4096)


class ClaimsTest(unittest.TestCase):
    def test_the_tree_pays_a_round_trip_per_pair(self):
        # n = 8: levels of 4, 2 and 1 tasks; on 1 machine 7 tasks, on 4 machines 1 + 1 + 1
        task = 2e-6 + 24e-9 + 1e-9
        self.assertAlmostEqual(mpi_model.tree_seconds(8, 1, NET, 1e-9), 7 * task, places=15)
        self.assertAlmostEqual(mpi_model.tree_seconds(8, 4, NET, 1e-9), 3 * task, places=15)

    def test_claims_from_known_kernels(self):
        found = {"reduce": kernel("reduce"),
                 "scan": kernel("scan", per_element=2e-9, serial=1e-9)}
        c = mpi_model.claims(found, NO_BANDWIDTH_COST, machines=(2, 4))
        n = 1 << 20
        self.assertEqual(c.n, n)
        for i, p in enumerate((2, 4)):
            steps = mpi_model.rounds(p)
            partitioned = n * 1e-9 / p + steps * 1e-6
            tree = sum(math.ceil((n >> level) / p) for level in range(1, 21)) * (2e-6 + 1e-9)
            self.assertAlmostEqual(c.tree_over_partitioned[i], tree / partitioned, places=6)
            scan_speedup = n * 1e-9 / (2 * n * 1e-9 / p + 2 * steps * 1e-6)
            reduce_speedup = n * 1e-9 / partitioned
            self.assertAlmostEqual(c.scan_over_reduce[i], scan_speedup / reduce_speedup,
                                   places=9)
        self.assertEqual(c.reduce_breakeven, (2048, 4096))


class RunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        raw = Path(cls.tmp.name)
        cls.full = open_run(write_run(raw / "full", noise=0.0,
                                     experiments=list(mpi_model.EXPERIMENTS + mpi.EXPERIMENTS)))
        cls.bare = open_run(write_run(raw / "bare", noise=0.0, experiments=["pool_overhead"]))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_kernels_are_the_serial_rows_per_element_at_the_largest_n(self):
        found = mpi_model.kernels(self.full)
        self.assertEqual(set(found), set(mpi_model.PRIMITIVES))
        reduce, scan = found["reduce"], found["scan"]
        # the synthetic serial reduce takes 0.15 ns per element plus 50 ns
        self.assertAlmostEqual(reduce.serial_seconds, 0.15e-9 + 50e-9 / reduce.n, places=18)
        # the distributed scan runs the serial scan (0.5 ns) and a reduce pass (0.15 ns)
        self.assertAlmostEqual(scan.piece_seconds, 0.65e-9, places=18)
        self.assertAlmostEqual(scan.serial_seconds, 0.5e-9, places=18)
        self.assertEqual(found["wordcount"].distinct, 12866)
        self.assertGreater(found["matvec"].cols, 0)

    def test_macros_of_a_run(self):
        text = mpi_model.tex_macros(self.full, mpi.fits(self.full))
        for name in ("mpinetwork", "mpimodel", "mpitreeclaim", "mpiscanclaim", "mpibreakeven",
                     "mpicheck"):
            self.assertIn(rf"\newcommand{{\{name}}}", text)
        self.assertIn(r"\citep{azure-hb-performance}", text)
        self.assertIn("word count", text)
        self.assertIn("predicts", text)

    def test_a_run_without_the_kernels_says_so(self):
        text = mpi_model.tex_macros(self.bare)
        self.assertIn("lacks the serial kernels", text)
        self.assertIn("no MPI measurements to check", text)
        self.assertNotIn(r"\begin{tabular}", text)

    def test_an_unusable_pingpong_checks_nothing(self):
        line = mpi.Line(1e-6, 1e-10, 2e-6, 0.0, 0.5)
        fit = mpi.Fit("pingpong", 2, line, line, 19)
        self.assertIn("unusable", mpi_model.check_text([fit]))


if __name__ == "__main__":
    unittest.main()
