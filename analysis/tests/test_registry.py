"""The analysis knows the experiments of the suite's registry (EXPERIMENTS in experiments/BUILD),
no more, no fewer, in its order; and every reference script belongs to one of them."""

import ast
import unittest

from analysis import paths
from analysis.registry import EXPERIMENTS

EXPERIMENTS_DIR = paths.ROOT / "experiments"


def build_registry():
    """The list EXPERIMENTS of experiments/BUILD (Starlark, which parses as Python here)."""
    tree = ast.parse((EXPERIMENTS_DIR / "BUILD").read_text(), filename="experiments/BUILD")
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "EXPERIMENTS"):
            return ast.literal_eval(node.value)
    raise AssertionError("experiments/BUILD has no EXPERIMENTS list")


class RegistryTest(unittest.TestCase):
    def test_the_analysis_knows_exactly_the_suites_experiments_in_order(self):
        self.assertEqual(list(EXPERIMENTS), build_registry(),
                         "analysis/registry.py and EXPERIMENTS in experiments/BUILD differ: an "
                         "experiment is added in both (docs/experiments.md)")

    def test_every_experiment_has_its_binarys_source(self):
        for name in build_registry():
            self.assertTrue((EXPERIMENTS_DIR / f"{name}.cc").is_file(), name)

    def test_every_reference_script_is_a_registered_experiment(self):
        # The runner runs python/<name>.py only for a registered <name>: any other is never run.
        scripts = {p.stem for p in (EXPERIMENTS_DIR / "python").glob("*.py")} - {"common"}
        self.assertLessEqual(scripts, set(build_registry()))


if __name__ == "__main__":
    unittest.main()
