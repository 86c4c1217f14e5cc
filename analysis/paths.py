"""Every path the analysis, the paper and the CI gate use, in one place.

Scripts take their inputs and outputs as explicit arguments; the defaults and the Make rules
come from here, so a folder is never searched for whatever happens to lie in it.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RESULTS = ROOT / "results"
RAW = RESULTS / "raw"                          # results/raw/<run>/, one folder per run
REFERENCE_RUNS = RESULTS / "REFERENCE_RUNS"    # the runs the paper uses, one name per line
BASELINE = RESULTS / "baseline"                # the speedups CI expects
BASELINE_SPEEDUPS = BASELINE / "speedups.csv"
BASELINE_MACHINE = BASELINE / "machine.json"
CI = RESULTS / "ci"                            # git-ignored: CI's runs and gate reports

ANALYSIS = ROOT / "analysis"
GENERATED = ANALYSIS / "generated"             # git-ignored: everything below is rebuilt
DERIVED = GENERATED / "derived"                # verdicts as JSON (numbers, before LaTeX)
FIGURES = GENERATED / "figures"
TABLES = GENERATED / "tables"
VERDICTS = GENERATED / "verdicts"
MAKE_RULES = GENERATED / "rules.mk"

PAPER = ROOT / "paper"
PAPER_BUILD = PAPER / "build"

# Files of one run (docs/experiments.md).
MACHINE_FILE = "machine.json"
RUN_FILE = "run.json"


def run_dir(run, raw=RAW):
    return Path(raw) / run


def experiment_csv(run_path, experiment):
    return Path(run_path) / f"{experiment}.csv"


def experiment_json(run_path, experiment):
    return Path(run_path) / f"{experiment}.json"


def machine_json(run_path):
    return Path(run_path) / MACHINE_FILE


def run_json(run_path):
    return Path(run_path) / RUN_FILE


def figure_pdf(name):
    return FIGURES / f"{name}.pdf"


def table_tex(name):
    return TABLES / f"{name}.tex"


def verdict_tex(claim_id):
    return VERDICTS / f"{claim_id}.tex"


def verdict_json(claim_id):
    return DERIVED / f"{claim_id}.json"
