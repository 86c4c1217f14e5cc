"""The paper's tables, as LaTeX.

    /usr/bin/python3 -m analysis.tables machine   --run RUN [--run ...] --out FILE.tex
    /usr/bin/python3 -m analysis.tables pool_cost --run RUN [--run ...] --out FILE.tex
    /usr/bin/python3 -m analysis.tables scheduler --run RUN [--run ...] --out FILE.tex
    /usr/bin/python3 -m analysis.tables runs      --run RUN [--run ...] --out FILE.tex
    /usr/bin/python3 -m analysis.tables peers     --run RUN [--run ...] --out FILE.tex
    /usr/bin/python3 -m analysis.tables reproduce --run RUN [--run ...] --out FILE.tex
    /usr/bin/python3 -m analysis.tables statements --run RUN [--run ...] --out FILE.tex
    /usr/bin/python3 -m analysis.tables claims    --verdict DERIVED.json [...] --out FILE.tex
"""

import argparse
import json
import math
import sys
from pathlib import Path

from analysis import grain, paths
from analysis import mpi as mpi_analysis
from analysis import mpi_model
from analysis import peers as peer_goals
from analysis import provenance
from analysis import seed_statements
from analysis.claim_support import SYSTEM_NAMES, SYSTEMS
from analysis.claims import CLAIMS_BY_ID
from analysis.classify import (CONDITIONAL, CONFIRMED, INCONCLUSIVE, NOT_MEASURED, REFUTED,
                               STATUSES, code, number, seconds)
from analysis.runs import InputError, load_runs, read_run_list
from analysis.stats import Spread, select
from analysis.texout import GENERATED_HEADER, escape, write_atomic
from analysis.write_verdicts import MARK

SHORT_MARK = {s: m + "short" for s, m in MARK.items()}


def _header(runs):
    return GENERATED_HEADER.format(script="tables.py", inputs=", ".join(r.name for r in runs))


def _bytes(value):
    if not value:
        return "--"
    return f"{value / 2 ** 30:.1f} GiB"


def _size(cache):
    if cache.get("size_bytes"):
        size = int(cache["size_bytes"])
        return f"{size >> 20} MiB" if size >= 1 << 20 else f"{size >> 10} KiB"
    return cache.get("size") or "?"


def _caches(cpu):
    parts = [f"L{cache.get('level')} {_size(cache)}" for cache in cpu.get("caches") or []
             if cache.get("type") != "Instruction"]
    return ", ".join(parts) or "--"


def _vectors(cpu):
    flags = cpu.get("vector_flags") or []
    widest = [f for f in ("avx512f", "avx2", "avx", "sse4_2") if f in flags]
    return widest[0] if widest else "--"


def machine(runs):
    """One row per property, one column per run."""
    def get(run, *keys):
        value = run.machine
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def commits(run):
        """Each commit the run's experiments were measured at, with those experiments: a
        composite run (experiments rerun later with --resume) has several."""
        dirty = (run.machine.get("git") or {}).get("dirty")
        parts = provenance.experiment_commits(run)
        cells = []
        for i, (commit, began, experiments) in enumerate(parts):
            cells.append(f"{commit[:7]}" + (" (uncommitted changes)" if dirty and i == 0 else "")
                         + f", {began:%Y-%m-%d %H:%M}"
                         + (f": {', '.join(experiments)}" if len(parts) > 1 else ": all"))
        return "; ".join(cells)

    def repetitions(run):
        cpp = "interleaved" if run.machine.get("repetitions_interleaved") else "in sequence"
        # Runs made before the CPython scripts interleaved lack the key: theirs ran in sequence.
        cpython = ("interleaved" if run.machine.get("cpython_repetitions_interleaved")
                   else "in sequence")
        return (f"{get(run, 'profile')}, {get(run, 'repetitions')}; C++ {cpp}, "
                f"CPython {cpython}")

    def libraries(run):
        libs = run.machine.get("libraries") or {}
        return "; ".join(f"{k} {v}" for k, v in sorted(libs.items())) or "--"

    def env(run):
        e = run.machine.get("environment") or {}
        return "; ".join(f"{k}={v}" for k, v in sorted(e.items())) or "none set"

    def flags(run):
        b = run.machine.get("build") or {}
        return " ".join(b.get("project_copts") or []) or "--"

    rows = [
        ("Run", lambda r: r.name + (" (SYNTHETIC)" if r.synthetic else "")),
        ("Date", lambda r: get(r, "date")),
        ("Profile, repetitions", repetitions),
        ("CPU", lambda r: get(r, "cpu", "model")),
        ("Logical / physical cores",
         lambda r: f"{get(r, 'cpu', 'logical_cores')} / {get(r, 'cpu', 'physical_cores') or '--'}"),
        ("Caches (as reported)", lambda r: _caches(r.machine.get("cpu", {}))),
        ("Widest vector extension", lambda r: _vectors(r.machine.get("cpu", {}))),
        ("Memory", lambda r: _bytes(get(r, "memory_bytes"))),
        ("Transparent huge pages",
         lambda r: f"{get(r, 'transparent_hugepage', 'enabled')}; "
                   f"shmem {get(r, 'transparent_hugepage', 'shmem_enabled')}"),
        ("Operating system, kernel", lambda r: f"{get(r, 'os')}, {get(r, 'kernel')}"),
        ("Compiler", lambda r: get(r, "compiler")),
        ("Compiler flags", flags),
        ("Libraries", libraries),
        ("Python", lambda r: (get(r, "python") or "--").split("\n")[0]),
        ("Environment", env),
        ("Git commits (experiments measured there)", commits),
    ]
    spec = "@{}>{\\raggedright\\arraybackslash}p{0.2\\linewidth}" + \
        ">{\\raggedright\\arraybackslash}X" * len(runs) + "@{}"
    lines = [_header(runs).rstrip("\n"), rf"\begin{{tabularx}}{{\linewidth}}{{{spec}}}",
             r"\toprule",
             " & ".join(["Property"] + [rf"\textbf{{{r.cores} cores}}" for r in runs]) + r" \\",
             r"\midrule"]
    for name, value in rows:
        cells = []
        for run in runs:
            text = value(run)
            cells.append(r"\footnotesize " + escape("--" if text in (None, "") else text))
        lines.append(" & ".join([name] + cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabularx}"]
    return "\n".join(lines) + "\n"


POOL_BACKENDS = ("serial", "thread", "process", "cpython_process")


def pool_cost(runs):
    """Per backend: apply round trip, and map time per item at chunksize 1 and the largest."""
    columns = []
    for run in runs:
        df = run.data("pool_overhead")
        apply = select(df, variant="apply")
        mapped = select(df, variant="map")
        for backend in POOL_BACKENDS:
            a = select(apply, backend=backend)
            m = select(mapped, backend=backend)
            if a.empty and m.empty:
                continue
            row = {"run": run, "backend": backend}
            if not a.empty:
                row["apply"] = Spread.of(a["seconds"] / a["n"])
            if not m.empty:
                if m["p"].notna().any():
                    ps = set(m["p"].dropna())
                    p = run.cores if run.cores in ps else max(ps)
                    m = select(m, p=p)
                    row["p"] = int(p)
                for name, cs in (("map1", m["chunksize"].min()), ("mapbig", m["chunksize"].max())):
                    rows = select(m, chunksize=cs)
                    row[name] = Spread.of(rows["seconds"] / rows["n"])
                    row[name + "_cs"] = int(cs)
            columns.append(row)
    if not columns:
        raise LookupError("pool_overhead: no apply or map measurement")
    big = sorted({r["mapbig_cs"] for r in columns if "mapbig_cs" in r})
    largest = f"chunk {big[0]}" if len(big) == 1 else "largest chunk"
    lines = [_header(runs).rstrip("\n"), r"\begin{tabular}{@{}llrrrr@{}}", r"\toprule",
             r"Run & Backend & \texttt{apply} & \texttt{map}, chunk 1 & \texttt{map}, "
             + largest + r" & CPython \\",
             r" & & round trip & per item & per item & / this \\", r"\midrule"]
    for run in runs:
        rows = [r for r in columns if r["run"] is run]
        cpython = next((r.get("apply") for r in rows if r["backend"] == "cpython_process"), None)
        for r in rows:
            ratio = "--"
            if cpython and r.get("apply") and r["backend"] in ("process", "thread"):
                ratio = number(cpython.median / r["apply"].median)
            cells = [f"{run.cores} cores", code(r["backend"]) + (
                f" (p\\,=\\,{r['p']})" if "p" in r and r["backend"] != "serial" else "")]
            cells += [seconds(r[k].median) if k in r else "--" for k in ("apply", "map1", "mapbig")]
            cells.append(ratio)
            lines.append(" & ".join(cells) + r" \\")
        lines.append(r"\midrule" if run is not runs[-1] else r"\bottomrule")
    lines.append(r"\end{tabular}")
    return "\n".join(lines) + "\n"


def scheduler(runs):
    """Cost per chunk of the dynamic scheduler, for the cheap function at p = cores and the
    largest n: (time at the smallest chunksize - time at the best) / (chunks at the smallest -
    chunks at the best), the time one more chunk adds to a call, as the caller sees it."""
    lines = [_header(runs).rstrip("\n"), r"\begin{tabular}{@{}llrrrrr@{}}", r"\toprule",
             r"Run & Pool & n & smallest & best & time at best & cost per chunk \\",
             r"\midrule"]
    for run in runs:
        df = select(run.data("map_chunksize"), variant="map", function="cheap", p=run.cores)
        for backend in ("process", "thread", "cpython_process"):
            rows = select(df, backend=backend)
            if rows.empty:
                if backend == "cpython_process":
                    continue
                raise LookupError(f"map_chunksize: no cheap map on {backend} at p={run.cores}")
            n = rows["n"].max()
            medians = select(rows, n=n).groupby("chunksize")["seconds"].median()
            smallest, best = medians.index.min(), medians.idxmin()
            extra_chunks = math.ceil(n / smallest) - math.ceil(n / best)
            per_chunk = ((medians[smallest] - medians[best]) / extra_chunks if extra_chunks
                         else math.nan)
            lines.append(" & ".join([f"{run.cores} cores", code(backend), _size_text(n),
                                     _size_text(smallest), _size_text(best),
                                     seconds(medians[best]), seconds(per_chunk)]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def peers(runs):
    """The primitives' speed goals against their peers (analysis/peers.py), one row per goal.
    A primitive's goals may be judged at different sizes (CPython's word count does not run the
    largest corpus), so each row names its own n."""
    lines = [_header(runs).rstrip("\n"), r"\begin{tabular}{@{}llrlrrrrl@{}}", r"\toprule",
             r"Primitive & Against & $n$ & Reference & process & reference & ratio & limit & met \\",
             r"\midrule"]
    notes = []  # goals over a sweep: the value each was shown at, under the table
    for run in runs:
        if len(runs) > 1:
            lines.append(rf"\multicolumn{{9}}{{@{{}}l}}{{\emph{{{run.cores} cores}}}} \\")
        previous = None
        for r in peer_goals.evaluate(run):
            first = r.primitive != previous
            previous = r.primitive
            label = escape(r.label)
            if r.swept:
                mark = chr(ord("a") + len(notes))
                label += rf"$^{{\mathrm{{{mark}}}}}$"
                notes.append(rf"$^{{\mathrm{{{mark}}}}}$\,{escape(r.primitive)}"
                             + (f" ({run.cores} cores)" if len(runs) > 1 else "")
                             + rf": judged at every value of its sweep, shown at the worst "
                             rf"({escape(r.swept)}).")
            lines.append(" & ".join([
                escape(r.primitive) if first else "", label, _size_text(r.n), code(r.reference),
                seconds(r.process_seconds), seconds(r.reference_seconds),
                number(r.ratio), number(r.limit), "yes" if r.met else r"\textbf{no}"]) + r" \\")
        lines.append(r"\midrule" if run is not runs[-1] else r"\bottomrule")
    lines.append(r"\end{tabular}")
    if notes:
        lines.append(r"\par\smallskip" + r"\\".join(notes))  # one line each
    return "\n".join(lines) + "\n"


def _size_text(value):
    """A power of two as 2^k, a count up to seven digits exactly, a larger one in three
    significant digits (a corpus in bytes)."""
    value = int(value)
    if value >= 1024 and value & (value - 1) == 0:
        return f"$2^{{{value.bit_length() - 1}}}$"
    if value < 10_000_000:
        return f"{value:,}".replace(",", "\\,")
    mantissa, exponent = f"{value:.2e}".split("e")
    return rf"${mantissa}\times10^{{{int(exponent)}}}$"


def _are_reference_runs(runs, reference_runs_file, raw):
    """Whether every run is one of the committed reference runs: listed in `reference_runs_file`
    and read from `raw` (a run of the same name elsewhere is not the committed one)."""
    if not Path(reference_runs_file).is_file():
        return False
    listed = set(read_run_list(reference_runs_file))
    return all(r.name in listed and r.path.resolve().parent == Path(raw).resolve() for r in runs)


def runs_macros(runs, reference_runs_file=paths.REFERENCE_RUNS, raw=paths.RAW):
    """Macros naming the runs the paper was made from and saying what they are (the committed
    reference runs, or a new run of this machine that nobody committed), and a warning for
    synthetic ones."""
    names = ", ".join(escape(r.name) for r in runs)
    cores = " and ".join(f"{r.cores}" for r in runs)
    synthetic = any(r.synthetic for r in runs)
    plural = "s" if len(runs) > 1 else ""
    if synthetic:
        origin = f"Synthetic run{plural} (a cost model, not measurements)"
        measurements = "synthetic data made by a cost model, not measurements"
    elif _are_reference_runs(runs, reference_runs_file, raw):
        origin = f"Reference run{plural}"
        measurements = "the committed measurements of the reference runs"
    else:
        origin = f"New run{plural}, made on this machine and not committed"
        measurements = (f"the measurements of {'new runs' if plural else 'a new run'} made on "
                        f"this machine, not committed")
    lines = [_header(runs).rstrip("\n"),
             rf"\newcommand{{\referenceruns}}{{{names}}}",
             rf"\newcommand{{\runsorigin}}{{{origin}}}",
             rf"\newcommand{{\runsmeasurements}}{{{measurements}}}",
             rf"\newcommand{{\referencecores}}{{{cores}}}",
             rf"\newcommand{{\runcount}}{{{len(runs)}}}",
             rf"\newif\ifsyntheticdata\syntheticdata{'true' if synthetic else 'false'}"]
    return "\n".join(lines) + "\n"


def statements(runs):
    """Every statement of the seed that reads as a claim (analysis/seed_statements.py), with
    the rule that tests it or why none does, and macros counting them."""
    kinds = {seed_statements.CLAIM: "claim", seed_statements.NOTE: "note"}
    count = seed_statements.count
    lines = [_header(runs).rstrip("\n"),
             rf"\newcommand{{\seedstatementcount}}{{{len(seed_statements.STATEMENTS)}}}",
             rf"\newcommand{{\seedclaimcount}}{{{count(seed_statements.CLAIM)}}}",
             rf"\newcommand{{\seednotecount}}{{{count(seed_statements.NOTE)}}}",
             rf"\newcommand{{\seedtestedclaimcount}}{{{count(seed_statements.CLAIM, True)}}}",
             rf"\newcommand{{\seedtestednotecount}}{{{count(seed_statements.NOTE, True)}}}",
             rf"\newcommand{{\seeduntestedclaimcount}}{{{count(seed_statements.CLAIM, False)}}}",
             r"\newcommand{\seedstatementtable}{%",
             r"\begin{longtable}{@{}r>{\raggedright\arraybackslash}p{0.47\linewidth}"
             r">{\raggedright\arraybackslash}p{0.43\linewidth}@{}}",
             r"\toprule",
             r" & The seed's words & Tested by (\S), or why not \\",
             r"\midrule\endhead",
             r"\bottomrule\endfoot"]
    for index, statement in enumerate(seed_statements.STATEMENTS, start=1):
        words = rf"\emph{{{statement.words}}}"
        if statement.kind != seed_statements.CLAIM:
            words += rf" \textsf{{({kinds[statement.kind]})}}"
        if statement.tested_by:
            where = ", ".join(
                rf"\hyperref[claim:{i}]{{\texttt{{{escape(i)}}}}} "
                rf"(\S\ref{{sec:{CLAIMS_BY_ID[i].section}}})" for i in statement.tested_by)
        else:
            where = rf"Not tested. {statement.left_out}"
            if statement.section:
                where += rf" (\S\ref{{sec:{statement.section}}})"
        lines.append(f"{index} & {words} & {where} " + r"\\")
    lines += [r"\end{longtable}}"]
    return "\n".join(lines) + "\n"


def _percent(fraction):
    return f"{100 * fraction:.0f}\\,\\%"


def reproduce(runs):
    """Macros for the section on reproducing the report: how long each run's experiments took,
    how much repetitions of one configuration vary within it (relative IQR), and how much the
    CI baseline's tracked speedups moved between its runs."""
    durations, noises = [], []
    for run in runs:
        spreads = sorted(provenance.relative_iqrs(run))
        median = spreads[len(spreads) // 2]
        ninetieth = spreads[min(len(spreads) - 1, int(0.9 * len(spreads)))]
        minutes = provenance.duration_seconds(run) / 60
        durations.append(f"the experiments of run {escape(run.name)} took {minutes:.0f} minutes")
        noises.append(
            f"over the {len(spreads)} configurations of run {escape(run.name)}, the "
            f"interquartile range of the repetitions is at most {_percent(median)} of their "
            f"median for half of them and at most {_percent(ninetieth)} for nine in ten")
    between, baseline_runs = provenance.baseline_run_spreads()
    between.sort()
    most = max(r.cores for r in runs)
    if len(runs) == 1:
        larger = (f"No machine with more than {most} cores has run these experiments: what "
                  f"this report says about scaling holds up to $p = {most}$, with "
                  f"$p = {2 * most}$ oversubscribing the cores, and no further")
    else:
        larger = (f"The largest machine that has run these experiments has {most} cores: "
                  f"what this report says about scaling holds up to $p = {most}$ and no "
                  f"further")
    commits = len(provenance.experiment_commits(runs[0]))
    lines = [_header(runs).rstrip("\n"),
             rf"\newcommand{{\referencep}}{{{runs[0].cores}}}",
             r"\newcommand{\referencecommitcount}{"
             + ("one commit" if commits == 1 else f"{commits} commits") + "}",
             r"\newcommand{\largermachine}{" + larger + "}",
             r"\newcommand{\runduration}{" + "; ".join(durations) + "}",
             r"\newcommand{\runnoise}{" + "; ".join(noises) + "}",
             rf"\newcommand{{\baselinespeedupcount}}{{{len(between)}}}",
             r"\newcommand{\baselineruncount}{"
             + "/".join(str(r) for r in sorted(baseline_runs)) + "}",
             rf"\newcommand{{\baselinespreadmedian}}{{{_percent(between[len(between) // 2] - 1)}}}",
             rf"\newcommand{{\baselinespreadmax}}{{{_percent(between[-1] - 1)}}}"]
    return "\n".join(lines) + "\n"


def _read_verdicts(verdict_files):
    data = []
    for path in verdict_files:
        try:
            with open(path) as f:
                data.append(json.load(f))
        except (OSError, ValueError) as e:
            raise InputError(f"{path}: unreadable verdict ({e})") from None
    if not data:
        raise InputError("no verdict files given")
    run_names = [r["run"] for r in data[0]["runs"]]
    for path, d in zip(verdict_files, data):
        if [r["run"] for r in d["runs"]] != run_names:
            raise InputError(f"{path}: verdicts of runs {[r['run'] for r in d['runs']]}, not "
                             f"{run_names}: made from other runs")
        if d["claim"] not in CLAIMS_BY_ID:
            raise InputError(f"{path}: claim '{d['claim']}' is not in analysis/claims.py")
    return data


def claims(verdict_files):
    """Every claim with each run's verdict on each system, and a mark where they differ."""
    data = _read_verdicts(verdict_files)
    cores = [r["cores"] for r in data[0]["runs"]]
    many = len(cores) > 1
    header = ["Claim of the seed", r"\S"]
    for c in cores:
        header += [f"CPython{f' ({c})' if many else ''}", f"C++{f' ({c})' if many else ''}",
                   r"$\neq$"]
    # Two runs side by side: six verdict columns, in a smaller type.
    lines = [GENERATED_HEADER.format(script="tables.py", inputs="the verdicts").rstrip("\n"),
             r"{\footnotesize\setlength{\tabcolsep}{3pt}" if many else "{",
             r"\begin{tabular}{@{}>{\raggedright\arraybackslash}p{"
             + ("0.3" if many else "0.5") + r"\linewidth}c"
             + "llc" * len(cores) + "@{}}", r"\toprule", " & ".join(header) + r" \\",
             r"\midrule"]
    for d in data:
        title = CLAIMS_BY_ID[d["claim"]].title
        cells = [rf"\hyperref[claim:{d['claim']}]{{{title}}}", rf"\ref{{sec:{d['section']}}}"]
        for run in d["runs"]:
            cells += [SHORT_MARK[run["systems"][s]["status"]] for s in SYSTEMS]
            cells.append(r"$\neq$" if run["systems_differ"] else "")
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}"]
    return "\n".join(lines) + "\n"


TALLY_WORDS = {CONFIRMED: "confirmed", REFUTED: "refuted",
               CONDITIONAL: "confirmed only under a condition", INCONCLUSIVE: "inconclusive",
               NOT_MEASURED: "not measurable"}


def tally(verdict_files):
    """\\claimtally: a sentence counting the verdicts of each run and system, for the
    abstract."""
    data = _read_verdicts(verdict_files)
    sentences = []
    for i, run in enumerate(data[0]["runs"]):
        for system in SYSTEMS:
            counts = {}
            for d in data:
                status = d["runs"][i]["systems"][system]["status"]
                counts[status] = counts.get(status, 0) + 1
            parts = [f"{counts[s]} {TALLY_WORDS[s]}" for s in STATUSES if counts.get(s)]
            where = f"on {run['cores']} cores, " if len(data[0]["runs"]) > 1 else ""
            sentences.append(f"{where}on {SYSTEM_NAMES[system]} " + ", ".join(parts))
    differ = sum(d["runs"][0]["systems_differ"] for d in data)
    # Two of the tested statements are notes of the seed, not claims (seed_statements.py).
    text = (f"We tested {len(data)} statements of the seed "
            f"({seed_statements.count(seed_statements.CLAIM, True)} of its "
            f"{seed_statements.count(seed_statements.CLAIM)} claims and "
            f"{seed_statements.count(seed_statements.NOTE, True)} of its notes): "
            + "; ".join(sentences) + f"; the two systems' verdicts differ on {differ}.")
    return (GENERATED_HEADER.format(script="tables.py", inputs="the verdicts")
            + rf"\newcommand{{\claimtally}}{{{text}}}" + "\n")


def mpi_results(runs):
    r"""The MPI experiments of the reference run(s) (analysis/mpi.py): the fitted alpha and beta
    of each operation and rank count with their 95 % intervals, and the goals of the distributed
    primitives. Defines \mpiresults: the table, or a sentence saying that the run predates the
    MPI experiments; and the cost model's macros (analysis/mpi_model.py's tex_macros)."""
    run = runs[0]
    if not mpi_analysis.has(run, mpi_analysis.COLLECTIVES):
        text = (rf"The reference run ({escape(run.name)}) predates the MPI experiments "
                r"(\texttt{mpi\_collectives}, \texttt{mpi\_primitives}): no MPI measurements "
                r"are shown.")
        return (_header(runs) + rf"\newcommand{{\mpiresults}}{{{text}}}" + "\n"
                + mpi_model.tex_macros(run))
    fits = mpi_analysis.fits(run)
    lines = [r"\begin{tabular}{@{}lrrrr@{}}", r"\toprule",
             r"Operation & ranks & $\alpha$ (\textmu s) & $1/\beta$ & residual \\", r"\midrule"]
    for f in fits:
        over = r"$^\dagger$" if f.p > run.cores else ""
        alpha = rf"{number(f.alpha * 1e6)} $\pm$ {number(f.alpha_error * 1e6)}"
        if not f.usable:
            alpha += r" \textbf{unusable}"
        lines.append(rf"{escape(f.operation)} & {f.p}{over} & {alpha} & "
                     rf"{f.bandwidth / 1e9:.2f}\,GB/s & {number(100 * f.residual)}\,\% \\")
    lines += [r"\midrule", r"Goal & ranks & $n$ & ratio & limit \\", r"\midrule"]
    for g in mpi_analysis.goals(run) + mpi_analysis.comparisons(run):
        if g.limit is None:
            what = escape(g.primitive) + r" (no goal)"
        elif "bytes" in g.text:
            what = escape(g.primitive) + r": rank 0 sends $\le$ others"
        elif "ping-pong" in g.text:
            what = r"MpiPool apply: $\le 3\times$ the ping-pong"
        else:
            what = escape(g.primitive) + r": within 10\,\% of the pool"
        if g.k is None:
            lines.append(rf"\multicolumn{{5}}{{@{{}}l}}{{{what}: {mpi_analysis.NOT_MEASURED}}} \\")
            continue
        verdict = "" if g.met is not False else r" \textbf{missed}"
        limit = "--" if g.limit is None else number(g.limit)
        lines.append(rf"{what} & {g.k} & {_size_text(g.n)} & {number(g.ratio)}{verdict} & "
                     rf"{limit} \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if any(f.p > run.cores for f in fits):
        lines.append(rf"\par\smallskip$^\dagger$\,more ranks than the run's {run.cores} cores "
                     r"(oversubscribed: the ranks share cores).")
    return (_header(runs) + r"\newcommand{\mpiresults}{%" + "\n" + "\n".join(lines)
            + "}\n" + mpi_model.tex_macros(run, fits))


TABLES = {"machine": (machine, ()), "pool_cost": (pool_cost, ("pool_overhead",)),
          "scheduler": (scheduler, ("map_chunksize",)), "runs": (runs_macros, ()),
          "peers": (peers, peer_goals.EXPERIMENTS), "statements": (statements, ()),
          "reproduce": (reproduce, ()), "mpi": (mpi_results, ()),
          "grain": (grain.grain_table, grain.EXPERIMENTS), "limits": (grain.limits_table, ()),
          "grain_goals": (grain.goals_table, grain.EXPERIMENTS)}

# Files beyond the runs' own that a table reads (paper/Makefile rebuilds it when they change).
TABLE_INPUTS = {"reproduce": (paths.BASELINE_SPEEDUPS,)}

# Experiments a table reads when the run has them (an older run predates them): the table
# depends on their CSVs where they exist.
TABLE_OPTIONAL_EXPERIMENTS = {"mpi": mpi_analysis.EXPERIMENTS + mpi_model.EXPERIMENTS + tuple(
    experiment for experiment, _, _ in mpi_analysis.POOL_REFERENCES.values()),
    **{name: (grain.LIMITS_EXPERIMENT,) for name in ("grain", "limits", "grain_goals")}}

VERDICT_TABLES = {"claims": claims, "tally": tally}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=sorted(TABLES) + sorted(VERDICT_TABLES))
    parser.add_argument("--run", action="append", default=[], help="a run folder")
    parser.add_argument("--verdict", action="append", default=[], help="a verdict JSON")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        if args.name in VERDICT_TABLES:
            text = VERDICT_TABLES[args.name](args.verdict)
        else:
            if not args.run:
                parser.error(f"table {args.name} needs --run")
            make, experiments = TABLES[args.name]
            runs = load_runs(args.run, experiments)
            try:
                text = make(runs)
            except LookupError as e:
                raise InputError(f"{', '.join(str(r.path) for r in runs)}: table {args.name}: "
                                 f"{e}") from None
    except InputError as e:
        print(f"table {args.name}: {e}", file=sys.stderr)
        return 2
    write_atomic(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
