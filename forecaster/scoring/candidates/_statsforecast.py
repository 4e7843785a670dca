"""What the statsforecast candidates share: the regression on known columns, and `fitted`, which makes a
candidate's `forecast` of any statsforecast model that takes `season_length`."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

# A statistical model sees at most this many of the latest points: ETS and Theta adapt to the recent
# level anyway, and the cost of a fit grows with the length (AutoETS, hourly season 24: 0.5 s on
# 1,000 points on this 2-core machine).
STAT_HISTORY = 400

# the --future columns' values over a fit's history (n, k) and over its horizon (horizon, k); None: none
Known = tuple[np.ndarray, np.ndarray] | None


def regressed(y: np.ndarray, known: Known, horizon: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(y less the known columns' least-squares effect, the effect over the horizon (horizon,)); zeros
    without known columns; None when the horizon's known values are incomplete. The intercept stays in
    the series (its level), so a positive series mostly stays positive for the multiplicative models."""
    if known is None:
        return y, np.zeros(horizon)
    past, ahead = (np.asarray(part, dtype="float64") for part in known)
    past = past[-len(y) :]
    if ahead.shape[0] < horizon or not np.isfinite(ahead[:horizon]).all():
        return None
    rows = np.isfinite(past).all(axis=1) & np.isfinite(y)
    if rows.sum() <= past.shape[1] + 1:  # too few rows to estimate the effects: none taken
        return y, np.zeros(horizon)
    design = np.column_stack([np.ones(int(rows.sum())), past[rows]])
    coef = np.linalg.lstsq(design, y[rows], rcond=None)[0][1:]
    return y - np.where(np.isfinite(past), past, 0.0) @ coef, ahead[:horizon] @ coef


def fitted(model_class: str) -> Callable[..., np.ndarray]:
    def forecast(history: np.ndarray, horizon: int, season: int, known: Known = None) -> np.ndarray:
        from statsforecast import models

        parts = regressed(np.asarray(history, dtype="float64")[-STAT_HISTORY:], known, horizon)
        if parts is None:
            return np.full(horizon, np.nan)
        y, effect = parts
        # a season the series does not cover twice cannot be estimated: fit without one
        period = season if 1 < season and 2 * season < len(y) else 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out = getattr(models, model_class)(season_length=period).forecast(y=y, h=horizon)["mean"]
            except Exception:  # a fit that fails (too short, constant, singular) forecasts nothing
                return np.full(horizon, np.nan)
        out = np.asarray(out, dtype="float64")
        return out + effect if out.shape == (horizon,) else np.full(horizon, np.nan)

    forecast.__doc__ = (
        f"statsforecast's {model_class} on the latest {STAT_HISTORY} points, with the known columns' regression "
        "(`regressed`) when given (NaN when it cannot fit)."
    )
    return forecast
