"""Speedups, spreads and the verdict classifier on hand-made numbers."""

import unittest

import numpy as np
import pandas as pd

from analysis.stats import Spread, ratios, speedup, speedups
from analysis.classify import CONDITIONAL, CONFIRMED, REFUTED, classify, number, seconds


class SpeedupTest(unittest.TestCase):
    def test_ratios_are_every_pair(self):
        self.assertEqual(sorted(ratios([4.0, 8.0], [2.0, 4.0])), [1.0, 2.0, 2.0, 4.0])

    def test_speedup_median_and_quartiles(self):
        s = speedup([4.0, 8.0], [2.0, 4.0])
        self.assertEqual((s.median, s.count), (2.0, 4))
        self.assertAlmostEqual(s.q1, 1.75)
        self.assertAlmostEqual(s.q3, 2.5)

    def test_spread_of_one_value(self):
        s = Spread.of([3.0])
        self.assertEqual((s.q1, s.median, s.q3), (3.0, 3.0, 3.0))
        with self.assertRaises(ValueError):
            Spread.of([])

    def test_speedups_match_reference_by_n_and_give_efficiency(self):
        rows = []
        for n, serial in ((100, 1.0), (200, 2.0)):
            rows += [{"backend": "serial", "n": n, "p": 1, "seconds": serial}] * 3
            for p in (1, 2):
                rows += [{"backend": "process", "n": n, "p": p, "seconds": serial / p}] * 3
        df = pd.DataFrame(rows)
        table = speedups(df[df.backend == "process"], df[df.backend == "serial"], on=["n"],
                         keys=["n", "p"])
        self.assertEqual(list(table["speedup"]), [1.0, 2.0, 1.0, 2.0])
        self.assertEqual(list(table["efficiency"]), [1.0, 1.0, 1.0, 1.0])
        with self.assertRaisesRegex(LookupError, "no reference timing with n=300"):
            speedups(pd.DataFrame([{"n": 300, "p": 2, "seconds": 1.0}]),
                     df[df.backend == "serial"], on=["n"], keys=["n", "p"])


class ClassifyTest(unittest.TestCase):
    def cases(self, holds, **dims):
        return pd.DataFrame(dict(dims, holds=holds))

    def test_all_and_none(self):
        self.assertEqual(classify(self.cases([True, True], n=[1, 2]), ["n"]), (CONFIRMED, None))
        self.assertEqual(classify(self.cases([False, False], n=[1, 2]), ["n"]), (REFUTED, None))
        with self.assertRaises(LookupError):
            classify(self.cases([], n=[]), ["n"])

    def test_threshold_in_n(self):
        status, condition = classify(self.cases([False, False, True, True],
                                                n=[1024, 2048, 4096, 8192]), ["n"])
        self.assertEqual(status, CONDITIONAL)
        self.assertEqual(condition, "n\\,$\\geq$\\,$2^{12}$")

    def test_threshold_names_the_dimension_in_latex(self):
        # A column name with an underscore must not reach LaTeX raw (it would stop the build).
        status, condition = classify(self.cases([False, True, True], keep_pct=[1, 10, 50]),
                                     ["keep_pct"])
        self.assertEqual((status, condition), (CONDITIONAL, "\\% kept\\,$\\geq$\\,10"))
        _, condition = classify(self.cases([True, False], lost_fraction=[0.1, 0.2]),
                                ["lost_fraction"])
        self.assertNotIn("t_f", condition)
        self.assertIn("lost\\_fraction", condition)

    def test_category_decides(self):
        status, condition = classify(self.cases([True, False, True, False],
                                                backend=["thread", "process"] * 2,
                                                n=[1, 1, 2, 2]), ["n", "backend"])
        self.assertEqual((status, condition), (CONDITIONAL, "\\texttt{thread}"))

    def test_threshold_per_category(self):
        cases = self.cases([False, True, True, False, False, True],
                           backend=["process"] * 3 + ["thread"] * 3, n=[1, 2, 4, 1, 2, 4])
        status, condition = classify(cases, ["n", "backend"])
        self.assertEqual(status, CONDITIONAL)
        self.assertEqual(condition, "\\texttt{process}: n\\,$\\geq$\\,$2^{1}$; "
                                    "\\texttt{thread}: n\\,$\\geq$\\,$2^{2}$")

    def test_otherwise_lists_the_cases(self):
        # Two repetitions of one configuration disagree: no dimension can decide.
        cases = self.cases([True, False, True, False], a=[1, 1, 2, 2], b=[1, 1, 2, 2])
        status, condition = classify(cases, ["a", "b"])
        self.assertEqual(status, CONDITIONAL)
        self.assertTrue(condition.startswith("in 2 of 4 cases, in ("), condition)

    def test_number_formats(self):
        self.assertEqual(number(1.2345), "1.23")
        self.assertEqual(number(12345.0), "12\\,345")
        self.assertEqual(number(0.000123), "$1.23\\times10^{-4}$")
        self.assertEqual(seconds(2.5e-6), "2.50\\,\\textmu s")
        self.assertEqual(number(float(np.nan)), "--")


if __name__ == "__main__":
    unittest.main()
