"""The evidence the validation guard decides on: windows spread over each series' whole validation part,
and paired differences between candidates with a standard error over blocks of windows.

Windows close in time share their errors (a cold month is cold for every origin in it), so the guard
neither takes the latest windows only (on one long hourly series that was four days of a year) nor
counts overlapping windows as independent: a difference is clear only against the spread of its
block means (batch means: each series when the panel has MIN_BLOCKS series or more, else stretches
of consecutive windows of each series).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from forecaster.data.windowing import evenly_spaced

MIN_BLOCKS = 10  # blocks a standard error is measured over: series, or stretches of a few series' windows
GOLDEN = (math.sqrt(5) - 1) / 2  # a low-discrepancy step: one window a series, at staggered places in time


def spread_windows(series_idx: np.ndarray, origins: np.ndarray, cost: np.ndarray, budget: float) -> np.ndarray:
    """Rows of the windows the candidates are scored on: `k` windows of each series spread evenly over
    its validation part (its first and its latest window among them), for the largest k whose `cost`
    (statistical fit points per window) stays within `budget`. When one window a series is over it,
    evenly spaced series, as many as fit, one window each, their places in time staggered so that
    together they still span the period.

    series_idx, origins, cost: (windows,). Returns sorted row numbers."""
    own_rows = (np.flatnonzero(series_idx == s) for s in np.unique(series_idx))
    mine = [rows[np.argsort(origins[rows])] for rows in own_rows]
    longest = max(len(rows) for rows in mine)
    chosen: list[int] = []
    for count in range(1, longest + 1):  # cost grows with count; stop at the first over the budget
        rows = [int(r) for own in mine for r in own[evenly_spaced(len(own), count)]]
        if cost[rows].sum() > budget:
            break
        chosen = rows
        if count >= longest:
            break
    if chosen:
        return np.sort(np.asarray(chosen, dtype=int))
    fits = max(1, int(budget // max(float(np.mean([cost[own].mean() for own in mine])), 1.0)))
    picked = evenly_spaced(len(mine), fits)
    staggered = [mine[s][round(((j * GOLDEN) % 1.0) * (len(mine[s]) - 1))] for j, s in enumerate(picked)]
    return np.sort(np.asarray(staggered, dtype=int))


@dataclass(frozen=True)
class Difference:
    """A candidate against the anchor on the same windows: the mean paired difference of their scaled
    errors relative to the anchor's mean (negative: the candidate did better), and its standard error."""

    relative: float
    se: float

    def clearly_below(self, margin: float, z: float) -> bool:
        """More than `margin` below the anchor, and below it by `z` standard errors or more; where the standard
        error is unknown (one block of windows: a short series' one validation window), the margin alone
        (on the 22 one-series M3 validation runs, `benchmarks/guard_study.py --set m3-single`, asking
        standard errors there kept the combination everywhere: held-out MASE 1.952 against 1.941)."""
        if not math.isfinite(self.se):
            return self.relative < -margin
        return self.relative < -margin and self.relative + z * self.se < 0

    def words(self) -> str:
        """'4.1% ± 1.2% below' (one standard error); '4.1% below' where it is unknown."""
        side = "below" if self.relative < 0 else "above"
        if not math.isfinite(self.se):
            return f"{abs(self.relative):.1%} {side}"
        return f"{abs(self.relative):.1%} ± {self.se:.1%} {side}"


def blocks(series_idx: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """(windows,) the block of each window: its series when there are MIN_BLOCKS series or more, else one
    of about MIN_BLOCKS / series stretches of its series' consecutive windows (in time order)."""
    series = np.unique(series_idx)
    if len(series) >= MIN_BLOCKS:
        return np.searchsorted(series, series_idx)
    stretches = math.ceil(MIN_BLOCKS / len(series))
    block = np.empty(len(series_idx), dtype=int)
    for number, s in enumerate(series):
        rows = np.flatnonzero(series_idx == s)
        ranked = rows[np.argsort(origins[rows], kind="stable")]
        block[ranked] = number * stretches + np.arange(len(rows)) * stretches // len(rows)
    return block


def paired_difference(
    candidate: np.ndarray, anchor: np.ndarray, series_idx: np.ndarray, origins: np.ndarray
) -> Difference:
    """`Difference` of one candidate's (windows,) scaled errors against the anchor's on the same windows.

    Every series weighs the same (the guard's scores are means over series of each series' mean); the
    standard error is that of the weighted mean of block means, from their spread (infinite on fewer
    than two blocks: no evidence of a difference)."""
    series = np.unique(series_idx)
    within = np.searchsorted(series, series_idx)
    block = blocks(series_idx, origins)
    difference = candidate - anchor
    weight = 1.0 / (len(series) * np.bincount(within, minlength=len(series))[within])  # a series' windows sum to 1/S
    anchor_mean = float(np.sum(weight * anchor))
    if not anchor_mean > 0:
        return Difference(0.0, math.inf)
    block_ids, at = np.unique(block, return_inverse=True)
    block_weight = np.bincount(at, weights=weight)
    block_mean = np.bincount(at, weights=weight * difference) / block_weight
    mean = float(np.sum(block_weight * block_mean))
    if len(block_ids) < 2:
        return Difference(mean / anchor_mean, math.inf)
    # batch means: the weighted mean's variance from the blocks' spread around it, n/(n-1) corrected
    n = len(block_ids)
    variance = float(np.sum(block_weight**2 * (block_mean - mean) ** 2)) * n / (n - 1)
    return Difference(mean / anchor_mean, math.sqrt(variance) / anchor_mean)
