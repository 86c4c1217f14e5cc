"""Tests of the runner's status line (experiments/progress.py): the estimate of the time left."""

import io
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from progress import Progress  # noqa: E402


class ProgressTest(unittest.TestCase):
    def test_estimate_uses_history_then_the_running_mean(self):
        progress = Progress(["a", "b", "c"], {"b": 100.0}, io.StringIO())
        progress.begin(1, "a")
        self.assertIsNone(progress.estimate_left())  # nothing known about a or c yet
        progress.end("a", 10.0)
        progress.begin(2, "b")
        left = progress.estimate_left()
        self.assertGreater(left, 109.0)  # about 100 for b (history) + 10 for c (mean of a)
        self.assertLessEqual(left, 110.0)

    def test_estimate_inside_an_experiment_follows_its_benchmarks(self):
        progress = Progress(["a"], {}, io.StringIO())
        progress.begin(1, "a")
        progress.experiment_start -= 10  # ten seconds in
        progress.set_phase("C++", total=4)
        progress.step()  # a quarter done: about 30 s left
        self.assertAlmostEqual(progress.estimate_left(), 30.0, delta=1.0)


if __name__ == "__main__":
    unittest.main()
