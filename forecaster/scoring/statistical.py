"""The field's standard statistical forecasters (statsforecast's AutoETS, AutoTheta, AutoARIMA) behind the
baselines' signature: (history oldest first, horizon, season[, known]) -> forecast. A validation guard and
a combination pick among them and the network (`forecaster.scoring.selection`).

In a run with --future columns each model takes them as the classic regression with ETS/Theta/ARIMA
errors does, in two stages: a least-squares regression of the target on the known columns over the
fitted history, the model fitted to what the regression leaves (the level kept), and the forecast the
model's plus the regression's effect of the horizon's known values."""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Callable, Sequence

import numpy as np

# A statistical model sees at most this many of the latest points: ETS and Theta adapt to the recent
# level anyway, and the cost of a fit grows with the length (AutoETS, hourly season 24: 0.5 s on
# 1,000 points on this 2-core machine).
STAT_HISTORY = 400

# the --future columns' values over a fit's history (n, k) and over its horizon (horizon, k); None: none
Known = tuple[np.ndarray, np.ndarray] | None


def known_columns(values: np.ndarray, origin: int, horizon: int, n_future: int) -> Known:
    """The --future columns (the last `n_future` of a series' values (n, features)) before `origin` and over
    the horizon after it; None without them."""
    if not n_future:
        return None
    return values[:origin, -n_future:], values[origin : origin + horizon, -n_future:]


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


def _fitted(model_class: str) -> Callable[..., np.ndarray]:
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


STATISTICAL: dict[str, Callable[..., np.ndarray]] = {
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


Job = tuple[str, np.ndarray] | tuple[str, np.ndarray, Known]  # (name, history[, known columns])


def fit_each(jobs: Sequence[Job], horizon: int, season: int) -> list[np.ndarray]:
    """`STATISTICAL[name](history, horizon, season, known)` for each (name, history[, known]) job, in order: spread over
    `PROCESSES` workers when there are many jobs, the same numbers either way (each fit is the same call,
    in another process). AutoETS takes 0.3 s a series at season 24 on this 2-core machine, so a forecast
    of thousands of series served by the combination is bound by these fits."""
    trimmed = [_trimmed(*job) for job in jobs]
    workers = min(PROCESSES, len(jobs) // (PARALLEL_FROM // 2))
    if workers < 2 or len(jobs) < PARALLEL_FROM or multiprocessing.current_process().daemon:
        return [STATISTICAL[name](history, horizon, season, known) for name, history, known in trimmed]
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")  # not fork: TensorFlow's threads may hold locks
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        chunk = max(1, len(jobs) // (8 * workers))
        return list(pool.map(_fit, trimmed, [horizon] * len(jobs), [season] * len(jobs), chunksize=chunk))


def _trimmed(name: str, history: np.ndarray, known: Known = None) -> tuple[str, np.ndarray, Known]:
    """A job as sent to a worker: only the points a fit sees (STAT_HISTORY of them, and the known
    columns' rows beside them)."""
    y = np.asarray(history, dtype="float64")[-STAT_HISTORY:]
    if known is not None:
        known = (np.asarray(known[0], dtype="float64")[-len(y) :], np.asarray(known[1], dtype="float64"))
    return name, y, known


def _fit(job: tuple[str, np.ndarray, Known], horizon: int, season: int) -> np.ndarray:
    name, history, known = job
    return STATISTICAL[name](history, horizon, season, known)
