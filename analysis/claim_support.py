"""What the claims' rules share: the two systems a claim is judged on, the thresholds and their
equivalence bands, the tests of an interval against a band, and `verdicts`, which turns a rule's
cases into one Verdict per system.

A claim of the seed is judged twice: on the seed's own system (CPython's multiprocessing, the
backends cpython_*) and on ours (the C++ pools and the C++ peers). A case is one configuration
the rule looks at; its `holds` is True, False, or None when the interval cannot decide (it
straddles an edge of the band, or lies inside a threshold's band).
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from analysis.classify import (INCONCLUSIVE, NOT_MEASURED, REFUTED, Verdict, classify, number,
                               power_of_two, value_text)
from analysis.stats import (ABOVE, BELOW, INSIDE, Band, Interval, ratio_interval, select,
                            times)

CPYTHON, OURS = "cpython", "ours"
SYSTEMS = (CPYTHON, OURS)
SYSTEM_NAMES = {CPYTHON: "CPython", OURS: "C++"}

# Thresholds (the paper quotes them) and the equivalence band that goes with each.
TOLERANCE = 0.05          # a ratio within 5 % of a threshold is "at" the threshold
EQUIVALENT = Band.around(1.0, TOLERANCE)   # two times (or speedups) within 5 %: the same
NO_GAIN = 1.1             # a speedup below this is no multicore gain
USEFUL_EFFICIENCY = 0.5   # speedup / p at p = cores that counts as scaling
WITHIN_BEST = 0.10        # "a good chunk size": at most 10 % slower than the best one
# "A coarser grain": the process pool's n_eff at least this many times OpenMP's. The full
# profile measures every power of two, so a factor 2 is one step of the sweep.
COARSER_GRAIN = 2.0
ABOUT_HALF = Band(0.4, 0.6)        # "about a factor of two worse"
WORK_FACTOR_TWO = Band(1.7, 2.3)   # "a factor of 2 more work"
SIGNIFICANT = 1.1         # "significant speedup"
EXPLAINS = Band(0.5, 2.0)  # a cost model "explains" a time within a factor 2
COSTLIER = 1.1            # "costs more": locked / raw


def system_of(backend):
    return CPYTHON if str(backend).startswith("cpython") else OURS


def serial_backend(backend):
    """The serial code a backend's speedup is measured against: CPython's for CPython."""
    return "cpython_serial" if str(backend).startswith("cpython") else "serial"


# Tests of an interval against a band: True, False, or None (the data cannot decide).

def above(interval, band):
    """Above a threshold's band; inside it or straddling it leaves the question open."""
    return {ABOVE: True, BELOW: False}.get(interval.against(band))


def below(interval, band):
    return {BELOW: True, ABOVE: False}.get(interval.against(band))


def within(interval, band):
    """Inside the band (the claim names a range); straddling an edge leaves it open."""
    return {INSIDE: True, ABOVE: False, BELOW: False}.get(interval.against(band))


def beats(interval):
    """A ratio above 1 beyond the equivalence band; inside it means "the same": no."""
    return {ABOVE: True, INSIDE: False, BELOW: False}.get(interval.against(EQUIVALENT))


def no_worse(interval):
    """A ratio not below 1 beyond the equivalence band (at least about as good)."""
    return {ABOVE: True, INSIDE: True, BELOW: False}.get(interval.against(EQUIVALENT))


def both(*outcomes):
    """All hold: True; any fails: False; else undecided."""
    if any(o is False for o in outcomes):
        return False
    return True if all(o is True for o in outcomes) else None


def exact(value):
    """A deterministic number as an interval of width zero."""
    return Interval(float(value), float(value), float(value))


def interval_text(estimate, low, high):
    """'1.57 [1.41, 1.73]': a ratio and its 95 % interval."""
    return f"{number(estimate)} [{number(low)}, {number(high)}]"


def speedup_interval(df, what, reference, measured):
    """reference time / measured time: median ratio and its 95 % bootstrap interval."""
    return ratio_interval(times(df, what, **reference), times(df, what, **measured))


def require_pools(df, experiment, variant, pools=("process", "thread")):
    for backend in pools:
        if select(df, variant=variant, backend=backend).empty:
            raise LookupError(f"{experiment}: no '{variant}' measurement on the {backend} pool")


def backends_of(df, experiment, variant, pools=("process", "thread"),
                optional=("cpython_process",)):
    """The C++ pools (required) and the optional backends that measured `variant`."""
    require_pools(df, experiment, variant, pools)
    return list(pools) + [b for b in optional
                          if not select(df, variant=variant, backend=b).empty]


# Speedups above p, flagged with the reason the data gives.

def superlinear_note(cases, cache_bytes=None, bytes_per_element=None,
                     size=lambda n: f"n\\,=\\,{power_of_two(n)}"):
    """A sentence for every case whose speedup (median ratio) exceeds p (columns speedup, low,
    high, p, n; optional p1_speedup: the serial time over the pool's own time on one worker),
    with the reasons the data give: the interval reaching down to p (noise), the serial
    reference slower than the pool on one worker, each worker's piece fitting a cache that the
    whole input does not."""
    if cases.empty or "low" not in cases:
        return ""
    notes = []
    for row in cases[cases["speedup"] > cases["p"]].itertuples():
        where = (f"{number(row.speedup)} [{number(row.low)}, {number(row.high)}] at "
                 f"p\\,=\\,{int(row.p)}, {size(row.n)}"
                 + (f", {value_text('backend', row.backend)}" if "backend" in cases else ""))
        reasons = []
        if row.low <= row.p:
            reasons.append("the interval reaches down to p, so noise can explain it")
        p1 = getattr(row, "p1_speedup", None)
        if p1 is not None and not np.isnan(p1) and p1 > 1 + TOLERANCE:
            reasons.append(f"the serial code is slower than the pool on one worker (speedup "
                           f"{number(p1)} at p\\,=\\,1): over its own one-worker time the "
                           f"pool gains {number(row.speedup / p1)}")
        if cache_bytes and bytes_per_element:
            total = row.n * bytes_per_element
            piece = total / row.p
            fits = [level for level, size in cache_bytes if piece <= size < total]
            shared = [level for level, size in cache_bytes if total <= size]
            if fits:
                reasons.append(f"each worker's piece ({number(piece / 2**20)}\\,MiB) fits in "
                               f"its L{fits[0]} cache and the whole input "
                               f"({number(total / 2**20)}\\,MiB) does not")
            elif shared:
                reasons.append(f"the whole input ({number(total / 2**20)}\\,MiB) fits in the "
                               f"L{shared[0]} cache for both runs, so no cache level explains "
                               f"it; one core alone draws less bandwidth from that cache than "
                               f"two together, which this run does not isolate")
        if not reasons:
            reasons.append("the data show no cause")
        notes.append(f"{where}: " + "; ".join(reasons))
    if not notes:
        return ""
    return (" \\textbf{Speedup above p:} " + ". ".join(notes[:3])
            + (f". And {len(notes) - 3} more" if len(notes) > 3 else "") + ".")


def cache_sizes(run):
    """[(level, bytes)] of the run's data and unified caches, smallest first."""
    sizes = []
    for cache in run.machine.get("cpu", {}).get("caches", []):
        if cache.get("type") == "Instruction":
            continue
        text = str(cache.get("size", ""))
        scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
        try:
            sizes.append((str(cache["level"]), int(text.rstrip("KMG")) * scale))
        except (KeyError, ValueError):
            continue
    return sorted(sizes, key=lambda s: s[1])


# From cases to verdicts.

def _status_text(status, condition):
    if condition is None:
        return ""
    if condition.startswith("in "):  # a list of cases, not a condition
        return f" It holds {condition}."
    return f" It holds only for {condition}."


def _undecided_text(cases, dims):
    open_cases = cases[cases["holds"].isna()]
    if open_cases.empty:
        return ""
    listed = ["(" + ", ".join(value_text(d, row[d]) for d in dims) + ")"
              for _, row in open_cases.head(4).iterrows()]
    more = f" and {len(open_cases) - 4} more" if len(open_cases) > 4 else ""
    return (f" The intervals cannot decide {len(open_cases)} of {len(cases)} cases (they "
            f"straddle the band): " + "; ".join(listed) + more + ".")


def _evidence(cases, columns):
    def plain(value):
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and np.isnan(value):
            return None
        return value
    return [{c: plain(row[c]) for c in columns if c in cases} for _, row in cases.iterrows()]


def verdicts(rows, dims, summarize, evidence, why_not):
    """{system: Verdict} from a rule's cases (dicts with the columns `dims`, `holds`, and
    `backend` or `system`). summarize(cases) writes the numbers (LaTeX); `evidence` names the
    columns kept in the JSON; `why_not` says how a case fails the rule, for a refuted verdict.
    A run without CPython cases for the rule (its references are optional) gets "not measured
    on CPython" with that reason; a run without C++ cases is an error."""
    cases = pd.DataFrame(rows)
    if cases.empty:
        raise LookupError("the rule found no case to check in the data")
    if "system" not in cases:
        cases["system"] = cases["backend"].map(system_of)
    cases["holds"] = cases["holds"].astype(object).where(cases["holds"].notna(), None)
    decided = {}
    for system in SYSTEMS:
        mine = cases[cases["system"] == system].reset_index(drop=True)
        if mine.empty and system == CPYTHON:  # the CPython references are optional
            decided[system] = Verdict(NOT_MEASURED, "Not measured on CPython: this run has "
                                                    "no CPython measurement for the rule.")
            continue
        if mine.empty:
            raise LookupError(f"no case on {SYSTEM_NAMES[system]} (backends "
                              f"{', '.join(sorted(set(cases['backend'])))})")
        status, condition = classify(mine, dims)
        text = summarize(mine) + _status_text(status, condition) + _undecided_text(mine, dims)
        if status == REFUTED:
            text += f" Refuted: in every case the data decide, {why_not}."
        elif status == INCONCLUSIVE:
            text += " Inconclusive: no case fails, but not every case can be decided."
        decided[system] = Verdict(status, text, condition, _evidence(mine, evidence))
    return decided


@dataclass(frozen=True)
class Claim:
    id: str
    section: str
    title: str       # a few words for the summary table (LaTeX)
    quote: str       # the seed's words (LaTeX)
    rule: str        # how the data decides (LaTeX)
    experiments: tuple
    figure: str
    decide: Callable = None           # run -> {system: Verdict}
    not_measured_because: str = None  # for a claim no measurement decides

    def verdicts(self, run):
        if self.decide is None:
            return {s: Verdict(NOT_MEASURED, self.not_measured_because) for s in SYSTEMS}
        return self.decide(run)
