"""Medians, spreads and speedups of repeated timings.

A speedup is a reference time over a measured time of the same run (usually serial over
parallel). Both sides are repeated; the speedup's distribution is every ratio of a reference
repetition to a measured repetition (k x m values), so its median and interquartile range carry
the noise of both sides. Efficiency is speedup / p.
"""

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
