"""Medians, spreads and speedups of repeated timings.

A speedup is a reference time over a measured time of the same run (usually serial over
parallel). Both sides are repeated; the speedup's distribution is every ratio of a reference
repetition to a measured repetition (k x m values), so its median and interquartile range carry
the noise of both sides. Efficiency is speedup / p.

The claims' rules decide with intervals rather than medians: a percentile bootstrap 95 %
confidence interval of the ratio of two medians (`ratio_interval`), placed against an
equivalence band around the rule's threshold (`Band`): the interval lies above the band, below
it, inside it, or straddles one of its edges, and only the last leaves the question open. The
bootstrap's random numbers come from a fixed seed, so the paper regenerates identically.

`resolve` is the one way the analysis says "this configuration at p = cores and the largest n"
(the CI gate, the speed goals and the claims all use it).
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Spread:
    """Median and quartiles of a sample."""
    median: float
    q1: float
    q3: float
    count: int

    @classmethod
    def of(cls, values):
        values = np.asarray(values, dtype=float)
        if values.size == 0:
            raise ValueError("no values")
        q1, median, q3 = np.percentile(values, [25, 50, 75])
        return cls(float(median), float(q1), float(q3), int(values.size))

    def scaled(self, factor):
        return Spread(self.median * factor, self.q1 * factor, self.q3 * factor, self.count)


def ratios(reference_seconds, measured_seconds):
    """Every reference / measured ratio of two samples of timings."""
    ref = np.asarray(reference_seconds, dtype=float)
    mea = np.asarray(measured_seconds, dtype=float)
    if ref.size == 0 or mea.size == 0:
        raise ValueError("a speedup needs timings on both sides")
    return (ref[:, None] / mea[None, :]).ravel()


def speedup(reference_seconds, measured_seconds):
    return Spread.of(ratios(reference_seconds, measured_seconds))


def select(df, **where):
    """Rows where every column equals the given value (a list or tuple means 'one of')."""
    mask = pd.Series(True, index=df.index)
    for column, value in where.items():
        if isinstance(value, (list, tuple, set, frozenset)):
            mask &= df[column].isin(list(value))
        else:
            mask &= df[column] == value
    return df[mask]


def times(df, description, **where):
    """The timings of one configuration; a missing configuration is an error naming it."""
    rows = select(df, **where)
    if rows.empty:
        shown = ", ".join(f"{k}={v}" for k, v in where.items())
        raise LookupError(f"{description}: no measurement with {shown}")
    return rows["seconds"].to_numpy()


def _grouper(keys):
    keys = list(keys)
    return keys[0] if len(keys) == 1 else keys


def summarize(df, keys):
    """Median and quartiles of seconds per configuration `keys`."""
    rows = []
    for key, group in df.groupby(_grouper(keys), dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        s = Spread.of(group["seconds"])
        rows.append(dict(zip(keys, key), median=s.median, q1=s.q1, q3=s.q3, count=s.count))
    return pd.DataFrame(rows)


def speedups(measured, reference, on, keys):
    """Speedup of each configuration of `measured` (grouped by `keys`) over the rows of
    `reference` that agree with it on the columns `on`.

    Returns one row per configuration: the keys, speedup median/q1/q3, and efficiency (speedup
    median / p) where p is known. A configuration without a reference is an error.
    """
    rows = []
    for key, group in measured.groupby(_grouper(keys), dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        config = dict(zip(keys, key))
        ref = reference
        for column in on:
            ref = ref[ref[column] == config[column]]
        if ref.empty:
            shown = ", ".join(f"{c}={config[c]}" for c in on)
            raise LookupError(f"no reference timing with {shown}")
        s = speedup(ref["seconds"], group["seconds"])
        row = dict(config, speedup=s.median, q1=s.q1, q3=s.q3)
        if "p" in config and pd.notna(config["p"]) and config["p"] > 0:
            row["efficiency"] = s.median / config["p"]
        rows.append(row)
    return pd.DataFrame(rows)


BOOTSTRAP_SEED = 20130502   # the seed document's date: any fixed value makes the paper stable
BOOTSTRAP_RESAMPLES = 4000
CONFIDENCE = 0.95

ABOVE, BELOW, INSIDE, STRADDLES = "above", "below", "inside", "straddles"


@dataclass(frozen=True)
class Band:
    """An equivalence band: values in [low, high] count as "about the threshold"."""
    low: float
    high: float

    def __post_init__(self):
        if not self.low <= self.high:
            raise ValueError(f"band [{self.low}, {self.high}] is empty")

    def __iter__(self):  # low, high = band
        return iter((self.low, self.high))

    @classmethod
    def around(cls, threshold, tolerance):
        """[threshold / (1 + tolerance), threshold * (1 + tolerance)]: ratios are multiplicative."""
        return cls(threshold / (1 + tolerance), threshold * (1 + tolerance))


@dataclass(frozen=True)
class Interval:
    """A ratio's point estimate (ratio of the medians) and its confidence interval."""
    estimate: float
    low: float
    high: float

    def against(self, band):
        """ABOVE or BELOW the band, INSIDE it, or STRADDLES (an edge inside the interval)."""
        if self.low > band.high:
            return ABOVE
        if self.high < band.low:
            return BELOW
        if band.low <= self.low and self.high <= band.high:
            return INSIDE
        return STRADDLES

    def scaled(self, factor):
        return Interval(self.estimate * factor, self.low * factor, self.high * factor)

    def inverted(self):
        return Interval(1 / self.estimate, 1 / self.high, 1 / self.low)


def ratio_interval(reference_values, measured_values, confidence=CONFIDENCE,
                   resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED):
    """median(reference) / median(measured), with a percentile bootstrap interval: both samples
    are resampled with replacement, independently, `resamples` times."""
    ref = np.asarray(reference_values, dtype=float)
    mea = np.asarray(measured_values, dtype=float)
    if ref.size == 0 or mea.size == 0:
        raise ValueError("a ratio needs values on both sides")
    rng = np.random.default_rng(seed)
    ref_medians = np.median(ref[rng.integers(0, ref.size, (resamples, ref.size))], axis=1)
    mea_medians = np.median(mea[rng.integers(0, mea.size, (resamples, mea.size))], axis=1)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(ref_medians / mea_medians, [tail, 100 - tail])
    return Interval(float(np.median(ref) / np.median(mea)), float(low), float(high))


def ratio_of_ratios(numerator, denominator):
    """(a / b) / (c / d) from two pairs of samples, each pair (reference, measured), with the
    same bootstrap (every sample resampled independently)."""
    (a, b), (c, d) = numerator, denominator
    samples = [np.asarray(x, dtype=float) for x in (a, b, c, d)]
    if any(x.size == 0 for x in samples):
        raise ValueError("a ratio needs values on every side")
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    medians = [np.median(x[rng.integers(0, x.size, (BOOTSTRAP_RESAMPLES, x.size))], axis=1)
               for x in samples]
    boot = (medians[0] / medians[1]) / (medians[2] / medians[3])
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.percentile(boot, [tail, 100 - tail])
    point = [float(np.median(x)) for x in samples]
    return Interval((point[0] / point[1]) / (point[2] / point[3]), float(low), float(high))


# Selector values that `resolve` replaces with a value of the run.
CORES, LARGEST, SAME, LOG2N = "cores", "max", "same", "log2n"


def resolve(df, selector, cores, same=None, cores_or_largest=False):
    """The selector with its symbolic values replaced by values of this run:
    CORES: the run's cores (with cores_or_largest, the largest p measured when the rows have no
    p = cores); SAME: same[key] (a reference takes the measured side's value); LARGEST: the
    largest value measured for the rest of the selector; LOG2N: floor(log2 n) of the resolved
    n, as map_chunksize.cc. A selector that matches nothing is a LookupError naming it."""
    fixed = {}
    for key, value in selector.items():
        if value == CORES:
            fixed[key] = cores
        elif value == SAME:
            fixed[key] = same[key]
        elif value not in (LARGEST, LOG2N):
            fixed[key] = value
    for key, value in selector.items():
        if value == CORES and cores_or_largest and select(df, **fixed).empty:
                measured = select(df, **{k: v for k, v in fixed.items() if k != key})[key]
                if measured.notna().any():
                    fixed[key] = int(measured.max())
    for key, value in selector.items():
        if value == LARGEST:
            rows = select(df, **fixed)
            if rows.empty:
                raise LookupError(f"no measurement with {describe(fixed)}")
            value = rows[key].max()
            fixed[key] = value.item() if hasattr(value, "item") else value
    for key, value in selector.items():
        if value == LOG2N:
            fixed[key] = int(math.floor(math.log2(fixed["n"])))
    return fixed


def describe(selector):
    return ", ".join(f"{k}={v}" for k, v in selector.items())
