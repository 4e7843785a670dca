"""The field's standard statistical forecasters (statsforecast's AutoETS, AutoTheta, AutoARIMA) behind the
baselines' signature: (history oldest first, horizon, season) -> forecast. A validation guard and a
combination pick among them and the network (`forecaster.scoring.selection`)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

# A statistical model sees at most this many of the latest points: ETS and Theta adapt to the recent
# level anyway, and the cost of a fit grows with the length (AutoETS, hourly season 24: 0.5 s on
# 1,000 points on this 2-core machine).
STAT_HISTORY = 400


def _fitted(model_class: str) -> Callable[[np.ndarray, int, int], np.ndarray]:
    def forecast(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
        from statsforecast import models

        y = np.asarray(history, dtype="float64")[-STAT_HISTORY:]
        # a season the series does not cover twice cannot be estimated: fit without one
        period = season if 1 < season and 2 * season < len(y) else 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out = getattr(models, model_class)(season_length=period).forecast(y=y, h=horizon)["mean"]
            except Exception:  # a fit that fails (too short, constant, singular) forecasts nothing
                return np.full(horizon, np.nan)
        out = np.asarray(out, dtype="float64")
        return out if out.shape == (horizon,) else np.full(horizon, np.nan)

    forecast.__doc__ = f"statsforecast's {model_class} on the latest {STAT_HISTORY} points (NaN when it cannot fit)."
    return forecast


STATISTICAL: dict[str, Callable[[np.ndarray, int, int], np.ndarray]] = {
    "auto_ets": _fitted("AutoETS"),
    "auto_theta": _fitted("AutoTheta"),
    # seasonal AutoARIMA is slow (3 s a fit on 150 monthly points, over 100 s at season 52): only on request
    "auto_arima": _fitted("AutoARIMA"),
}
