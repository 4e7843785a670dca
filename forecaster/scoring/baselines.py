"""Simple forecasts every model must beat, by name: a registry (a new baseline is one function here;
evaluate's table, plots and --fail-if-worse-than choices follow it)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Baseline = Callable[[np.ndarray, int, int], np.ndarray]  # (history oldest first, horizon, season) -> forecast


def naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The last value, repeated."""
    return np.full(horizon, history[-1], dtype="float64")


def seasonal_naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The last full season, repeated (naive when the history is shorter than a season)."""
    if season <= 1 or len(history) < season:
        return naive(history, horizon, season)
    steps = np.arange(horizon)
    return history[len(history) - season + steps % season].astype("float64")


def drift(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The line from the first to the last observation, extended."""
    slope = (history[-1] - history[0]) / (len(history) - 1) if len(history) > 1 else 0.0
    return history[-1] + slope * np.arange(1, horizon + 1)


BASELINES: dict[str, Baseline] = {"naive": naive, "seasonal_naive": seasonal_naive, "drift": drift}


def baseline_forecast(name: str, history: np.ndarray, horizon: int, season: int = 1) -> np.ndarray:
    """Forecast `horizon` steps after `history` (1-D, oldest first) with the baseline called `name`."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")
    return BASELINES[name](history, horizon, season)
