"""The field's standard statistical forecasters (statsforecast's AutoETS, AutoTheta, AutoARIMA) behind the
baselines' signature: (history oldest first, horizon, season[, known]) -> forecast. A validation guard and
a combination pick among them and the network (`forecaster.scoring.selection`). Each is one module of
forecaster/scoring/candidates/ (its name is its `--statistical` choice); `fitted` makes one of any
statsforecast model that takes `season_length`.

In a run with --future columns each model takes them as the classic regression with ETS/Theta/ARIMA
errors does, in two stages: a least-squares regression of the target on the known columns over the
fitted history, the model fitted to what the regression leaves (the level kept), and the forecast the
model's plus the regression's effect of the horizon's known values."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from forecaster.scoring.candidates._statsforecast import STAT_HISTORY, Known, fitted, regressed

__all__ = ["STAT_HISTORY", "Known", "fitted", "regressed", "known_columns", "STATISTICAL", "fit_each"]


def known_columns(values: np.ndarray, origin: int, horizon: int, n_future: int) -> Known:
    """The --future columns (the last `n_future` of a series' values (n, features)) before `origin` and over
    the horizon after it; None without them."""
    if not n_future:
        return None
    return values[:origin, -n_future:], values[origin : origin + horizon, -n_future:]


def _candidates() -> dict[str, Callable[..., np.ndarray]]:
    """The `forecast` of each module of forecaster/scoring/candidates/ (`forecaster.config.STATISTICAL` lists
    them), by name."""
    import importlib

    from forecaster.config import STATISTICAL as NAMES

    return {name: importlib.import_module(f"forecaster.scoring.candidates.{name}").forecast for name in NAMES}


STATISTICAL: dict[str, Callable[..., np.ndarray]] = _candidates()


PROCESSES = 1  # worker processes for many fits; the CLI sets this machine's cores (`use_cores`)
PARALLEL_FROM = 64  # fits: fewer run here, as a worker's start-up (about 3 s: numba's compiled code) costs more


def use_cores(processes: int | None = None) -> None:
    """Spread later batches of statistical fits (`fit_each`) over `processes` worker processes (default:
    the cores this process may use). The workers are spawned, so a script calling this needs Python's
    `if __name__ == "__main__":` guard; the CLI has it, so it calls this."""
    global PROCESSES
    PROCESSES = processes or len(os.sched_getaffinity(0))


Job = tuple[str, np.ndarray] | tuple[str, np.ndarray, Known]  # (name, history[, known columns])


def fit_each(
    jobs: Sequence[Job], horizon: int, season: int, progress: Callable[[int], None] = lambda done: None
) -> list[np.ndarray]:
    """`STATISTICAL[name](history, horizon, season, known)` for each (name, history[, known]) job, in order: spread over
    `PROCESSES` workers when there are many jobs, the same numbers either way (each fit is the same call,
    in another process). AutoETS takes 0.3 s a series at season 24 on this 2-core machine, so a forecast
    of thousands of series served by the combination is bound by these fits. `progress` is called with the
    count of fits done after each (`forecaster.progress.Progress`)."""
    trimmed = [_trimmed(*job) for job in jobs]
    workers = min(PROCESSES, len(jobs) // (PARALLEL_FROM // 2))
    if workers < 2 or len(jobs) < PARALLEL_FROM or multiprocessing.current_process().daemon:
        results = (STATISTICAL[name](history, horizon, season, known) for name, history, known in trimmed)
        return _counted(results, progress)
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")  # not fork: TensorFlow's threads may hold locks
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        chunk = max(1, len(jobs) // (8 * workers))
        return _counted(pool.map(_fit, trimmed, [horizon] * len(jobs), [season] * len(jobs), chunksize=chunk), progress)


def _counted(results: Iterable[np.ndarray], progress: Callable[[int], None]) -> list[np.ndarray]:
    """The results in order, `progress` told the count after each."""
    done = []
    for result in results:
        done.append(result)
        progress(len(done))
    return done


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
