"""scan_work.py counts every call of the scan's operator, in the pool's workers and in the
caller alike, so the two-pass scan's count is what the algorithm does: n - p calls scanning the
p pieces, p - 2 scanning their totals, and one per element of every piece but the first."""

import multiprocessing
import operator
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
import common  # noqa: E402
import scan_work  # noqa: E402
from scan_two_pass import reduce_then_scan, serial_scan, two_pass_scan  # noqa: E402


class ScanWorkCountTest(unittest.TestCase):
    def test_counts_are_the_algorithms_calls_summed_over_processes(self):
        op = scan_work.CountingAdd()
        for n in (5, 64, 1000):
            xs = list(range(n))
            scan_work.take_calls()
            self.assertEqual(serial_scan(op, xs), serial_scan(operator.add, xs))
            self.assertEqual(scan_work.take_calls(), n - 1)
            for p in (1, 2, 3, 4):
                first = len(common.partition(xs, p)[0])
                with multiprocessing.Pool(p) as pool:
                    with self.subTest(n=n, p=p):
                        scan_work.take_calls()
                        self.assertEqual(two_pass_scan(pool, op, xs, p),
                                         serial_scan(operator.add, xs))
                        expected = n - 1 if p == 1 else (n - p) + (p - 2) + (n - first)
                        self.assertEqual(scan_work.take_calls(), expected)
                        reduce_then_scan(pool, op, xs, p)
                        # p folds of n - p calls, p - 2 scanning all but the last total,
                        # then every element scanned from its offset but the very first.
                        self.assertEqual(scan_work.take_calls(),
                                         (n - p) + max(p - 2, 0) + (n - 1))


if __name__ == "__main__":
    unittest.main()
