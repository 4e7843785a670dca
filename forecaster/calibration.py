"""Conformal prediction intervals: calibrated on validation windows that training never fitted.

The score of a validation window at horizon step h is its absolute error divided by the window's
spread (the mean absolute step-to-step change of the inputs the model saw, in original units,
floored like the model's own window scaling): a scale-free number, so scores pool across series and an interval
scales with the series it is put around. Training keeps, per step, the quantiles of these scores
over every validation window (and per series for series with at least SERIES_MIN_WINDOWS windows);
a forecast at level L then gets `forecast +- q_h(L) * spread` with q_h(L) the split-conformal
quantile: the ceil((n + 1) L)-th smallest of the n scores.

What that promises: if the forecast windows' scores are exchangeable with the validation windows'
(the series behave after training as they did in the validation part), at least L of the actual
values fall inside the L interval, on average over windows and series. It assumes no such thing
per series or per moment: a series whose volatility changes, or a break after training, breaks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from forecaster.errors import ForecasterError

SPREAD_FLOOR = 1e-3  # the smallest window spread, in series-scaler units (the model's window scaling uses it too)

GRID = tuple(np.round(np.arange(0.5, 100.0, 0.5), 1).tolist())  # levels (%) whose score quantiles are kept
# a series gets its own table from this many validation windows on: on M4 Weekly validation, own
# tables for the 45 series with 100 or more windows gave MSIS 24.8 against 24.1 for the pooled table
SERIES_MIN_WINDOWS = 1000


def parse_levels(text: str | None) -> tuple[float, ...]:
    """'80,95' -> (80.0, 95.0), sorted and distinct; each level a percentage strictly between 0 and 100."""
    if text is None or text == "":
        return ()
    levels = []
    for part in str(text).split(","):
        try:
            level = float(part)
        except ValueError:
            raise ForecasterError(f"--level takes percentages such as 80,95; got {part.strip()[:20]!r}") from None
        if not 0 < level < 100 or not np.isfinite(level):
            raise ForecasterError(f"--level {part.strip()[:20]}: a level is a percentage between 0 and 100, e.g. 80,95")
        levels.append(level)
    return tuple(sorted(set(levels)))


def level_name(level: float) -> str:
    """80 -> '80', 97.5 -> '97.5' (the column suffix: lo_80, hi_97.5)."""
    return f"{level:g}"


def window_spreads(
    values: list[np.ndarray], origins: np.ndarray, lookback: int, patch: int, scales: np.ndarray
) -> np.ndarray:
    """The spread of each window in original units: the mean absolute step-to-step change of the
    inputs the model sees before `origins[i]` in the raw target `values[i]` (the last
    min(origin, lookback) points, whole patches), floored at SPREAD_FLOOR series-scaler units.

    The local noise level, not the window's standard deviation: a trend or a season inflates the
    standard deviation without making the next steps less predictable (M4 Weekly validation, 95%:
    MSIS 24.1 and coverage 0.959 with this, 26.3 and 0.937 with the standard deviation).

    values: one 1-D raw target array per window (may repeat); origins, scales: (n,).
    """
    from forecaster.windowing import valid_lengths

    n_valid = valid_lengths(np.asarray(origins), lookback, patch)
    spreads = np.array(
        [np.abs(np.diff(v[o - k : o])).mean() if k > 1 else 0.0 for v, o, k in zip(values, origins, n_valid)]
    )
    return np.maximum(spreads, SPREAD_FLOOR * np.abs(np.asarray(scales, dtype="float64")))


def conformal_quantiles(scores: np.ndarray) -> list[list[float]]:
    """Per step, the split-conformal quantile of `scores` (n, horizon) at every GRID level."""
    n = len(scores)
    ordered = np.sort(scores, axis=0)
    table = []
    for level in GRID:
        rank = int(np.ceil((n + 1) * level / 100.0))  # the finite-sample correction
        table.append(ordered[min(rank, n) - 1] if n else np.full(scores.shape[1], np.nan))
    return np.round(np.asarray(table).T, 6).tolist()  # (horizon, len(GRID))


@dataclass(frozen=True)
class Calibration:
    """Score quantiles per step: pooled over every validation window, and per series with enough."""

    pooled: np.ndarray  # (horizon, len(GRID))
    series: dict[str, np.ndarray]  # series_id -> (horizon, len(GRID))
    windows: int

    @classmethod
    def fit(cls, actual: np.ndarray, forecast: np.ndarray, spreads: np.ndarray, series_ids: list[str]) -> Calibration:
        """From validation windows: actual and forecast (n, horizon), spreads (n,), series_ids (n,)."""
        scores = np.abs(actual - forecast) / spreads[:, None]
        ids = np.asarray(series_ids)
        per_series = {}
        for sid in np.unique(ids):
            rows = ids == sid
            if rows.sum() >= SERIES_MIN_WINDOWS:
                per_series[str(sid)] = np.asarray(conformal_quantiles(scores[rows]))
        return cls(np.asarray(conformal_quantiles(scores)), per_series, len(scores))

    def multiplier(self, series_id: str, level: float) -> np.ndarray:
        """(horizon,) half-widths in spreads at `level` (%), linear between GRID levels."""
        table = self.series.get(series_id, self.pooled)
        grid = np.asarray(GRID)
        return np.array([np.interp(level, grid, row) for row in table])

    def bands(
        self, forecast: np.ndarray, spreads: np.ndarray, series_ids: list[str], levels: tuple[float, ...]
    ) -> dict[str, np.ndarray]:
        """{"lo_80": (n, horizon), "hi_80": ...} around point forecasts (n, horizon) with spreads (n,)."""
        out = {}
        for level in levels:
            half = np.stack([self.multiplier(sid, level) for sid in series_ids]) * spreads[:, None]
            out[f"lo_{level_name(level)}"] = forecast - half
            out[f"hi_{level_name(level)}"] = forecast + half
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "score": "abs(actual - forecast) / window spread",
            "levels": list(GRID),
            "windows": self.windows,
            "pooled": self.pooled.tolist(),
            "series": {sid: table.tolist() for sid, table in self.series.items()},
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any], horizon: int) -> Calibration:
        """Read back, checked: the tables must have the run's shape and hold finite, non-negative numbers."""
        try:
            pooled = np.asarray(raw["pooled"], dtype="float64")
            series = {str(k): np.asarray(v, dtype="float64") for k, v in raw["series"].items()}
            windows = int(raw["windows"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ForecasterError(f"calibration.json: malformed ({exc}); retrain the run") from None
        for table in (pooled, *series.values()):
            if table.shape != (horizon, len(GRID)) or not np.all(np.isfinite(table)) or (table < 0).any():
                raise ForecasterError("calibration.json: tables of the wrong shape or values; retrain the run")
        return cls(pooled, series, windows)
