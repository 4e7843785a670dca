"""Simple forecasts every model must beat: naive, seasonal naive, drift."""

from __future__ import annotations

import numpy as np

BASELINES = ("naive", "seasonal_naive", "drift")


def baseline_forecast(name: str, history: np.ndarray, horizon: int, season: int = 1) -> np.ndarray:
    """Forecast `horizon` steps after `history` (1-D, oldest first) with a named baseline.

    seasonal_naive repeats the last full season (naive when the history is shorter than a season);
    drift extends the line from the first to the last observation.
    """
    steps = np.arange(1, horizon + 1)
    if name == "naive" or (name == "seasonal_naive" and (season <= 1 or len(history) < season)):
        return np.full(horizon, history[-1], dtype="float64")
    if name == "seasonal_naive":
        return history[len(history) - season + (steps - 1) % season].astype("float64")
    if name == "drift":
        slope = (history[-1] - history[0]) / (len(history) - 1) if len(history) > 1 else 0.0
        return history[-1] + slope * steps
    raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")
