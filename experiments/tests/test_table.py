"""Tests of the reference scripts' timing table (experiments/python/common.py): repetitions of
all measured calls run interleaved in the shuffled order, each call with the values it had when
measured, and the rows, pools and file come out whole."""

import argparse
import csv
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
import common  # noqa: E402


def square(x):
    return x * x


class TableTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.out = os.path.join(self.folder.name, "t.csv")
        self.args = argparse.Namespace(profile="quick", repetitions=3, min_time=0.0,
                                       out=self.out)

    def tearDown(self):
        self.folder.cleanup()

    def table(self, **options):
        return common.Table("t", self.args, **options)

    def test_repetitions_run_in_the_shuffled_order_with_the_values_of_their_loop(self):
        calls = []
        table = self.table(shuffle=lambda order: order.reverse())
        for n in (1, 2):
            # A late-binding lambda: run after the loop, it would see n = 2 both times.
            table.measure(lambda: calls.append(n), variant="v", backend="b", n=n)
        self.assertEqual(calls, [1, 2])  # the warm-ups, at once
        self.assertEqual(table.rows, [])  # nothing timed before write()
        table.write()
        self.assertEqual(calls[2:], [2, 2, 2, 1, 1, 1])
        with open(self.out) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([(r["n"], r["repetition"]) for r in rows],
                         [("1", "0"), ("1", "1"), ("1", "2"), ("2", "0"), ("2", "1"), ("2", "2")])
        self.assertTrue(all(float(r["seconds"]) > 0 and r["iterations"] == "1" for r in rows))

    def test_the_default_order_mixes_the_measurements(self):
        calls = []
        self.args.repetitions = 9
        table = self.table()
        for n in range(4):
            table.measure(lambda: calls.append(n), variant="v", backend="b", n=n)
        table.run_repetitions()
        timed = calls[4:]
        self.assertEqual(sorted(timed), sorted(list(range(4)) * 9))
        # In sequence it would be 0 x 9, 1 x 9, ...: 3 changes of n. The chance that a uniform
        # shuffle of 36 has 3 or fewer is below 1e-15.
        changes = sum(a != b for a, b in zip(timed, timed[1:]))
        self.assertGreater(changes, 3)

    def test_in_sequence_a_measurement_has_its_rows_when_measure_returns(self):
        calls = []
        table = self.table(interleave=False)
        for n in (1, 2):
            table.measure(lambda: calls.append(n), variant="v", backend="b", n=n)
            self.assertEqual([r["n"] for r in table.rows], [1] * 3 + [2] * 3 if n == 2 else [1] * 3)
        self.assertEqual(calls, [1, 1, 1, 1, 2, 2, 2, 2])

    def test_in_sequence_a_call_keeps_its_nonlocal_state(self):
        table = self.table(interleave=False)
        calls = 0

        def call():
            nonlocal calls
            calls += 1

        table.measure(call, variant="v", backend="b", n=1)
        self.assertEqual(calls, 4)  # the warm-up and three repetitions, counted here

    def test_before_runs_ahead_of_the_warm_up_and_of_every_repetition(self):
        setting = {"threads": None}
        seen = []
        table = self.table()
        for threads in (1, 2):
            # Without `before` every repetition would see the setting the last measure() left.
            table.measure(lambda: seen.append((threads, setting["threads"])), variant="v",
                          backend="b", n=1, p=threads,
                          before=lambda: setting.update(threads=threads))
        table.run_repetitions()
        self.assertEqual(sorted(seen), [(1, 1)] * 4 + [(2, 2)] * 4)

    def test_a_wrong_answer_stops_the_measurement(self):
        table = self.table()
        with self.assertRaisesRegex(AssertionError, "wrong"):
            table.measure(lambda: 3, variant="v", backend="b", n=1,
                          check=lambda r: common.require(r == 4, "wrong answer"))

    def test_the_tables_pools_run_every_repetition_and_are_closed_after(self):
        table = self.table()
        pools = [table.pool(2), table.pool(2, threads=True)]
        for pool in pools:
            table.measure(lambda: pool.map(square, range(10)), variant="map", backend="b", n=10,
                          check=lambda out: common.require(out == [x * x for x in range(10)],
                                                           "map: wrong squares"))
        table.write()
        self.assertEqual(len(table.rows), 6)
        for pool in pools:
            with self.assertRaises(ValueError):  # "Pool not running"
                pool.map(square, [1])

    def test_pools_are_closed_when_a_repetition_fails(self):
        table = self.table()
        pool = table.pool(1)
        state = {"calls": 0}

        def flaky():
            state["calls"] += 1
            if state["calls"] > 1:
                raise RuntimeError("failed in a repetition")
            return pool.map(square, [2])

        table.measure(flaky, variant="v", backend="b", n=1)
        with self.assertRaisesRegex(RuntimeError, "failed in a repetition"):
            table.write()
        with self.assertRaises(ValueError):
            pool.map(square, [1])
        self.assertFalse(os.path.exists(self.out))


if __name__ == "__main__":
    unittest.main()
