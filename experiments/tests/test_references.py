"""Tests of the CPython reference scripts' algorithms (experiments/python/): each gives the
serial answer on awkward sizes and worker counts, map_chunksize sweeps the seed's chunksizes,
and the grain's sizes join a script's sweep as profile.h's do."""

import itertools
import multiprocessing
import operator
import os
import random
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
import common  # noqa: E402
import gil_baseline  # noqa: E402
import map_chunksize  # noqa: E402
import pack  # noqa: E402
import reduce_tree_vs_partitioned as reduce_ref  # noqa: E402
import scan_two_pass  # noqa: E402

SIZES = (1, 2, 3, 5, 8, 31, 64, 65)


class ReferenceAlgorithmsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pool = multiprocessing.Pool(2)

    @classmethod
    def tearDownClass(cls):
        cls.pool.terminate()
        cls.pool.join()

    def test_reduces_keep_order_under_a_non_commutative_operator(self):
        for n in SIZES:
            xs = [chr(ord("a") + i % 26) for i in range(n)]
            expected = "".join(xs)
            self.assertEqual(reduce_ref.tree_reduce(self.pool, operator.add, xs), expected)
            for parts in (1, 2, 3, 4):
                if parts <= n:
                    self.assertEqual(
                        common.partitioned_reduce(self.pool, reduce_ref.add_all, xs, parts),
                        expected)

    def test_scans_equal_the_serial_scan(self):
        for n in SIZES:
            xs = [str(i % 10) for i in range(n)]
            expected = list(itertools.accumulate(xs))
            self.assertEqual(scan_two_pass.serial_scan(operator.add, xs), expected)
            for parts in (1, 2, 3, 4):
                if parts <= n:
                    self.assertEqual(scan_two_pass.two_pass_scan(
                        self.pool, operator.add, xs, parts), expected, (n, parts))
                    self.assertEqual(scan_two_pass.reduce_then_scan(
                        self.pool, operator.add, xs, parts), expected, (n, parts))

    def test_pack_keeps_the_selected_elements_in_order(self):
        rng = random.Random(1)
        for n in SIZES:
            xs = [rng.random() for _ in range(n)]
            for threshold in (0.0, 0.5, 1.0):
                for parts in (1, 2, 4):
                    self.assertEqual(pack.scan_pack(self.pool, xs, threshold, parts),
                                     [x for x in xs if x < threshold])

    def test_gil_baseline_split_keeps_the_sum(self):
        for n in (1, 7, 1000):
            expected = gil_baseline.loop(0, n)
            for parts in (1, 2, 3, 4):
                ranges = gil_baseline.split(n, parts)
                self.assertEqual(sum(map(gil_baseline.loop_task, ranges)), expected)
        # The same number as the C++ kernel: sum of the low 32 bits of i * 2654435761.
        self.assertEqual(gil_baseline.loop(0, 3), 2654435761 + (2 * 2654435761) % 2**32)


class ChunksizesTest(unittest.TestCase):
    def test_powers_of_two_and_the_seeds_candidates_without_too_many_tasks(self):
        self.assertEqual(map_chunksize.chunksizes(1000, 2, 1 << 13),
                         [1, 2, 4, 8, 9, 16, 32, 64, 125, 128, 256, 500])
        # 100,000 items: chunks below 13 would make more than 2^13 tasks.
        self.assertEqual(map_chunksize.chunksizes(100_000, 4, 1 << 13),
                         [16, 32, 64, 128, 256, 316, 512, 1024, 2048, 4096, 6250, 8192,
                          16384, 25000])

    def test_grain_sizes_join_the_sweep_at_the_cores_only(self):
        cores = common.machine_cores()
        self.assertEqual(common.grain_sizes(quick=False), [1 << e for e in range(10, 23)])
        self.assertEqual(common.grain_sizes(quick=True), [1 << e for e in (10, 13, 16, 19, 22)])
        plan = dict(common.with_grain_sizes([1 << 10, 1 << 16, 1 << 24], quick=True))
        self.assertEqual(sorted(plan), [1 << e for e in (10, 13, 16, 19, 22, 24)])
        for n in (1 << 10, 1 << 16, 1 << 24):  # the script's own sizes: every worker count
            self.assertEqual(plan[n], common.worker_counts())
        for n in (1 << 13, 1 << 19, 1 << 22):
            self.assertEqual(plan[n], [cores])

    def test_partition_covers_the_list_in_order(self):
        for n in SIZES:
            for parts in (1, 2, 3, 7):
                pieces = common.partition(list(range(n)), parts)
                self.assertEqual(len(pieces), parts)
                self.assertEqual(list(itertools.chain(*pieces)), list(range(n)))
                self.assertLessEqual(max(map(len, pieces)) - min(map(len, pieces)), 1)


if __name__ == "__main__":
    unittest.main()
