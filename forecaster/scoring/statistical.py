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
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from time import perf_counter
from typing import Any

import numpy as np

from forecaster.config import STATISTICAL as NAMES
from forecaster.scoring.candidates._statsforecast import STAT_HISTORY, Known, fitted, regressed

__all__ = [
    "STAT_HISTORY", "Known", "fitted", "regressed", "known_columns", "STATISTICAL", "fit_each", "StatisticalFits", "Job"
]  # fmt: skip


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
    count of fits done after each (`forecaster.io.progress.Progress`)."""
    trimmed = [_trimmed(*job) for job in jobs]
    workers = _workers(len(jobs))
    if workers < 2 or multiprocessing.current_process().daemon:
        results = (STATISTICAL[name](history, horizon, season, known) for name, history, known in trimmed)
        return _counted(results, progress)
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")  # not fork: TensorFlow's threads may hold locks
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        chunk = max(1, len(jobs) // (8 * workers))
        return _counted(pool.map(_fit, trimmed, [horizon] * len(jobs), [season] * len(jobs), chunksize=chunk), progress)


class StatisticalFits:
    """Statistical fits started now and collected later: with PROCESSES of 2 or more (and `background`), in
    worker processes that begin at once, whatever the count (their start-up is hidden behind the work this
    process does meanwhile: training the network); else made when the results are asked for. The same calls
    as `fit_each`, so the same numbers either way."""

    def __init__(self, jobs: Sequence[Job], horizon: int, season: int, background: bool = True):
        self.jobs, self.horizon, self.season = list(jobs), horizon, season
        # the seconds the fits take as `fit_each` makes them, the network's training aside: measured on the clock
        # here, in the workers as each fit's processor time (the training beside them slows their clocks, not
        # their work), summed and shared among the workers `fit_each` would use
        self.seconds = 0.0
        self.beside = False  # whether they were begun in workers, beside what this process does meanwhile
        self._pool: Any = None
        self._pending: Iterator[tuple[np.ndarray, float]] | None = None
        if background and PROCESSES >= 2 and self.jobs and not multiprocessing.current_process().daemon:
            from concurrent.futures import ProcessPoolExecutor

            workers = min(PROCESSES, len(self.jobs))
            context = multiprocessing.get_context("spawn")  # not fork: TensorFlow's threads may hold locks
            self._pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start)
            trimmed = [_trimmed(*job) for job in self.jobs]
            chunk = max(1, len(trimmed) // (8 * workers))
            self.beside = True
            self._pending = self._pool.map(_timed_fit, trimmed, [horizon] * len(trimmed), [season] * len(trimmed),
                                           chunksize=chunk)  # fmt: skip

    @property
    def count(self) -> int:
        return len(self.jobs)

    def results(self, progress: Callable[[int], None] = lambda done: None) -> list[np.ndarray]:
        """Each job's forecast, in order (waiting for the workers' last ones)."""
        if self._pending is None:
            started = perf_counter()
            done = fit_each(self.jobs, self.horizon, self.season, progress)
            self.seconds = perf_counter() - started
            return done
        try:
            timed = _counted(self._pending, progress)
        finally:
            self.close()
        self.seconds = sum(seconds for _, seconds in timed) / _workers(len(self.jobs))
        return [forecast for forecast, _ in timed]

    def close(self) -> None:
        """Stop the workers (what they had not begun is cancelled): after the results, or when the work they
        ran beside failed or was interrupted."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _counted(results: Iterable[Any], progress: Callable[[int], None]) -> list[Any]:
    """The results in order, `progress` told the count after each."""
    done = []
    for result in results:
        done.append(result)
        progress(len(done))
    return done


def _workers(jobs: int) -> int:
    """The worker processes `fit_each` spreads `jobs` fits over (1: none, the fits run in this process)."""
    return min(PROCESSES, jobs // (PARALLEL_FROM // 2)) if jobs >= PARALLEL_FROM else 1


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


def _worker_start() -> None:
    """A worker's start. Ctrl-C stops the command, whose process then stops the workers (`close`), instead of
    each worker printing its own KeyboardInterrupt. And a worker dies with the process that made it: killed
    (kill -9, out of memory), that process cannot stop them, and a worker holds its own end of the queue it
    reads, so it would wait for work forever (holding the command's stdout and stderr open). Linux's
    parent-death signal ends it instead; elsewhere nothing ends it."""
    import ctypes
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: no such call
        return
    if os.getppid() != parent:  # the parent died before the call took effect
        os._exit(1)


PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def _timed_fit(job: tuple[str, np.ndarray, Known], horizon: int, season: int) -> tuple[np.ndarray, float]:
    """`_fit` and the processor seconds it took."""
    started = time.process_time()
    return _fit(job, horizon, season), time.process_time() - started
