"""The field's standard statistical forecasters (statsforecast's AutoETS, AutoTheta, AutoARIMA) behind the
baselines' signature: (history oldest first, horizon, season) -> forecast. A validation guard and a
combination pick among them and the network (`forecaster.scoring.selection`)."""

from __future__ import annotations

import multiprocessing
import os
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


PROCESSES = 1  # worker processes for many fits; the CLI sets this machine's cores (`use_cores`)
PARALLEL_FROM = 64  # fits: fewer run here, as a worker's start-up (about 3 s: numba's compiled code) costs more


def use_cores(processes: int | None = None) -> None:
    """Spread later batches of statistical fits (`fit_each`) over `processes` worker processes (default:
    the cores this process may use). The workers are spawned, so a script calling this needs Python's
    `if __name__ == "__main__":` guard; the CLI has it, so it calls this."""
    global PROCESSES
    PROCESSES = processes or len(os.sched_getaffinity(0))


def fit_each(jobs: list[tuple[str, np.ndarray]], horizon: int, season: int) -> list[np.ndarray]:
    """`STATISTICAL[name](history, horizon, season)` for each (name, history) job, in order: spread over
    `PROCESSES` workers when there are many jobs, the same numbers either way (each fit is the same call,
    in another process). AutoETS takes 0.3 s a series at season 24 on this 2-core machine, so a forecast
    of thousands of series served by the combination is bound by these fits."""
    trimmed = [(name, np.asarray(history, dtype="float64")[-STAT_HISTORY:]) for name, history in jobs]
    workers = min(PROCESSES, len(jobs) // (PARALLEL_FROM // 2))
    if workers < 2 or len(jobs) < PARALLEL_FROM or multiprocessing.current_process().daemon:
        return [STATISTICAL[name](history, horizon, season) for name, history in trimmed]
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")  # not fork: TensorFlow's threads may hold locks
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        chunk = max(1, len(jobs) // (8 * workers))
        return list(pool.map(_fit, trimmed, [horizon] * len(jobs), [season] * len(jobs), chunksize=chunk))


def _fit(job: tuple[str, np.ndarray], horizon: int, season: int) -> np.ndarray:
    name, history = job
    return STATISTICAL[name](history, horizon, season)
