"""Point and interval metrics on arrays of forecasts and actuals (any matching shapes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.mean(np.abs(actual - forecast)))


def rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.sqrt(np.mean((actual - forecast) ** 2)))


def mape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute percentage error (in %), over the points whose actual is not zero (NaN if none)."""
    nonzero = np.abs(actual) > 1e-12
    if not nonzero.any():
        return float("nan")
    return float(100 * np.mean(np.abs((actual[nonzero] - forecast[nonzero]) / actual[nonzero])))


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in % (M4 definition); a point where both are zero counts as 0 error."""
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(
        2 * np.abs(actual - forecast), denominator, out=np.zeros_like(denominator, dtype=float), where=denominator > 0
    )
    return float(100 * np.mean(ratio))


def seasonal_naive_scale(history: np.ndarray, season: int) -> float:
    """MASE's denominator: the in-sample mean absolute error of the seasonal-naive forecast (M4)."""
    season = season if len(history) > season else 1
    if len(history) < 2:
        return float("nan")
    error = float(np.mean(np.abs(history[season:] - history[:-season])))
    if error <= ZERO_SCALE * float(np.mean(np.abs(history))):  # exactly periodic (or constant): rounding's
        return 0.0  # size only, which would turn MASE into 10**14; zero, and MASE falls back to MAE (`mase`)
    return error


ZERO_SCALE = 1e-9  # an in-sample error this small against the series' size is zero: the series repeats exactly


def usable_scales(scale: float | np.ndarray) -> np.ndarray:
    """MASE's denominators as divided by: a zero or undefined one (a constant, exactly periodic or one-point
    history) counts as 1, so the figure is the MAE there rather than inf."""
    denominator = np.asarray(scale, dtype="float64")
    return np.where(np.isfinite(denominator) & (denominator > 0), denominator, 1.0)


def mase(actual: np.ndarray, forecast: np.ndarray, scale: float | np.ndarray) -> float:
    """Mean absolute error over the MASE denominator.

    scale: one number, or one per window (windows,) for actuals of shape (windows, horizon), so each
    window is scaled by its own series. A zero or undefined denominator (a constant or one-point
    history) counts as 1: MASE then falls back to MAE rather than to inf.
    """
    denominator = usable_scales(scale)
    if denominator.ndim:
        denominator = denominator[:, None]
    return float(np.mean(np.abs(actual - forecast) / denominator))


def pinball(actual: np.ndarray, quantile_forecast: np.ndarray, level: float) -> float:
    error = actual - quantile_forecast
    return float(np.mean(np.maximum(level * error, (level - 1) * error)))


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actuals inside [lower, upper]."""
    return float(np.mean((actual >= lower) & (actual <= upper)))


def msis(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, scale: np.ndarray, alpha: float) -> float:
    """M4's mean scaled interval score: per window, the mean over steps of the width plus 2/alpha times
    how far the actual falls outside, divided by the window's MASE denominator; averaged over windows.

    actual, lower, upper: (windows, horizon); scale: (windows,); alpha: 0.05 for a 95% interval."""
    denominator = usable_scales(scale)
    penalty = (upper - lower) + (2 / alpha) * (
        (lower - actual) * (actual < lower) + (actual - upper) * (actual > upper)
    )
    return float(np.mean(penalty.mean(axis=1) / denominator))


Metric = Callable[[np.ndarray, np.ndarray, Any], float]  # (actual, forecast, MASE scale) -> score

# The point metrics every report carries, by name: a registry (a new metric is one line here; metrics.json,
# per_series.csv and evaluate's table follow it). Each takes the MASE scale; the unscaled ones ignore it.
POINT_METRICS: dict[str, Metric] = {
    "mae": lambda actual, forecast, scale: mae(actual, forecast),
    "rmse": lambda actual, forecast, scale: rmse(actual, forecast),
    "mape": lambda actual, forecast, scale: mape(actual, forecast),
    "smape": lambda actual, forecast, scale: smape(actual, forecast),
    "mase": mase,
}


IntervalMetric = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float], float]
# (actual, lower, upper: (windows, horizon); the windows' MASE scales; the level in %) -> score

# The scores every conformal band of a backtest carries, by name: a registry (metrics.json's "conformal" section
# follows it, a level at a time).
INTERVAL_METRICS: dict[str, IntervalMetric] = {
    "coverage": lambda actual, lower, upper, scale, level: coverage(actual, lower, upper),
    "mean_width": lambda actual, lower, upper, scale, level: float(np.mean(upper - lower)),
    "msis": lambda actual, lower, upper, scale, level: msis(actual, lower, upper, scale, 1 - level / 100),
}


def point_metrics(actual: np.ndarray, forecast: np.ndarray, scale: float | np.ndarray) -> dict[str, float]:
    return {name: metric(actual, forecast, scale) for name, metric in POINT_METRICS.items()}


ZERO_SCALE_NOTE = (
    "MASE and MSIS are undefined for {} series: seasonal naive's in-sample error is zero there (the series "
    "repeats itself exactly), so their windows are scaled by 1 (MAE) in these figures"
)
