"""Speedups, spreads and the verdict classifier on hand-made numbers."""

import unittest

import numpy as np
import pandas as pd

from analysis.classify import (CONDITIONAL, CONFIRMED, INCONCLUSIVE, REFUTED, classify, number,
                               seconds)
from analysis.stats import (ABOVE, BELOW, CORES, INSIDE, LARGEST, LOG2N, SAME, STRADDLES, Band,
                            Interval, Spread, ratio_interval, ratio_of_ratios, ratios, resolve,
                            speedup, speedups)


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


class IntervalTest(unittest.TestCase):
    def test_bootstrap_interval_holds_the_ratio_of_medians_and_is_reproducible(self):
        rng = np.random.default_rng(5)
        ref = 2.0 * np.exp(rng.normal(0, 0.1, 9))
        mea = 1.0 * np.exp(rng.normal(0, 0.1, 9))
        a = ratio_interval(ref, mea)
        self.assertAlmostEqual(a.estimate, np.median(ref) / np.median(mea))
        self.assertLess(a.low, a.estimate)
        self.assertGreater(a.high, a.estimate)
        self.assertEqual(a, ratio_interval(ref, mea))  # the fixed seed: the paper is stable

    def test_more_noise_gives_a_wider_interval(self):
        rng = np.random.default_rng(6)
        base = rng.normal(0, 1, 9)
        quiet = ratio_interval(np.exp(0.01 * base), np.ones(9))
        noisy = ratio_interval(np.exp(0.3 * base), np.ones(9))
        self.assertLess(quiet.high - quiet.low, noisy.high - noisy.low)

    def test_identical_samples_give_a_point(self):
        self.assertEqual(ratio_interval([4.0] * 5, [2.0] * 5), Interval(2.0, 2.0, 2.0))

    def test_ratio_of_ratios(self):
        r = ratio_of_ratios(([6.0] * 3, [2.0] * 3), ([4.0] * 3, [2.0] * 3))
        self.assertEqual(r, Interval(1.5, 1.5, 1.5))

    def test_interval_against_band(self):
        band = Band(0.9, 1.1)
        self.assertEqual(Interval(1.3, 1.2, 1.4).against(band), ABOVE)
        self.assertEqual(Interval(0.7, 0.6, 0.8).against(band), BELOW)
        self.assertEqual(Interval(1.0, 0.95, 1.05).against(band), INSIDE)
        self.assertEqual(Interval(1.1, 1.0, 1.2).against(band), STRADDLES)
        self.assertEqual(Interval(1.0, 0.8, 1.2).against(band), STRADDLES)

    def test_band_around_a_threshold_is_multiplicative(self):
        band = Band.around(2.0, 0.1)
        self.assertAlmostEqual(band.low, 2.0 / 1.1)
        self.assertAlmostEqual(band.high, 2.2)
        with self.assertRaises(ValueError):
            Band(2.0, 1.0)


class ResolveTest(unittest.TestCase):
    df = pd.DataFrame({"backend": ["process"] * 4 + ["serial"] * 2,
                       "n": [1024, 4096, 1024, 4096, 1024, 4096],
                       "p": [1, 1, 2, 2, None, None]})

    def test_cores_largest_same_and_log2n(self):
        measured = resolve(self.df, {"backend": "process", "p": CORES, "n": LARGEST,
                                     "chunksize": LOG2N}, cores=2)
        self.assertEqual(measured, {"backend": "process", "p": 2, "n": 4096, "chunksize": 12})
        reference = resolve(self.df, {"backend": "serial", "n": SAME}, 2, same=measured)
        self.assertEqual(reference, {"backend": "serial", "n": 4096})

    def test_cores_not_measured(self):
        with self.assertRaises(LookupError):
            resolve(self.df, {"backend": "process", "p": CORES, "n": LARGEST}, cores=16)
        fallback = resolve(self.df, {"backend": "process", "p": CORES}, 16,
                           cores_or_largest=True)
        self.assertEqual(fallback["p"], 2)


class UndecidedCasesTest(unittest.TestCase):
    def cases(self, holds):
        return pd.DataFrame({"n": range(len(holds)), "holds": pd.Series(holds, dtype=object)})

    def test_undecided_cases_make_a_verdict_inconclusive_not_refuted(self):
        self.assertEqual(classify(self.cases([True, None]), ["n"]), (INCONCLUSIVE, None))
        self.assertEqual(classify(self.cases([None, None]), ["n"]), (INCONCLUSIVE, None))
        self.assertEqual(classify(self.cases([False, None]), ["n"]), (REFUTED, None))
        self.assertEqual(classify(self.cases([True, True]), ["n"]), (CONFIRMED, None))

    def test_a_condition_comes_from_the_decided_cases(self):
        status, condition = classify(self.cases([False, None, True, True]), ["n"])
        self.assertEqual(status, CONDITIONAL)
        self.assertIn("n", condition)


if __name__ == "__main__":
    unittest.main()
