"""The validation guard: each series is forecast by what its validation windows score best among the
network, seasonal naive, the statistical models and their combination, never silently by a worse one.

Candidates are scored on each series' most recent validation windows (the conformal calibration
windows, as many as STAT_POINT_BUDGET allows: `scored_windows`) by their scaled absolute
error (MASE's). A series' own mean is shrunk towards the panel's mean by SHRINK_WINDOWS windows of
prior weight, so a series with few, overlapping windows follows the panel unless its own evidence
is clear; a series none of whose windows was scored takes the panel's best; in a one-series file the
two are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from forecaster.scoring.baselines import BASELINES
from forecaster.scoring.statistical import STATISTICAL

SELECTIONS = ("auto", "model")  # the guard on, or the network alone
COMBINATION = "combination"  # the mean of the network and the statistical models
# history points the statistical models are fitted on in validation, over every scored window: AutoETS costs
# about 0.5 ms a point on seasonal data on this 2-core machine, so about 20 s (the hourly 400-series panel
# then scores the latest window of 100 series; M3 every calibration window of every series)
STAT_POINT_BUDGET = 40_000


def candidates(statistical: tuple[str, ...]) -> tuple[str, ...]:
    """What the guard chooses among."""
    return ("model", "seasonal_naive", *statistical, COMBINATION)


def served_forecast(
    method: str, history: np.ndarray, horizon: int, season: int, network: np.ndarray, statistical: tuple[str, ...]
) -> tuple[np.ndarray, str]:
    """The forecast `method` makes after `history` (1-D, oldest first), given the network's forecast
    `network` (horizon,), and the method that made it: a statistical fit that fails leaves the
    network's forecast (as in validation, where a failed fit scored no window)."""
    if method == "model":
        return network, method
    if method in BASELINES:
        return BASELINES[method](history, horizon, season), method
    if method == COMBINATION:
        members = [network, *(STATISTICAL[name](history, horizon, season) for name in statistical)]
        return np.mean([m for m in members if np.all(np.isfinite(m))], axis=0), method
    made = STATISTICAL[method](history, horizon, season)
    return (made, method) if np.all(np.isfinite(made)) else (network, "model")


@dataclass(frozen=True)
class Selection:
    """What forecasts each series, and the validation scores that decided it."""

    methods: dict[str, str]  # series id -> candidate
    scores: dict[str, float]  # candidate -> panel mean of the series' scaled errors (MASE) on the scored windows
    windows: int  # windows scored per candidate
    statistical: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for method in self.methods.values():
            out[method] = out.get(method, 0) + 1
        return dict(sorted(out.items(), key=lambda item: -item[1]))

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": "per series, the lowest validation MASE, shrunk towards the panel's",
            "statistical": list(self.statistical),
            "windows": self.windows,
            "scores": self.scores,
            "counts": self.counts(),
            "methods": self.methods,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Selection:
        from forecaster.errors import ForecasterError

        statistical = tuple(str(name) for name in raw.get("statistical", ()))
        known = set(candidates(statistical))
        methods = {str(k): str(v) for k, v in dict(raw.get("methods", {})).items()}
        if not set(statistical) <= set(STATISTICAL) or not set(methods.values()) <= known:
            raise ForecasterError("selection.json: unknown methods; retrain the run")
        return cls(methods, {str(k): float(v) for k, v in dict(raw.get("scores", {})).items()},
                   int(raw.get("windows", 0)), statistical)  # fmt: skip


def scored_windows(series_idx: np.ndarray, origins: np.ndarray, history_cap: int, budget: int) -> np.ndarray:
    """Rows of the windows the statistical models are scored on: the latest `k` of each series for the
    largest k whose fits (min(origin, history_cap) points each) stay within `budget` points; when even
    one window a series is over it, the latest window of evenly spaced series, as many as fit."""
    latest = [mine[np.argsort(origins[mine])[::-1]] for mine in (np.flatnonzero(series_idx == s)
              for s in np.unique(series_idx))]  # fmt: skip
    cost = np.minimum(origins, history_cap)
    count = 0
    while True:
        rows = [r for mine in latest for r in mine[: count + 1]]
        if count + 1 > max(len(mine) for mine in latest) or cost[rows].sum() > budget:
            break
        count += 1
    if count:
        return np.sort(np.asarray([r for mine in latest for r in mine[:count]], dtype=int))
    first = np.array([mine[0] for mine in latest])
    fits = max(1, int(budget // max(cost[first].mean(), 1)))
    return np.sort(first[np.unique(np.linspace(0, len(first) - 1, min(fits, len(first))).round().astype(int))])


def choose(
    errors: dict[str, np.ndarray], series_idx: np.ndarray, prior_windows: float
) -> tuple[list[str], dict[str, float]]:
    """Per series (index 0..n-1), the candidate with the lowest shrunk mean scaled error.

    errors: candidate -> (windows,) scaled mean absolute error of each scored window (NaN: no forecast).
    Returns the choice per series and each candidate's panel score (mean over series of their means).
    """
    names = list(errors)
    n_series = int(series_idx.max()) + 1 if len(series_idx) else 0
    own = np.full((n_series, len(names)), np.nan)
    counts = np.bincount(series_idx, minlength=n_series).astype("float64")
    for j, name in enumerate(names):
        for s in range(n_series):
            values = errors[name][series_idx == s]
            if len(values) and np.all(np.isfinite(values)):
                own[s, j] = values.mean()
    panel = np.nanmean(np.where(np.isfinite(own), own, np.nan), axis=0)
    shrunk = (counts[:, None] * own + prior_windows * panel[None, :]) / (counts[:, None] + prior_windows)
    shrunk = np.where(np.isfinite(shrunk), shrunk, np.inf)
    shrunk[:, names.index("model")] = np.where(
        np.isfinite(shrunk[:, names.index("model")]), shrunk[:, names.index("model")], np.inf
    )
    picked = [names[int(np.argmin(row))] if np.isfinite(row).any() else "model" for row in shrunk]
    return picked, {name: round(float(score), 6) for name, score in zip(names, panel)}
