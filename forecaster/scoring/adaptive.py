"""Bands that keep their promise when the world moves: the conformal table updated by realised errors.

The static table (`forecaster.scoring.calibration`) promises its coverage only while the series behave
as in the validation windows it was made from. A series' band at an origin here also learns from the
series' windows whose actuals were all known by that origin (never its own or a later window's):
- **recalibration**: their scores join the table's, weighted towards the recent (NexCP, Barber et al.
  2023): a score's weight halves with every `half_life` newer windows of the series, and the table
  counts as `prior` windows as old as the first realised one;
- **adaptive conformal inference** (Gibbs and Candès 2021): each nominal level L has a working level
  that moves after every realised window by `gamma` times (the share of its steps that fell outside
  the band it was given - (1 - L)), so that the long-run share outside tracks 1 - L under any shift.

What that promises: over a long run of windows, each series' realised coverage approaches the nominal
one whatever the shift, provided the errors do not change faster than a few windows learn; a single
window or a short run has no such promise. With no realised window, the static band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from forecaster.errors import DamagedRunError
from forecaster.scoring.calibration import GRID, Calibration, conformal_scores, interpolate, level_name

# chosen on validation (`benchmarks/adapt_study.py`, benchmarks/ADAPT.md: the EPF NP and PJM training days with
# --future, calibrated in training on their first three years, adapted over the fourth, every day at midnight):
# of the 36 settings, those whose 80% and 95% coverage on both markets lay within 0.004 of nominal all had
# GAMMA 0.02; among them this one had the lowest 95% MSIS, 0.83 of the static bands' (which covered 0.979 and
# 0.929 at 95%, 0.872 and 0.781 at 80%)
HALF_LIFE = 30.0  # windows of a series: a realised score's weight halves with every this many newer ones
PRIOR = 30.0  # the static table's weight, in windows
GAMMA = 0.02  # how far the working level moves after a realised window (share of a level)
TOP = 99.9  # the highest working level (%): beyond it, the largest score known


@dataclass(frozen=True)
class Adaptation:
    """How bands learn from realised windows (module docstring)."""

    half_life: float = HALF_LIFE
    prior: float = PRIOR
    gamma: float = GAMMA


class Tracker:
    """One series' adapting bands: its realised scores so far and each level's working level.

    tables: key -> (horizon, len(GRID)) the static score quantiles ("": the residual table, "80": a
    quantile run's CQR correction for its 80% interval).
    """

    def __init__(self, tables: dict[str, np.ndarray], levels: tuple[float, ...], adaptation: Adaptation):
        self.tables = tables
        self.adaptation = adaptation
        self.realised: dict[str, list[np.ndarray]] = {key: [] for key in tables}
        self.working = {level: float(level) for level in levels}
        self.windows = 0

    def multiplier(self, level: float, key: str) -> np.ndarray:
        """(horizon,) the band's half-width (or CQR correction) in spreads at `level` (%) now."""
        working = min(max(self.working[level], GRID[0]), 100.0)
        table = self.tables[key]
        if not self.windows:
            return interpolate(table, min(working, TOP))
        realised = np.asarray(self.realised[key])  # (windows, horizon), oldest first
        ages = np.arange(len(realised))[::-1]
        decay = 0.5 ** (1.0 / self.adaptation.half_life)
        static_weight = self.adaptation.prior * decay ** len(realised) / table.shape[1]
        values = np.concatenate([table.T, realised])  # (len(GRID) + windows, horizon)
        weights = np.concatenate([np.full(table.shape[1], static_weight), decay**ages])
        return weighted_quantile(values, weights, min(working, TOP) / 100.0)

    def learn(self, scores: dict[str, np.ndarray], inside: dict[float, float]) -> None:
        """A window's actuals are known: its scores (key -> (horizon,)) join, and each level's working level
        moves by how the band it was given did (`inside`: level -> share of its steps inside)."""
        for key, values in scores.items():
            self.realised[key].append(np.asarray(values, dtype="float64"))
        for level, share in inside.items():
            if np.isfinite(share):
                self.working[level] += 100.0 * self.adaptation.gamma * (level / 100.0 - share)
        self.windows += 1


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> np.ndarray:
    """Per column of `values` (n, horizon), the smallest value whose share of `weights` (n,) at or below it is at
    least `q`; NaN values carry no weight."""
    out = np.empty(values.shape[1])
    for step in range(values.shape[1]):
        column = values[:, step]
        known = np.isfinite(column)
        order = np.argsort(column[known], kind="stable")
        cumulative = np.cumsum(weights[known][order])
        at = min(int(np.searchsorted(cumulative, q * cumulative[-1] - 1e-12)), len(order) - 1)
        out[step] = column[known][order][at]
    return out


@dataclass(frozen=True)
class Windows:
    """Forecast windows of a panel: `actual` and `forecast` (windows, horizon; an actual NaN where it is not
    known), each window's `spreads`, `series` and `origins` (windows,), and a quantile run's own `quantiles`
    (windows, horizon, levels) at `quantile_levels`."""

    actual: np.ndarray
    forecast: np.ndarray
    spreads: np.ndarray
    series: np.ndarray
    origins: np.ndarray
    quantiles: np.ndarray | None = None
    quantile_levels: tuple[float, ...] = ()


@dataclass(frozen=True)
class Realised:
    """Served windows whose actuals are known, by series id, oldest first within a series: what a run's bands
    learnt before the run itself was made. `forecaster update` carries them from the run it updates (the parent's
    own, then its windows after training), so that the bands do not start over at every update. `actual`,
    `forecast` (windows, horizon), `spreads` (windows,) as `Windows` holds them; a quantile run's `quantiles`."""

    series: np.ndarray  # (windows,) series ids
    actual: np.ndarray
    forecast: np.ndarray
    spreads: np.ndarray
    quantiles: np.ndarray | None = None

    @classmethod
    def of(cls, windows: Windows, ids: Sequence[str]) -> Realised:
        """`windows` (actuals known), their series named by `ids` (series position -> id), oldest first."""
        order = np.lexsort((windows.origins, windows.series))
        quantiles = None if windows.quantiles is None else windows.quantiles[order]
        named = np.array([ids[s] for s in windows.series[order]], dtype=str)
        return cls(named, windows.actual[order], windows.forecast[order], windows.spreads[order], quantiles)

    def then(self, newer: Realised) -> Realised:
        """These windows, then the `newer` ones."""
        quantiles = None
        if self.quantiles is not None and newer.quantiles is not None:
            quantiles = np.concatenate([self.quantiles, newer.quantiles])
        return Realised(
            np.concatenate([self.series, newer.series]),
            np.concatenate([self.actual, newer.actual]),
            np.concatenate([self.forecast, newer.forecast]),
            np.concatenate([self.spreads, newer.spreads]),
            quantiles,
        )

    def newest(self, per_series: int) -> Realised:
        """The newest `per_series` windows of each series."""
        keep = np.zeros(len(self.series), dtype=bool)
        for sid in np.unique(self.series):
            keep[np.flatnonzero(self.series == sid)[-per_series:]] = True
        return self.rows(keep)

    def rows(self, keep: np.ndarray) -> Realised:
        """The windows where `keep` (windows,) is True."""
        quantiles = None if self.quantiles is None else self.quantiles[keep]
        return Realised(self.series[keep], self.actual[keep], self.forecast[keep], self.spreads[keep], quantiles)

    def before(self, windows: Windows, ids: Sequence[str]) -> tuple[Windows, int]:
        """`windows` with these windows of the same series (`ids`: series position -> id) put first, each
        series' learnt before its first window of `windows`; and how many were put first."""
        if windows.quantiles is not None and self.quantiles is None:  # no quantiles to learn the CQR from
            return windows, 0
        firsts = {ids[s]: (s, int(windows.origins[windows.series == s].min())) for s in np.unique(windows.series)}
        keep = np.isin(self.series, list(firsts))
        carried = self.rows(keep)
        if not keep.any():
            return windows, 0
        horizon = windows.actual.shape[1]
        positions, origins = np.empty(len(carried.series), dtype=int), np.empty(len(carried.series), dtype=int)
        for sid, (position, first) in firsts.items():
            rows = np.flatnonzero(carried.series == sid)
            positions[rows] = position
            origins[rows] = first - horizon * np.arange(len(rows), 0, -1)  # each one known before the next
        quantiles = None
        if windows.quantiles is not None and carried.quantiles is not None:
            quantiles = np.concatenate([carried.quantiles, windows.quantiles])
        joined = Windows(
            np.concatenate([carried.actual, windows.actual]),
            np.concatenate([carried.forecast, windows.forecast]),
            np.concatenate([carried.spreads, windows.spreads]),
            np.concatenate([positions, windows.series]),
            np.concatenate([origins, windows.origins]),
            quantiles,
            windows.quantile_levels,
        )
        return joined, len(carried.series)

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {"series": self.series, "actual": self.actual, "forecast": self.forecast}
        arrays["spreads"] = self.spreads
        if self.quantiles is not None:
            arrays["quantiles"] = self.quantiles
        with open(path, "wb") as file:  # an open file: numpy adds no suffix to it
            np.savez_compressed(file, **arrays)

    @classmethod
    def load(cls, path: Path, horizon: int, n_quantiles: int) -> Realised:
        """Read back, checked: as many windows in every array, `horizon` steps each, finite forecasts and
        spreads, positive spreads, actuals finite or NaN (a gap); `n_quantiles` columns of a quantile run's."""
        try:
            with np.load(path, allow_pickle=False) as raw:
                arrays = {name: raw[name] for name in raw.files}
            found = cls(
                np.asarray(arrays["series"]).astype(str),
                np.asarray(arrays["actual"], dtype="float64"),
                np.asarray(arrays["forecast"], dtype="float64"),
                np.asarray(arrays["spreads"], dtype="float64"),
                None if "quantiles" not in arrays else np.asarray(arrays["quantiles"], dtype="float64"),
            )
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise DamagedRunError(f"{path}: corrupt ({str(exc)[:80]}); retrain the run") from None
        n = len(found.series)
        shapes_ok = (
            found.series.ndim == 1
            and found.actual.shape == found.forecast.shape == (n, horizon)
            and found.spreads.shape == (n,)
            and (found.quantiles is None) == (n_quantiles == 0)
            and (found.quantiles is None or found.quantiles.shape == (n, horizon, n_quantiles))
        )
        values_ok = shapes_ok and (
            np.isfinite(found.forecast).all()
            and (np.isfinite(found.spreads) & (found.spreads > 0)).all()
            and not np.isinf(found.actual).any()
            and (found.quantiles is None or np.isfinite(found.quantiles).all())
        )
        if not values_ok:
            raise DamagedRunError(f"{path}: windows of the wrong shape or values; retrain the run")
        return found


def adapted_multipliers(
    calibration: Calibration, windows: Windows, levels: tuple[float, ...], adaptation: Adaptation | None = None
) -> dict[float, np.ndarray]:
    """level -> (windows, horizon): each window's half-width (or CQR correction) in spreads, learnt from its
    series' earlier windows whose actuals were all known at its origin (`Tracker`), in origin order. A window
    whose actual is NaN everywhere (the forecast origin itself) learns nothing; give it last to have the band
    after every known window.
    """
    adaptation = adaptation or Adaptation()
    origins, horizon = windows.origins, windows.actual.shape[1]
    tables = {"": calibration.pooled, **calibration.pairs}
    own = windows.quantiles is not None
    keys = {level: key_of(calibration, level, own, windows.quantile_levels) for level in levels}
    out = {level: np.empty((len(origins), horizon)) for level in levels}
    for series in np.unique(windows.series):
        rows = np.flatnonzero(windows.series == series)
        rows = rows[np.argsort(origins[rows], kind="stable")]
        tracker, pending = Tracker(tables, levels, adaptation), list[int]()
        for row in rows.tolist():
            while pending and origins[pending[0]] + horizon <= origins[row]:
                known = pending.pop(0)
                tracker.learn(*realised(calibration, known, windows, {level: out[level][known] for level in levels}))
            for level in levels:
                out[level][row] = tracker.multiplier(level, keys[level])
            pending.append(row)
    return out


def key_of(calibration: Calibration, level: float, has_quantiles: bool, quantile_levels: tuple[float, ...]) -> str:
    """Which table the band at `level` comes from: a quantile run's own central interval (CQR) or the residuals'."""
    if not has_quantiles:
        return ""
    _, _, correction = calibration.plan(level, quantile_levels)
    return level_name(level) if correction is not None else ""


def realised(
    calibration: Calibration, row: int, windows: Windows, given: dict[float, np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[float, float]]:
    """What window `row` teaches once its actuals are known: its scores (table -> (horizon,)), and the share of
    its known steps inside the band it was `given` at each level (level -> (horizon,) multipliers; NaN: none)."""
    one = slice(row, row + 1)
    actual, forecast, spreads = windows.actual, windows.forecast, windows.spreads
    quantile_levels = windows.quantile_levels
    own = None if windows.quantiles is None else windows.quantiles[one]
    scores = conformal_scores(actual[one], forecast[one], spreads[one], own, quantile_levels)
    multipliers = {level: values[None] for level, values in given.items()}
    bands = calibration.bands(forecast[one], spreads[one], tuple(given), own, quantile_levels, multipliers)
    known = np.isfinite(actual[row])
    inside = {}
    for level in given:
        name = level_name(level)
        held = (actual[row] >= bands[f"lo_{name}"][0]) & (actual[row] <= bands[f"hi_{name}"][0])
        inside[level] = float(held[known].mean()) if known.any() else float("nan")
    return {key: values[0] for key, values in scores.items() if key in calibration.pairs or not key}, inside


def band_factors(
    calibration: Calibration,
    actual: np.ndarray,
    forecast: np.ndarray,
    spreads: np.ndarray,
    levels: tuple[float, ...],
    adaptation: Adaptation | None = None,
) -> dict[float, np.ndarray]:
    """For one series, level -> (horizon,) how much wider (over 1) or narrower its next band is than the
    static one, after its realised windows: `actual`, `forecast` (windows, horizon), oldest first, each known
    before the next forecast; `spreads` (windows,) as `Calibration.spreads` measures them. An exported
    artifact's residual band adapts by multiplying its half-widths (hi - forecast, forecast - lo) by these."""
    windows, horizon = actual.shape
    origins = np.arange(windows + 1) * horizon
    realised_windows = Windows(
        np.concatenate([actual, np.full((1, horizon), np.nan)]),
        np.concatenate([forecast, np.zeros((1, horizon))]),
        np.concatenate([spreads, [1.0]]),
        np.zeros(windows + 1, dtype=int),
        origins,
    )
    multipliers = adapted_multipliers(calibration, realised_windows, levels, adaptation)
    widest = np.zeros(horizon)  # nested by level: a higher level's half-width is never below a lower one's
    factors = {}
    for level in sorted(levels):
        widest = np.maximum(widest, multipliers[level][-1])
        factors[level] = widest / np.maximum(calibration.multiplier(level), 1e-12)
    return factors
