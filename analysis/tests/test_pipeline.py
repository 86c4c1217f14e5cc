"""The paper's generated files come out of synthetic runs, and the Make rules name exactly the
inputs of each output."""

import json
import re
import tempfile
import unittest
from pathlib import Path

from analysis import draw_figure as figure, make_rules as rules, tables, write_verdicts as verdicts
from analysis.claims import CLAIMS
from analysis.registry import EXPERIMENTS
from analysis.runs import load_runs
from analysis.tests.synthetic import write_run


class PipelineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = Path(cls.tmp.name)
        cls.small = write_run(cls.dir / "raw" / "small", seed=1)
        cls.big = write_run(cls.dir / "raw" / "big", cores=16, seed=2)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_figure_with_one_and_two_runs(self):
        for runs in ([self.small], [self.small, self.big]):
            for name in figure.FIGURES if len(runs) == 2 else figure.FIGURES[:2]:
                out = self.dir / f"{name}-{len(runs)}.pdf"
                with self.subTest(figure=name, runs=len(runs)):
                    figure.draw(name, runs, out)
                    self.assertTrue(out.read_bytes().startswith(b"%PDF"))

    def test_verdicts_and_tables(self):
        runs = ["--run", str(self.small), "--run", str(self.big)]
        made = []
        for claim in CLAIMS:
            tex, js = self.dir / f"{claim.id}.tex", self.dir / f"{claim.id}.json"
            self.assertEqual(verdicts.main([claim.id, *runs, "--json", str(js), "--tex",
                                            str(tex)]), 0)
            text = tex.read_text()
            self.assertIn(r"\begin{claimbox}", text)
            self.assertIn(claim.quote, text)
            data = json.loads(js.read_text())
            self.assertEqual([r["cores"] for r in data["runs"]], [2, 16])
            made.append(str(js))
        for name in tables.TABLES:
            out = self.dir / f"{name}.tex"
            self.assertEqual(tables.main([name, *runs, "--out", str(out)]), 0)
            self.assert_rows_fill_columns(out)
        for name in tables.VERDICT_TABLES:
            args = [a for v in made for a in ("--verdict", v)]
            self.assertEqual(tables.main([name, *args, "--out", str(self.dir / f"{name}.tex")]),
                             0)
        claims_table = (self.dir / "claims.tex").read_text()
        self.assert_rows_fill_columns(self.dir / "claims.tex")
        self.assertIn("CPython (16)", claims_table)
        self.assertIn("C++ (16)", claims_table)
        tally = (self.dir / "tally.tex").read_text()
        self.assertIn("statements of the seed", tally)
        self.assertIn("on 16 cores, on CPython", tally)

    def assert_rows_fill_columns(self, path):
        """Each row of each generated tabular has as many cells as its column specification."""
        text = path.read_text()
        for spec, body in re.findall(r"\\begin\{tabular\}\{([^\n]*)\}\n(.*?)\\end\{tabular\}",
                                     text, re.DOTALL):
            columns = len(re.findall(r"[lrcp](?![^{]*\})", re.sub(r"@\{\}", "", spec)))
            for line in body.splitlines():
                if line.endswith("\\\\") and "multicolumn" not in line:
                    self.assertEqual(line.count("&") + 1, columns, f"{path.name}: {line}")
                elif "multicolumn" in line:
                    self.assertIn(rf"\multicolumn{{{columns}}}", line, path.name)

    def test_rules_name_each_output_and_its_inputs(self):
        out = self.dir / "rules.mk"
        self.assertEqual(rules.main(["--raw", str(self.dir / "raw"), "--run", "small",
                                     "--key", "k", "--out", str(out)]), 0)
        text = out.read_text()
        self.assertIn("RULES_KEY_USED := k", text)
        pack_rule = text[text.index("figures/pack.pdf:"):].split("\n\n")[0]
        self.assertIn("$(ROOT)/analysis/figures/pack.py", pack_rule)
        self.assertIn("$(ROOT)/analysis/stats.py", pack_rule)
        self.assertIn(f"{self.small}/pack.csv", pack_rule)
        self.assertIn(f"{self.small}/scan_two_pass.csv", pack_rule)
        self.assertNotIn("gil_baseline.csv", pack_rule)
        verdict_rule = text[text.index("verdicts/tree_overhead.tex:"):].split("\n\n")[0]
        self.assertIn("pool_overhead.csv", verdict_rule)
        self.assertIn("$(ROOT)/analysis/claims.py", verdict_rule)
        self.assertIn("GENERATED_FILES :=", text)
        stamp = self.dir / "runs.txt"
        self.assertIn(str(stamp), pack_rule)
        self.assertEqual(stamp.read_text(), f"{self.small}\n")

    def test_rules_name_the_machine_limits_where_the_run_has_them(self):
        older = write_run(self.dir / "raw" / "older", seed=3,
                          experiments=[e for e in EXPERIMENTS if e != "machine_limits"])
        for run, present in ((self.small, True), (older, False)):
            out = self.dir / f"limits-{run.name}.mk"
            self.assertEqual(rules.main(["--raw", str(self.dir / "raw"), "--run", run.name,
                                         "--out", str(out)]), 0)
            text = out.read_text()
            for output in ("tables/grain.tex:", "tables/limits.tex:", "tables/grain_goals.tex:",
                           "figures/grain.pdf:"):
                rule = text[text.index(output):].split("\n\n")[0]
                with self.subTest(run=run.name, output=output):
                    self.assertEqual(f"{run}/machine_limits.csv" in rule, present)
                    if output != "tables/limits.tex:":
                        self.assertIn(f"{run}/reduce_tree_vs_partitioned.csv", rule)
            verdict = text[text.index("verdicts/coarse_grain.tex:"):].split("\n\n")[0]
            for experiment in ("reduce_tree_vs_partitioned", "dot_flop_mop", "scan_two_pass",
                               "pack"):
                self.assertIn(f"{run}/{experiment}.csv", verdict)
            self.assertIn("$(ROOT)/analysis/grain.py", verdict)

    def test_runs_stamp_changes_only_with_the_runs(self):
        out, stamp = self.dir / "stamp" / "rules.mk", self.dir / "stamp" / "runs.txt"
        args = ["--raw", str(self.dir / "raw"), "--out", str(out)]
        self.assertEqual(rules.main([*args, "--run", "small"]), 0)
        first = stamp.stat().st_mtime_ns
        self.assertEqual(rules.main([*args, "--run", "small", "--key", "other"]), 0)
        self.assertEqual(stamp.stat().st_mtime_ns, first)
        self.assertEqual(rules.main([*args, "--run", "small", "--run", "big"]), 0)
        self.assertEqual(stamp.read_text(), f"{self.small}\n{self.big}\n")

    def test_rules_refuse_a_missing_run(self):
        runs_file = self.dir / "REFERENCE_RUNS"
        runs_file.write_text("small\nabsent\n")
        self.assertEqual(rules.main(["--raw", str(self.dir / "raw"), "--runs-file",
                                     str(runs_file), "--out", str(self.dir / "r.mk")]), 2)
        runs_file.write_text("a\nb\nc\n")
        self.assertEqual(rules.main(["--raw", str(self.dir / "raw"), "--runs-file",
                                     str(runs_file), "--out", str(self.dir / "r.mk")]), 2)

    def test_runs_macros_say_whether_the_runs_are_the_reference_runs(self):
        raw = self.dir / "raw"
        (small,) = load_runs([str(self.small)], ())
        small.machine["synthetic"] = False  # as a measured run
        listing, other_listing = self.dir / "listing-small", self.dir / "listing-big"
        listing.write_text("# the reference run\nsmall\n")
        other_listing.write_text("big\n")
        text = tables.runs_macros([small], listing, raw)
        self.assertIn(r"\newcommand{\runsorigin}{Reference run}", text)
        self.assertIn(r"{the committed measurements of the reference runs}", text)
        for listed, raw_dir in ((other_listing, raw), (self.dir / "absent", raw),
                                (listing, self.dir / "elsewhere")):
            with self.subTest(listing=listed.name, raw=raw_dir.name):
                text = tables.runs_macros([small], listed, raw_dir)
                self.assertIn(r"{New run, made on this machine and not committed}", text)
                self.assertIn("a new run made on this machine, not committed", text)
        (big,) = load_runs([str(self.big)], ())
        self.assertIn(r"{Synthetic run (a cost model, not measurements)}",
                      tables.runs_macros([big], other_listing, raw))

    def test_runs_macros_are_rebuilt_when_the_reference_list_changes(self):
        out = self.dir / "reference" / "rules.mk"
        self.assertEqual(rules.main(["--raw", str(self.dir / "raw"), "--run", "small",
                                     "--out", str(out)]), 0)
        text = out.read_text()
        runs_rule = text[text.index("tables/runs.tex:"):].split("\n\n")[0]
        self.assertIn("$(ROOT)/results/REFERENCE_RUNS", runs_rule)
        peers_rule = text[text.index("tables/peers.tex:"):].split("\n\n")[0]
        self.assertNotIn("REFERENCE_RUNS", peers_rule)


if __name__ == "__main__":
    unittest.main()
