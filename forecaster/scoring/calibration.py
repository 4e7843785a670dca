"""Conformal prediction intervals: calibrated on validation windows that training never fitted.

The calibration windows are each series' most recent validation windows: its last `horizon` origins
(`forecaster.scoring.validation.calibration_windows`), more for a panel of few series so that about
CALIBRATION_MIN_WINDOWS pool. The score of a window at horizon step h is its absolute error divided
by the window's spread (the mean absolute step-to-step change of the inputs the model saw, in
original units, floored like the model's own window scaling): a scale-free number, so scores pool
across series and an interval scales with the series it is put around. Training keeps, per step,
the quantiles of these scores over the calibration windows of every series; a forecast at level L
then gets `forecast +- q_h(L) * spread` with q_h(L) the split-conformal quantile: the
ceil((n + 1) L)-th smallest of the n scores.

What that promises: if the forecast windows' scores are exchangeable with the calibration windows'
(the series behave after training as they did in the validation part), at least L of the actual
values fall inside the L interval, on average over windows and series. It assumes no such thing
per series or per moment: a series whose volatility changes, or a break after training, breaks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from forecaster.data.spread import SPREAD_FLOOR
from forecaster.errors import ForecasterError

GRID = tuple(np.round(np.arange(0.5, 100.0, 0.5), 1).tolist())  # levels (%) whose score quantiles are kept
# a panel of few series calibrates on more than `horizon` windows a series, so that about this many
# pool. Calibrating on the last `horizon` validation windows of each series rather than on all, on
# validation splits (`benchmarks/m4.py --split validation --level 95`): M4 Weekly 95% coverage 0.949,
# MSIS 23.36 against 0.959, 24.07; the 960-hour ETTh1 pieces 0.929, 10.83 against 0.915, 10.81. The
# windows nearest the forecast origin behave most like it; every series counts about the same.
# One table pooled over the panel: on M4 Weekly validation, tables of their own for the 45 series with
# 100 or more validation windows gave MSIS 24.8 against 24.1 pooled.
CALIBRATION_MIN_WINDOWS = 1000


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
        if level < 1:
            raise ForecasterError(
                f"--level {part.strip()[:20]}: levels are percentages, so this asks for a {level:g}% interval; "
                f"for {100 * level:g}% write {100 * level:g}"
            )
        if level > GRID[-1]:
            raise ForecasterError(
                f"--level {part.strip()[:20]}: the calibration keeps levels up to {GRID[-1]:g}% (in steps of 0.5); "
                "a finer tail cannot be told from the validation errors"
            )
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
    from forecaster.data.windowing import valid_lengths

    n_valid = valid_lengths(np.asarray(origins), lookback, patch)
    spreads = np.array(
        [np.abs(np.diff(v[o - k : o])).mean() if k > 1 else 0.0 for v, o, k in zip(values, origins, n_valid)]
    )
    return np.maximum(spreads, SPREAD_FLOOR * np.abs(np.asarray(scales, dtype="float64")))


def interpolate(table: np.ndarray, level: float) -> np.ndarray:
    """(horizon,) values of a (horizon, len(GRID)) table at `level` (%), linear between GRID levels."""
    grid = np.asarray(GRID)
    return np.array([np.interp(level, grid, row) for row in table])


def conformal_quantiles(scores: np.ndarray) -> list[list[float]]:
    """Per step, the split-conformal quantile of `scores` (n, horizon) at every GRID level."""
    n = len(scores)
    ordered = np.sort(scores, axis=0)
    table = []
    for level in GRID:
        rank = int(np.ceil((n + 1) * level / 100.0))  # the finite-sample correction
        table.append(ordered[min(rank, n) - 1] if n else np.full(scores.shape[1], np.nan))
    return np.round(np.asarray(table).T, 6).tolist()  # (horizon, len(GRID))


def central_pairs(quantile_levels: tuple[float, ...]) -> dict[str, tuple[int, int]]:
    """A quantile run's central intervals by level name: (0.1, 0.5, 0.9) -> {"80": (0, 2)}."""
    q = list(quantile_levels)
    return {level_name(round(100 * (q[-1 - i] - q[i]), 6)): (i, len(q) - 1 - i) for i in range(len(q) // 2)}


@dataclass(frozen=True)
class Calibration:
    """Score quantiles per step, pooled over the calibration windows, and for a quantile run's central
    intervals the CQR scores (conformalised quantile regression)."""

    pooled: np.ndarray  # (horizon, len(GRID))
    windows: int
    pairs: dict[str, np.ndarray] = field(default_factory=dict)  # "80" -> (horizon, len(GRID)), may be < 0

    @classmethod
    def fit(
        cls,
        actual: np.ndarray,
        forecast: np.ndarray,
        spreads: np.ndarray,
        quantiles: np.ndarray | None = None,
        quantile_levels: tuple[float, ...] = (),
    ) -> Calibration:
        """From calibration windows: actual and forecast (n, horizon), spreads (n,); for quantile runs
        also the quantile forecasts (n, horizon, levels) and their levels."""
        scores = np.abs(actual - forecast) / spreads[:, None]
        pairs = {}
        if quantiles is not None:
            for name, (lo, hi) in central_pairs(quantile_levels).items():
                # CQR: how far outside [q_lo, q_hi] the actual falls (negative inside), in spreads
                outside = np.maximum(quantiles[:, :, lo] - actual, actual - quantiles[:, :, hi]) / spreads[:, None]
                pairs[name] = np.asarray(conformal_quantiles(outside))
        return cls(np.asarray(conformal_quantiles(scores)), len(scores), pairs)

    def multiplier(self, level: float) -> np.ndarray:
        """(horizon,) half-widths in spreads at `level` (%), linear between GRID levels."""
        return interpolate(self.pooled, level)

    def plan(self, level: float, quantile_levels: tuple[float, ...]) -> tuple[int, int, np.ndarray | None]:
        """How the band at `level` is made: (lower, upper) quantile columns and the CQR correction per
        step when the run has that central interval; else (-1, -1, None): the residual band."""
        pair = central_pairs(quantile_levels).get(level_name(level))
        if pair is None or level_name(level) not in self.pairs:
            return -1, -1, None
        return pair[0], pair[1], interpolate(self.pairs[level_name(level)], level)

    def bands(
        self,
        forecast: np.ndarray,
        spreads: np.ndarray,
        levels: tuple[float, ...],
        quantiles: np.ndarray | None = None,
        quantile_levels: tuple[float, ...] = (),
    ) -> dict[str, np.ndarray]:
        """{"lo_80": (n, horizon), "hi_80": ...}: around point forecasts (n, horizon) with spreads (n,),
        or, for a quantile run's own central interval, its quantiles (n, horizon, levels) widened (or
        narrowed) by the CQR correction. A band always holds the point forecast."""
        out = {}
        for level in levels:
            lo, hi, correction = self.plan(level, quantile_levels) if quantiles is not None else (-1, -1, None)
            if correction is None:
                half = self.multiplier(level)[None, :] * spreads[:, None]
                lower, upper = forecast - half, forecast + half
            else:
                assert quantiles is not None
                shift = correction[None, :] * spreads[:, None]
                lower = np.minimum(quantiles[:, :, lo] - shift, forecast)
                upper = np.maximum(quantiles[:, :, hi] + shift, forecast)
            out[f"lo_{level_name(level)}"], out[f"hi_{level_name(level)}"] = lower, upper
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "score": "abs(actual - forecast) / window spread",
            "levels": list(GRID),
            "windows": self.windows,
            "pooled": self.pooled.tolist(),
            "cqr": {name: table.tolist() for name, table in self.pairs.items()},
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any], horizon: int) -> Calibration:
        """Read back, checked: the tables must have the run's shape and hold finite, non-negative numbers."""
        try:
            pooled = np.asarray(raw["pooled"], dtype="float64")
            windows = int(raw["windows"])  # runs made before one pooled table also hold "series": unused
            pairs = {str(k): np.asarray(v, dtype="float64") for k, v in raw.get("cqr", {}).items()}
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ForecasterError(f"calibration.json: malformed ({exc}); retrain the run") from None
        for table in (pooled, *pairs.values()):
            if table.shape != (horizon, len(GRID)) or not np.all(np.isfinite(table)):
                raise ForecasterError("calibration.json: tables of the wrong shape or values; retrain the run")
        if (pooled < 0).any():  # CQR corrections may be negative
            raise ForecasterError("calibration.json: negative residual quantiles; retrain the run")
        return cls(pooled, windows, pairs)
