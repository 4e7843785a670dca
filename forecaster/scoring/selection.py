"""The validation guard: a run serves what its validation windows score best among the network, seasonal
naive, the statistical models and their combination, never silently a worse one.

Every candidate forecasts the series' most recent validation windows (the conformal calibration
windows, as many as STAT_POINT_BUDGET allows: `scored_windows`), scored by their scaled absolute
error (MASE's). A candidate's score is the mean over series of each series' mean. The run is served
by the combination (the mean of the network's and the statistical models' forecasts) unless another
candidate scores more than SELECTION_MARGIN below it (the network alone only on MIN_NETWORK_WINDOWS
scored windows or more).

Why one choice for the panel, anchored on the combination (measured on held-out targets, the last
horizon of each training series: `benchmarks/m3.py --split validation`, `benchmarks/m4.py --split
validation`): the network's validation score is optimistic (early stopping chose its epoch on those
very windows), and the statistical models' is pessimistic (they are fitted on the shorter histories
of the validation origins). On M3 Quarterly the network scored 0.3% better than the combination on
validation, yet 15% worse on the held-out targets; on M3 Other 1.1% better, yet 4% worse; on M4
Weekly (long validation parts) 4.6% better, and 3% better held out. Choosing per series (each
series' own windows, shrunk towards the panel's) followed that noise: Quarterly MASE 1.164 held out,
against 1.081 for the combination everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from forecaster.scoring.baselines import BASELINES
from forecaster.scoring.statistical import STATISTICAL, fit_each

SELECTIONS = ("auto", "model")  # the guard on, or the network alone
SELECTION_MARGIN = 0.03  # how far below the combination's validation MASE another candidate must score
# the network alone needs this many scored windows: on fewer (one short series) its early-stopped
# validation score is too optimistic to serve it alone (30 one-series M3 validation runs, benchmarks/m3.py)
MIN_NETWORK_WINDOWS = 50
# where the validation parts are long (this many horizons of windows per series on average: long series),
# early stopping's choice is a small selection over much data and the latest windows lie far from the
# training part: the network's validation score is then taken as it is (M4 Weekly validation: the network
# 4.6% better than the combination there, 3% better on the held-out targets); on short ones (M3: one to
# four windows a series) it needs the margin
LONG_VALIDATION = 2
COMBINATION = "combination"  # the mean of the network and the statistical models
# history points the statistical models are fitted on in validation, over every scored window: AutoETS costs
# about 0.5 ms a point on seasonal data on this 2-core machine, so about 20 s (the hourly 400-series panel
# then scores the latest window of 100 series; M3 every calibration window of every series)
STAT_POINT_BUDGET = 40_000


def candidates(statistical: tuple[str, ...]) -> tuple[str, ...]:
    """What the guard chooses among."""
    return ("model", "seasonal_naive", *statistical, COMBINATION)


def combined(network: np.ndarray, statistical: list[np.ndarray]) -> np.ndarray:
    """The combination: the mean of the network's forecast and the statistical ones that could be made."""
    return np.mean([network, *(made for made in statistical if np.all(np.isfinite(made)))], axis=0)


def served_forecast(
    method: str, history: np.ndarray, horizon: int, season: int, network: np.ndarray, statistical: tuple[str, ...]
) -> tuple[np.ndarray, str]:
    """The forecast `method` makes after `history` (1-D, oldest first), given the network's forecast
    `network` (horizon,), and the method that made it: a statistical fit that fails leaves the
    network's forecast (as in validation, where a failed fit scored no window)."""
    made, served = served_forecasts([method], [history], horizon, season, network[None], statistical)
    return made[0], served[0]


def served_forecasts(
    methods: list[str],
    histories: list[np.ndarray],
    horizon: int,
    season: int,
    networks: np.ndarray,
    statistical: tuple[str, ...],
) -> tuple[np.ndarray, list[str]]:
    """`served_forecast` for many series (or windows) at once: (forecasts (n, horizon), the method that
    made each), their statistical fits spread over processes (`forecaster.scoring.statistical.fit_each`)."""
    jobs = []
    for method, history in zip(methods, histories):
        names = statistical if method == COMBINATION else (method,) if method in STATISTICAL else ()
        jobs += [(name, history) for name in names]
    fitted = iter(fit_each(jobs, horizon, season))
    made, served = np.array(networks, dtype="float64", copy=True), list(methods)
    for k, (method, history) in enumerate(zip(methods, histories)):
        if method in BASELINES:
            made[k] = BASELINES[method](history, horizon, season)
        elif method == COMBINATION:
            made[k] = combined(networks[k], [next(fitted) for _ in statistical])
        elif method in STATISTICAL:
            forecast = next(fitted)
            if np.all(np.isfinite(forecast)):
                made[k] = forecast
            else:
                served[k] = "model"
    return made, served


@dataclass(frozen=True)
class Selection:
    """What serves the run's series, and the validation scores that decided it."""

    method: str  # the candidate that serves every series the network can forecast
    scores: dict[str, float]  # candidate -> mean over series of their mean scaled error (MASE) on the scored windows
    windows: int  # windows scored per candidate
    series: int  # series with scored windows
    statistical: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": f"the combination, unless another candidate's MASE is more than {SELECTION_MARGIN:.0%} below it",
            "method": self.method,
            "scores": self.scores,
            "windows": self.windows,
            "series": self.series,
            "statistical": list(self.statistical),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Selection:
        from forecaster.errors import ForecasterError

        statistical = tuple(str(name) for name in raw.get("statistical", ()))
        method = str(raw.get("method", "model"))
        if not set(statistical) <= set(STATISTICAL) or method not in candidates(statistical):
            raise ForecasterError("selection.json: unknown methods; retrain the run")
        scores = {str(k): float(v) for k, v in dict(raw.get("scores", {})).items()}
        return cls(method, scores, int(raw.get("windows", 0)), int(raw.get("series", 0)), statistical)


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
    errors: dict[str, np.ndarray], series_idx: np.ndarray, long_validation: bool = False
) -> tuple[str, dict[str, float]]:
    """The candidate that serves the panel, and each candidate's score (the network alone is eligible
    only on at least MIN_NETWORK_WINDOWS windows). `long_validation`: the series' validation parts hold
    LONG_VALIDATION horizons of windows on average; the network then needs no margin over the combination.

    errors: candidate -> (windows,) scaled mean absolute error of each scored window (NaN: no forecast);
    series_idx: (windows,) the window's series. A candidate's score is the mean over series of each
    series' mean (a window a candidate could not forecast counts as the worst any candidate did there).
    """
    names = list(errors)
    table = np.stack([errors[name] for name in names], axis=1)  # (windows, candidates)
    table = np.where(np.isfinite(table), table, np.nanmax(np.where(np.isfinite(table), table, np.nan), axis=1,
                     keepdims=True))  # fmt: skip
    series = np.unique(series_idx)
    means = np.stack([table[series_idx == s].mean(axis=0) for s in series])  # (series, candidates)
    scores = {name: float(score) for name, score in zip(names, means.mean(axis=0))}
    combination = scores[COMBINATION]
    eligible = [name for name in names if name != "model" or len(series_idx) >= MIN_NETWORK_WINDOWS]
    best = min(eligible, key=scores.__getitem__)
    margin = 0.0 if best == "model" and long_validation else SELECTION_MARGIN
    method = best if scores[best] < combination * (1 - margin) else COMBINATION
    return method, {name: round(score, 6) for name, score in scores.items()}
