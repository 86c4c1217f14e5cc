"""Verdicts and the conditions under which a claim holds, computed from cases.

A claim is checked case by case (one case per configuration the rule looks at: a backend, a
size, a worker count...); a case holds, fails, or is undecided (None: its interval straddles the
rule's band). Every decided case holds: confirmed, or inconclusive when some case is undecided.
No decided case holds: refuted (no case at all decided: inconclusive). Otherwise the claim is
confirmed only under a condition, found from the decided cases: one dimension that decides
(for instance "n >= 2^18", or "backend thread"), or one threshold per value of a categorical
dimension ("process: n >= 2^20; thread: n >= 2^16"), or, failing that, the list of cases where
it holds.
"""

import math
from dataclasses import dataclass, field

import pandas as pd

from analysis.texout import escape

CONFIRMED = "confirmed"
REFUTED = "refuted"
CONDITIONAL = "confirmed only if"
INCONCLUSIVE = "inconclusive"
NOT_MEASURED = "not measured"
STATUSES = (CONFIRMED, REFUTED, CONDITIONAL, INCONCLUSIVE, NOT_MEASURED)


@dataclass
class Verdict:
    status: str
    summary: str                 # one or two sentences, LaTeX, with the deciding numbers
    condition: str = None        # LaTeX, for CONDITIONAL
    evidence: list = field(default_factory=list)   # rows (dicts) of the deciding numbers

    def to_json(self):
        return {"status": self.status, "summary": self.summary, "condition": self.condition,
                "evidence": self.evidence}

    @classmethod
    def from_json(cls, data):
        return cls(data["status"], data["summary"], data.get("condition"),
                   data.get("evidence", []))


def power_of_two(value):
    value = int(value)
    if value > 0 and value & (value - 1) == 0:
        return f"$2^{{{value.bit_length() - 1}}}$"
    return f"{value:,}".replace(",", "\\,")


def number(x, digits=3):
    """A number with `digits` significant digits, LaTeX-safe."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "--"
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    if magnitude >= 6 or magnitude < -3:
        mantissa = x / 10 ** magnitude
        return f"${mantissa:.{digits - 1}f}\\times10^{{{magnitude}}}$"
    decimals = max(0, digits - 1 - magnitude)
    return f"{x:,.{decimals}f}".replace(",", "\\,")


def seconds(x):
    """A duration with a unit chosen for it."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("\\textmu s", 1e-6), ("ns", 1e-9)):
        if abs(x) >= scale or unit == "ns":
            return f"{number(x / scale)}\\,{unit}"


def code(name):
    return f"\\texttt{{{str(name).replace('_', chr(92) + '_')}}}"


def value_text(dim, value):
    if dim in ("n", "rows", "cols", "chunksize"):
        return f"{dim}\\,=\\,{power_of_two(value)}"
    if dim in ("p",):
        return f"p\\,=\\,{int(value)}"
    if dim == "keep_pct":
        return f"{int(value)}\\,\\% kept"
    if dim == "contended":
        return "contended" if int(value) else "uncontended"
    if dim == "matrix":
        return f"{value}"
    return code(value)


def _bare(dim, value):
    return power_of_two(value) if dim in ("n", "rows", "cols", "chunksize") else f"{value:g}"


def _dim_name(dim):
    """A dimension's name in running text (LaTeX-safe)."""
    return {"keep_pct": "\\% kept"}.get(dim, escape(dim))


def _threshold(values_yes, values_no, dim):
    """'dim >= x' or 'dim <= x' when the holding values lie above (below) all others."""
    if not values_yes or not values_no:
        return None
    try:
        if min(values_yes) > max(values_no):
            return f"{_dim_name(dim)}\\,$\\geq$\\,{_bare(dim, min(values_yes))}"
        if max(values_yes) < min(values_no):
            return f"{_dim_name(dim)}\\,$\\leq$\\,{_bare(dim, max(values_yes))}"
    except TypeError:
        return None
    return None


def _decided_by(cases, dim):
    """The values of `dim` where every case holds and where none does, if `dim` alone decides."""
    by = cases.groupby(dim)["holds"].agg(["all", "any"])
    if not (by["all"] | ~by["any"]).all():
        return None
    return sorted(by.index[by["all"]]), sorted(by.index[~by["any"]])


def _one_dimension(cases, dim):
    decided = _decided_by(cases, dim)
    if decided is None:
        return None
    yes, no = decided
    if pd.api.types.is_numeric_dtype(cases[dim]) and dim not in ("contended",):
        threshold = _threshold(yes, no, dim)
        if threshold:
            return threshold
    return ", ".join(value_text(dim, v) for v in yes)


def classify(cases, dims):
    """Status and condition from `cases` (a DataFrame with a boolean column 'holds' and the
    columns `dims`, most telling first)."""
    if cases.empty:
        raise LookupError("the rule found no case to check in the data")
    undecided = cases["holds"].isna()
    cases = cases[~undecided]
    if cases.empty:
        return INCONCLUSIVE, None
    holds = cases["holds"].astype(bool)
    if holds.all():
        return (INCONCLUSIVE if undecided.any() else CONFIRMED), None
    if not holds.any():
        return REFUTED, None
    cases = cases.assign(holds=holds)
    for dim in dims:
        condition = _one_dimension(cases, dim)
        if condition:
            return CONDITIONAL, condition
    categorical = [d for d in dims if not pd.api.types.is_numeric_dtype(cases[d])]
    for outer in categorical + [d for d in dims if d not in categorical]:
        for inner in dims:
            if inner == outer:
                continue
            parts = []
            for value, group in cases.groupby(outer):
                if group["holds"].all():
                    parts.append(f"{value_text(outer, value)}: always")
                elif not group["holds"].any():
                    continue
                else:
                    condition = _one_dimension(group, inner)
                    if condition is None:
                        break
                    parts.append(f"{value_text(outer, value)}: {condition}")
            else:
                if parts:
                    return CONDITIONAL, "; ".join(parts)
    holding = cases[cases["holds"]]
    failing = cases[~cases["holds"]]
    shown, word = (holding, "in") if len(holding) <= len(failing) else (failing, "not in")
    listed = ["(" + ", ".join(value_text(d, row[d]) for d in dims) + ")"
              for _, row in shown.head(6).iterrows()]
    more = f" and {len(shown) - 6} more" if len(shown) > 6 else ""
    return CONDITIONAL, (f"in {len(holding)} of {len(cases)} cases, {word} "
                         + "; ".join(listed) + more)
