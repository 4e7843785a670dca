"""Conformal prediction intervals: calibrated on validation windows that training never fitted.

The calibration windows are each series' most recent validation windows: its last `horizon` origins
(`forecaster.scoring.validation.calibration_windows`), more for a panel of few series so that about
CALIBRATION_MIN_WINDOWS pool. The score of a window at horizon step h is its absolute error divided
by the window's spread: how hard its series is to forecast, in original units (`window_spreads`: by
default seasonal naive's in-sample error over the series' history before the window, MSIS's own
scale), times the series' difficulty factor (`difficulty_factors`: how far its errors ran above or
below the panel's on its older validation windows, shrunk towards 1). A scale-free number, so scores
pool across series and an interval scales with the series it is put around. Training keeps, per step,
the quantiles of these scores over the calibration windows of every series; a forecast at level L
then gets `forecast +- q_h(L) * spread` with q_h(L) the split-conformal quantile: the
ceil((n + 1) L)-th smallest of the n scores.

What that promises: if the forecast windows' scores are exchangeable with the calibration windows'
(the series behave after training as they did in the validation part), at least L of the actual
values fall inside the L interval, on average over windows and series. It assumes no such thing
per series or per moment: a series whose volatility changes, or a break after training, breaks it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from forecaster.config import LEVEL_STEP, TOP_LEVEL
from forecaster.data.spread import SPREAD_FLOOR
from forecaster.data.windowing import valid_lengths
from forecaster.errors import DamagedRunError
from forecaster.kinds import JSON

GRID = tuple(
    np.round(np.arange(LEVEL_STEP, TOP_LEVEL + LEVEL_STEP / 2, LEVEL_STEP), 1).tolist()
)  # levels (%) whose score quantiles are kept
# a panel of few series calibrates on more than `horizon` windows a series, so that about this many
# pool. Calibrating on the last `horizon` validation windows of each series rather than on all, on
# validation splits (`benchmarks/m4.py --split validation --level 95`): M4 Weekly 95% coverage 0.949,
# MSIS 23.36 against 0.959, 24.07; the 960-hour ETTh1 pieces 0.929, 10.83 against 0.915, 10.81. The
# windows nearest the forecast origin behave most like it; every series counts about the same.
# One table pooled over the panel: on M4 Weekly validation, tables of their own for the 45 series with
# 100 or more validation windows gave MSIS 24.8 against 24.1 pooled.
CALIBRATION_MIN_WINDOWS = 1000


def level_name(level: float) -> str:
    """80 -> '80', 97.5 -> '97.5' (the column suffix: lo_80, hi_97.5)."""
    return f"{level:g}"


SPREADS = ("history", "seasonal", "step")  # how a window's spread is measured (`window_spreads`)
# per-series difficulty factors are shrunk towards 1 by this many horizons' worth of validation windows
# (`difficulty_factors`). Chosen on validation splits with the history spread (95%, coverage / MSIS,
# `benchmarks/spread_study.py`): no factor 0.957 / 22.72 on M4 Weekly and 0.934 / 9.28 on the ETTh1
# pieces; k = 2: 0.951 / 19.69, 0.920 / 9.44; k = 8: 0.954 / 20.17, 0.929 / 9.31; k = 16: 0.955 / 20.65,
# 0.931 / 9.29; k = 32: 0.957 / 21.13, 0.932 / 9.29. Sharper on M4 at no cost on the ETTh1 pieces.
SHRINK = 16.0


def window_spreads(
    values: list[np.ndarray],
    origins: np.ndarray,
    lookback: int,
    patch: int,
    scales: np.ndarray,
    kind: str = "step",
    season: int = 1,
) -> np.ndarray:
    """The spread of each window in original units, floored at SPREAD_FLOOR series-scaler units; `kind`:

    - history (the default): the in-sample error of seasonal naive (`season` steps; one step when the
      history spans no season) over the whole history before `origins[i]` in the raw target
      `values[i]`: MASE's and MSIS's own scale, how hard the series is to forecast rather than how much
      it moves (a smooth daily curve has large step changes and small seasonal ones);
    - seasonal: the same over only the inputs the model sees (the last min(origin, lookback) points,
      whole patches), or their step change where they span no season;
    - step: the mean absolute step-to-step change of those inputs (runs made before `history`).

    values: one 1-D raw target array per window (may repeat); origins, scales: (n,).
    """

    if kind == "history":
        spreads = history_spreads(values, origins, season)
    else:
        n_valid = valid_lengths(np.asarray(origins), lookback, patch)
        spreads = np.array([_input_spread(v[o - k : o], kind, season) for v, o, k in zip(values, origins, n_valid)])
    return np.maximum(spreads, SPREAD_FLOOR * np.abs(np.asarray(scales, dtype="float64")))


def history_spreads(values: list[np.ndarray], origins: np.ndarray, season: int) -> np.ndarray:
    """Seasonal naive's in-sample mean absolute error over each `values[i][:origins[i]]` (one-step naive's
    where that spans no season; 0 for fewer than 2 points): MASE's `seasonal_naive_scale` of that
    history, from one running sum per series rather than a pass over the history per window."""
    sums: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    out = np.zeros(len(origins))
    for i, (v, o) in enumerate(zip(values, origins)):
        if id(v) not in sums:
            sums[id(v)] = tuple(  # type: ignore[assignment]
                np.concatenate([[0.0], np.cumsum(np.abs(v[lag:] - v[:-lag]))]) if len(v) > lag else np.zeros(1)
                for lag in (1, max(season, 1))
            )
        lag = season if 1 < season < o else 1
        running = sums[id(v)][lag != 1]
        if o > lag:
            out[i] = running[o - lag] / (o - lag)
    return out


def _input_spread(inputs: np.ndarray, kind: str, season: int) -> float:
    step = float(np.abs(np.diff(inputs)).mean()) if len(inputs) > 1 else 0.0
    if kind == "step" or season < 2 or len(inputs) <= season:
        return step
    return float(np.abs(inputs[season:] - inputs[:-season]).mean())


def difficulty_factors(
    errors: np.ndarray, spreads: np.ndarray, series: list[str], horizon: int, shrink: float = SHRINK
) -> dict[str, float]:
    """How much harder than the panel each series is, in spreads: its windows' mean |error| / spread
    over that of all windows, shrunk towards 1 by `shrink` horizons' worth of windows (neighbouring
    windows overlap: a horizon of them is about one independent error).

    errors: (n, horizon) absolute errors of validation windows older than the calibration windows (so
    the calibration, made after dividing by these factors, stays held out); spreads: (n,); series: (n,)
    the window's series id. A series with no such window is left out (its factor is 1)."""
    scores = (errors / spreads[:, None]).mean(axis=1)
    pooled = scores.mean() if len(scores) else 1.0
    if not pooled > 0:
        return {}
    ids = np.asarray(series, dtype=object)
    factors = {}
    for sid in dict.fromkeys(series):
        mine = scores[ids == sid]
        weight = len(mine) / horizon
        factors[str(sid)] = round(float((weight * mine.mean() / pooled + shrink) / (weight + shrink)), 6)
    return factors


def windows_needed(level: float) -> int:
    """The fewest calibration windows n for which the split-conformal band at `level` (%) is a real
    quantile: ceil((n + 1) L) <= n, i.e. n >= L / (1 - L) (19 for 95%, 199 for 99.5%)."""
    return math.ceil(round(level / (100.0 - level), 9))


def thin_levels_note(windows: int, levels: tuple[float, ...]) -> str | None:
    """A line for levels finer than `windows` calibration windows support, or None: such a band is the
    widest error seen, which promises only n / (n + 1) coverage."""
    thin = [level for level in levels if windows < windows_needed(level)]
    if not thin:
        return None
    names = ", ".join(f"{level:g}%" for level in thin)
    return (
        f"--level {names}: the run was calibrated on {windows} validation windows and a {thin[-1]:g}% band needs "
        f"at least {windows_needed(thin[-1])}; the band is the widest error seen, which promises only "
        f"{100 * windows / (windows + 1):.1f}% (train on more data or ask for a lower level)"
    )


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


# the largest score (|error| / spread) a window counts with: an error this many times its series' usual
# seasonal-naive error is a break, not a level of noise. Without it one spike after a flat history (a spread
# at its floor) scored 999,000 and gave a 95% band of +-5 million around a forecast of 29. For Gaussian noise
# of sd s the spread is about 1.13 s, so a 99.9% score is about 3: the cap leaves real tails alone
MAX_SCORE = 100.0


def conformal_scores(
    actual: np.ndarray,
    forecast: np.ndarray,
    spreads: np.ndarray,
    quantiles: np.ndarray | None = None,
    quantile_levels: tuple[float, ...] = (),
) -> dict[str, np.ndarray]:
    """Windows' scores (n, horizon) by table: "" the absolute errors in spreads; for a quantile run, each central
    interval's ("80") CQR score: how far outside [q_lo, q_hi] the actual falls (negative inside), in spreads."""
    scores = {"": np.minimum(np.abs(actual - forecast) / spreads[:, None], MAX_SCORE)}
    if quantiles is not None:
        for name, (lo, hi) in central_pairs(quantile_levels).items():
            outside = np.maximum(quantiles[:, :, lo] - actual, actual - quantiles[:, :, hi]) / spreads[:, None]
            scores[name] = np.clip(outside, -MAX_SCORE, MAX_SCORE)
    return scores


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
    spread: str = "step"  # what the scores are divided by (`window_spreads`); runs before it: step
    season: int = 1  # the season the seasonal spreads span
    factors: dict[str, float] = field(default_factory=dict)  # series id -> `difficulty_factors`; others 1

    @classmethod
    def fit(
        cls,
        actual: np.ndarray,
        forecast: np.ndarray,
        spreads: np.ndarray,
        quantiles: np.ndarray | None = None,
        quantile_levels: tuple[float, ...] = (),
        spread: str = "step",
        season: int = 1,
        factors: dict[str, float] | None = None,
    ) -> Calibration:
        """From calibration windows: actual and forecast (n, horizon), spreads (n,) measured as `spread`
        says (`window_spreads`) times the series' `factors`; for quantile runs also the quantile
        forecasts (n, horizon, levels) and their levels."""
        scores = conformal_scores(actual, forecast, spreads, quantiles, quantile_levels)
        residual = scores.pop("")
        pairs = {name: np.asarray(conformal_quantiles(outside)) for name, outside in scores.items()}
        return cls(np.asarray(conformal_quantiles(residual)), len(residual), pairs, spread, season, dict(factors or {}))

    def spreads(
        self,
        values: list[np.ndarray],
        origins: np.ndarray,
        lookback: int,
        patch: int,
        scales: np.ndarray,
        series: list[str],
    ) -> np.ndarray:
        """The spreads of forecast windows of the given series, measured as the calibration windows' were
        (`window_spreads` times the series' difficulty factor; 1 for a series training did not see)."""
        spreads = window_spreads(values, origins, lookback, patch, scales, self.spread, self.season)
        return spreads * np.array([self.factors.get(sid, 1.0) for sid in series])

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
        multipliers: dict[float, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """{"lo_80": (n, horizon), "hi_80": ...}: around point forecasts (n, horizon) with spreads (n,),
        or, for a quantile run's own central interval, its quantiles (n, horizon, levels) widened (or
        narrowed) by the CQR correction. A band always holds the point forecast. `multipliers`: level ->
        (n, horizon) each window's own half-widths (or corrections) in spreads, instead of the table's
        (`forecaster.scoring.adaptive`)."""
        out = {}
        for level in levels:
            lo, hi, correction = self.plan(level, quantile_levels) if quantiles is not None else (-1, -1, None)
            own = None if multipliers is None else multipliers[level]
            if correction is None:
                half = (self.multiplier(level)[None, :] if own is None else own) * spreads[:, None]
                lower, upper = forecast - half, forecast + half
            else:
                assert quantiles is not None
                shift = (correction[None, :] if own is None else own) * spreads[:, None]
                lower = np.minimum(quantiles[:, :, lo] - shift, forecast)
                upper = np.maximum(quantiles[:, :, hi] + shift, forecast)
            out[f"lo_{level_name(level)}"], out[f"hi_{level_name(level)}"] = lower, upper
        return nested(out, levels)

    def to_json(self) -> JSON:
        return {
            "score": "abs(actual - forecast) / window spread",
            "spread": self.spread,
            "season": self.season,
            "factors": self.factors,
            "levels": list(GRID),
            "windows": self.windows,
            "pooled": self.pooled.tolist(),
            "cqr": {name: table.tolist() for name, table in self.pairs.items()},
        }

    @classmethod
    def from_json(cls, raw: JSON, horizon: int) -> Calibration:
        """Read back, checked: the tables must have the run's shape and hold finite, non-negative numbers."""
        try:
            pooled = np.asarray(raw["pooled"], dtype="float64")
            windows = int(raw["windows"])  # runs made before one pooled table also hold "series": unused
            pairs = {str(k): np.asarray(v, dtype="float64") for k, v in raw.get("cqr", {}).items()}
            spread, season = raw.get("spread", "step"), raw.get("season", 1)
            factors = {str(k): float(v) for k, v in raw.get("factors", {}).items()}
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise DamagedRunError(f"calibration.json: malformed ({exc}); retrain the run") from None
        if spread not in SPREADS or not isinstance(season, int) or isinstance(season, bool) or season < 1:
            raise DamagedRunError("calibration.json: unknown spread or season; retrain the run")
        if not all(np.isfinite(f) and f > 0 for f in factors.values()):
            raise DamagedRunError("calibration.json: series factors must be positive numbers; retrain the run")
        for table in (pooled, *pairs.values()):
            if table.shape != (horizon, len(GRID)) or not np.all(np.isfinite(table)):
                raise DamagedRunError("calibration.json: tables of the wrong shape or values; retrain the run")
        if (pooled < 0).any():  # CQR corrections may be negative
            raise DamagedRunError("calibration.json: negative residual quantiles; retrain the run")
        for table in (pooled, *pairs.values()):  # a wider level never has a narrower band
            tolerance = 1e-9 * (1.0 + float(np.abs(table).max(initial=0.0)))
            if (np.diff(table, axis=1) < -tolerance).any():
                raise DamagedRunError("calibration.json: a higher level with a narrower band; retrain the run")
        return cls(pooled, windows, pairs, spread, season, factors)


def nested(bands: dict[str, np.ndarray], levels: tuple[float, ...]) -> dict[str, np.ndarray]:
    """`bands` made nested by level: each band at least as wide as every lower level's on both sides. Each
    level's adaptive working level, and a quantile run's CQR correction, move on their own, so a lower
    level's band can come out wider; the higher level then takes its bound, which only adds coverage."""
    out = dict(bands)
    ordered = sorted(levels)
    for lower, higher in zip(ordered, ordered[1:]):
        low, high = level_name(lower), level_name(higher)
        out[f"lo_{high}"] = np.fmin(out[f"lo_{high}"], out[f"lo_{low}"])
        out[f"hi_{high}"] = np.fmax(out[f"hi_{high}"], out[f"hi_{low}"])
    return out
