"""Decides one claim on each reference run, on each system (CPython's multiprocessing and the
C++ pools), and writes the verdicts, as JSON (the numbers) and as a LaTeX block for the paper
(the claim quoted, the rule, each run's two verdicts, and a mark where they differ).

    /usr/bin/python3 -m analysis.write_verdicts CLAIM --run results/raw/RUN [--run ...] \
        --json analysis/generated/derived/CLAIM.json --tex analysis/generated/verdicts/CLAIM.tex
"""

import argparse
import sys

from analysis.claims import CLAIMS_BY_ID, claim as find_claim
from analysis.runs import InputError, load_runs
from analysis.texout import GENERATED_HEADER, write_atomic, write_json
from analysis.claim_support import SYSTEM_NAMES, SYSTEMS
from analysis.classify import CONDITIONAL, CONFIRMED, INCONCLUSIVE, NOT_MEASURED, REFUTED

MARK = {CONFIRMED: r"\verdictconfirmed", REFUTED: r"\verdictrefuted",
        CONDITIONAL: r"\verdictconditional", INCONCLUSIVE: r"\verdictinconclusive",
        NOT_MEASURED: r"\verdictnotmeasured"}


def decide(claim_id, run_paths):
    """[(run, {system: verdict})] for the claim on each run; bad input raises InputError."""
    claim = find_claim(claim_id)
    runs = load_runs(run_paths, claim.experiments if claim.decide else ())
    decided = []
    for run in runs:
        try:
            decided.append((run, claim.verdicts(run)))
        except LookupError as e:
            files = ", ".join(str(run.path / f"{x}.csv") for x in claim.experiments)
            raise InputError(f"{files}: claim {claim_id}: {e}") from None
    return claim, decided


def systems_differ(verdicts):
    return len({v.status for v in verdicts.values() if v.status != NOT_MEASURED}) > 1


def to_json(claim, decided):
    return {"claim": claim.id, "section": claim.section, "figure": claim.figure,
            "runs": [{"run": run.name, "cores": run.cores, "synthetic": run.synthetic,
                      "systems_differ": systems_differ(verdicts),
                      "systems": {s: verdicts[s].to_json() for s in SYSTEMS}}
                     for run, verdicts in decided]}


def to_tex(claim, decided):
    lines = [GENERATED_HEADER.format(script="write_verdicts.py", inputs=", ".join(
        r.name for r, _ in decided)).rstrip("\n")]
    lines.append(rf"\begin{{claimbox}}{{{claim.id}}}")
    lines.append(rf"\claimquote{{{claim.quote}}}")
    lines.append(rf"\claimrule{{{claim.rule}}}")
    if claim.decide is None:  # the same words for every run and system
        verdict = decided[0][1][SYSTEMS[0]]
        lines.append(rf"\claimverdict{{both systems, all runs}}{{{MARK[verdict.status]}}}"
                     rf"{{{verdict.summary}}}")
    for run, verdicts in decided if claim.decide is not None else ():
        cores = f", {run.cores} cores" if len(decided) > 1 else ""
        tag = r" \synthetictag" if run.synthetic else ""
        for system in SYSTEMS:
            v = verdicts[system]
            lines.append(rf"\claimverdict{{{SYSTEM_NAMES[system]}{cores}{tag}}}"
                         rf"{{{MARK[v.status]}}}{{{v.summary}}}")
        if systems_differ(verdicts):
            lines.append(r"\systemsdifferverdict")
    statuses = {tuple(v[s].status for s in SYSTEMS) for _, v in decided}
    if len(decided) > 1 and len(statuses) > 1:
        lines.append(r"\coreschangeverdict")
    if claim.decide is not None:
        lines.append(rf"\claimfigure{{fig:{claim.figure}}}")
    lines.append(r"\end{claimbox}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("claim", choices=sorted(CLAIMS_BY_ID))
    parser.add_argument("--run", action="append", required=True, help="a run folder")
    parser.add_argument("--json", required=True, help="the verdicts as JSON")
    parser.add_argument("--tex", required=True, help="the LaTeX block")
    args = parser.parse_args(argv)
    try:
        claim, decided = decide(args.claim, args.run)
    except InputError as e:
        print(f"verdict {args.claim}: {e}", file=sys.stderr)
        return 2
    write_json(args.json, to_json(claim, decided))
    write_atomic(args.tex, to_tex(claim, decided))
    return 0


if __name__ == "__main__":
    sys.exit(main())
