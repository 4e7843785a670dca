"""The forecast's range: a series that keeps returning to a minimum (zero for counts and sales, or a floor
above zero: a base load, a minimum price) is never forecast below it (`--floor`, on by default).

The floor of a forecast window is the minimum of the points the network reads before its origin (the
last min(origin, lookback) points, whole patches), when the window keeps returning to it: at least
FLOOR_SHARE of them lie within FLOOR_BAND of the window's range above its minimum, and between its first
and its last visit there it climbs FLOOR_RISE of the range away. A window that reaches its minimum once,
or only at its end (a trend down), has no floor. The rule reads only what the network reads, so the
exported graph applies it too (`forecaster.serving.graph.WindowFloor`).
"""

from __future__ import annotations

import numpy as np

from forecaster.data.windowing import valid_lengths

# chosen on validation splits (docs/decisions.md, "The forecast's range"): M4 Hourly's sMAPE 12.45 -> 12.07 with
# these; M4 Weekly and M3 Other unchanged. A floor wherever 5% of the window is near its minimum, without the
# return, cost M3 Other's short trending series 3.98 -> 4.33; FLOOR_SHARE 0 cost M4 Weekly 6.724 -> 6.736
FLOOR_BAND = 0.01  # of the window's range above its minimum: "at the minimum"
FLOOR_SHARE = 0.05  # of the window's points at the minimum: the window sits on a floor
FLOOR_RISE = 0.25  # of the range above the minimum the window climbs to between two visits of it


def window_floor(window: np.ndarray) -> float:
    """The floor of one window (1-D, the points before the origin; NaN cells ignored), or -inf: none."""
    known = window[np.isfinite(window)]
    if len(known) < 2:
        return -np.inf
    low, high = float(known.min()), float(known.max())
    if not high > low:
        return -np.inf
    near = np.flatnonzero(known <= low + FLOOR_BAND * (high - low))
    above = np.flatnonzero(known >= low + FLOOR_RISE * (high - low))
    returns = bool(((above > near[0]) & (above < near[-1])).any())  # at the minimum, away, and back
    return low if returns and len(near) >= FLOOR_SHARE * len(known) else -np.inf


def window_floors(values: list[np.ndarray], origins: np.ndarray, lookback: int, patch: int = 1) -> np.ndarray:
    """(n,) the floor of each window (`values[i]` a series' raw target, `origins[i]` its forecast origin), -inf
    where a window has none."""

    n_valid = valid_lengths(np.asarray(origins, dtype="int64"), lookback, patch)
    return np.array([window_floor(v[o - k : o]) for v, o, k in zip(values, origins, n_valid)], dtype="float64")


def floored(forecasts: np.ndarray, floors: np.ndarray) -> np.ndarray:
    """`forecasts` (n, horizon[, quantiles]) raised to their window's floor (n,) where they fall below it."""
    shape = (-1,) + (1,) * (forecasts.ndim - 1)
    return np.maximum(forecasts, floors.reshape(shape))
