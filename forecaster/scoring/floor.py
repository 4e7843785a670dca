"""The forecast's range: a series that keeps returning to a minimum (zero for counts and sales, or a floor
above zero: a base load, a minimum price) is never forecast below it.

The floor of a forecast window is the minimum of the `lookback` points before its origin, when that
window sits on it: at least FLOOR_SHARE of the window's points lie within FLOOR_BAND of the window's range
above its minimum. A window that only passes through its minimum (a trend down, a wave) has no floor. The
rule reads only what the model reads, so the exported graph applies it too (`forecaster.serving.graph`).
"""

from __future__ import annotations

import numpy as np

FLOOR_BAND = 0.01  # of the window's range above its minimum: "at the minimum"
FLOOR_SHARE = 0.05  # of the window's points at the minimum: the window sits on a floor


def window_floors(windows: list[np.ndarray]) -> np.ndarray:
    """(n,) the floor of each window (a 1-D array of the points before its origin, NaN for none), -inf
    where a window has no floor."""
    out = np.full(len(windows), -np.inf)
    for i, window in enumerate(windows):
        known = window[np.isfinite(window)]
        if len(known) < 2:
            continue
        low, high = known.min(), known.max()
        if high > low and np.mean(known <= low + FLOOR_BAND * (high - low)) >= FLOOR_SHARE:
            out[i] = low
    return out


def floored(forecasts: np.ndarray, floors: np.ndarray) -> np.ndarray:
    """`forecasts` (n, horizon[, quantiles]) raised to their window's floor (n,) where they fall below it."""
    shape = (-1,) + (1,) * (forecasts.ndim - 1)
    return np.maximum(forecasts, floors.reshape(shape))
