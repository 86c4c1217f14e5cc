"""The list of the seed's statements matches the rules of analysis/claims.py, and a composite
run's experiments are credited to the commit each was measured at."""

import json
import tempfile
import unittest
from pathlib import Path

from analysis import provenance, seed_statements, tables
from analysis.claims import CLAIMS
from analysis.runs import InputError, open_run
from analysis.tests.synthetic import write_run


class SeedStatementsTest(unittest.TestCase):
    def test_every_rule_tests_a_statement_and_every_named_rule_exists(self):
        self.assertEqual(sorted(seed_statements.tested_ids()), sorted(c.id for c in CLAIMS))

    def test_an_untested_statement_says_why_and_a_tested_one_does_not(self):
        for statement in seed_statements.STATEMENTS:
            with self.subTest(statement.words[:40]):
                self.assertIn(statement.kind, (seed_statements.CLAIM, seed_statements.NOTE))
                self.assertEqual(bool(statement.left_out), not statement.tested_by)

    def test_the_counts_add_up_to_the_list(self):
        claims = seed_statements.count(seed_statements.CLAIM)
        notes = seed_statements.count(seed_statements.NOTE)
        self.assertEqual(claims + notes, len(seed_statements.STATEMENTS))
        self.assertEqual(seed_statements.count(seed_statements.CLAIM, True)
                         + seed_statements.count(seed_statements.CLAIM, False), claims)
        # The seed's closing notes "Compare ..." and "Use this to count words ..." are plans.
        self.assertEqual(notes, 2)


class ProvenanceTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = write_run(Path(self.tmp.name) / "run", experiments=[
            "pool_overhead", "scan_two_pass", "pack"])

    def tearDown(self):
        self.tmp.cleanup()

    def date_experiment(self, experiment, date):
        (self.path / f"{experiment}.json").write_text(
            json.dumps({"context": {"date": date}, "benchmarks": []}))

    def resume(self, date, commit):
        machine = json.loads((self.path / "machine.json").read_text())
        machine.setdefault("resumed", []).append({"date": date, "git_commit": commit})
        (self.path / "machine.json").write_text(json.dumps(machine))

    def test_a_run_without_resumes_has_one_commit(self):
        run = open_run(self.path)
        self.assertEqual(provenance.experiment_commits(run)[0][0], "0" * 40)
        self.assertEqual(provenance.experiment_commits(run)[0][2],
                         ["pool_overhead", "scan_two_pass", "pack"])

    def test_an_experiment_rerun_at_a_resume_gets_the_resumes_commit(self):
        self.date_experiment("pool_overhead", "2026-11-23T12:00:05+00:00")
        self.date_experiment("pack", "2026-11-23T12:10:00+00:00")
        self.date_experiment("scan_two_pass", "2026-11-23T14:00:01+00:00")
        self.resume("2026-11-23T14:00:00+00:00", "b" * 40)
        self.resume("2026-11-23T15:00:00+00:00", "c" * 40)  # ran nothing: not listed
        parts = provenance.experiment_commits(open_run(self.path))
        self.assertEqual([(c, e) for c, _, e in parts],
                         [("0" * 40, ["pool_overhead", "pack"]), ("b" * 40, ["scan_two_pass"])])
        table = tables.machine([open_run(self.path)])
        self.assertIn(r"bbbbbbb, 2026-11-23 14:00: scan\_two\_pass", table)
        self.assertIn("CPython in sequence", table)

    def test_a_resumed_run_without_a_benchmark_json_is_an_error(self):
        self.resume("2026-11-23T14:00:00+00:00", "b" * 40)
        with self.assertRaisesRegex(InputError, "pool_overhead.json"):
            provenance.experiment_commits(open_run(self.path))

    def test_relative_iqrs_one_per_configuration(self):
        run = open_run(self.path)
        values = provenance.relative_iqrs(run)
        configurations = sum(len(run.data(e).groupby(
            ["variant", "backend", "n", "p", "chunksize"], dropna=False))
            for e in ("pool_overhead", "scan_two_pass", "pack"))
        # pack's keep_pct tells apart more configurations than the five fixed columns do
        self.assertGreater(len(values), configurations)
        self.assertTrue(all(v >= 0 for v in values))


if __name__ == "__main__":
    unittest.main()
