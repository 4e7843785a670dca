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
import sys
import time
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from time import perf_counter
from typing import Any

import numpy as np

from forecaster.config import STATISTICAL as NAMES
from forecaster.errors import SettingsError
from forecaster.scoring.candidates._statsforecast import STAT_HISTORY, Known, fitted, regressed

__all__ = [
    "STAT_HISTORY", "Known", "fitted", "regressed", "known_columns", "STATISTICAL", "fit_each", "StatisticalFits",
    "Job", "fit_processes", "processes_for", "fit_worker_count", "usable_cores",
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


PARALLEL_FROM = 64  # fits: fewer run here, as a worker's start-up (about 3 s: numba's compiled code) costs more

# worker processes for the fits made inside a `fit_processes` block (outside any: none, they run here)
_PROCESSES: ContextVar[int] = ContextVar("forecaster_fit_processes", default=1)


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def processes_for(n_jobs: int | None) -> int:
    """Worker processes for `n_jobs`, as scikit-learn reads it: None or -1 every usable core, 1 none (the fits
    run in this process), k that many; anything else is refused."""
    if n_jobs is None or n_jobs == -1:
        return usable_cores()
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise SettingsError(f"n_jobs={n_jobs!r}: give a whole number of processes from 1, or -1 (every core)")
    return n_jobs


@contextmanager
def fit_processes(n_jobs: int | None) -> Iterator[None]:
    """Statistical fits (the validation guard's, a combination's) made inside the block spread over the worker
    processes `n_jobs` asks for (`processes_for`); as before after it. The CLI's commands and each `Forecaster`
    method run their work inside one, with the `n_jobs` they were given."""
    token = _PROCESSES.set(processes_for(n_jobs))
    try:
        yield
    finally:
        _PROCESSES.reset(token)


def fit_worker_count() -> int:
    """The worker processes fits may use here (`fit_processes`)."""
    return _PROCESSES.get()


@contextmanager
def _callers_script_left_out() -> Iterator[None]:
    """While workers are spawned, the caller's script is left out of what they are told to import first: they
    run this module's functions on arrays and need nothing of it, and a script without Python's
    `if __name__ == "__main__":` guard would otherwise run again in each of them (its training too)."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main
        else:
            del sys.modules["__main__"]


Job = tuple[str, np.ndarray] | tuple[str, np.ndarray, Known]  # (name, history[, known columns])


def fit_each(
    jobs: Sequence[Job], horizon: int, season: int, progress: Callable[[int], None] = lambda done: None
) -> list[np.ndarray]:
    """`STATISTICAL[name](history, horizon, season, known)` for each (name, history[, known]) job, in order: spread over
    `fit_worker_count()` workers when there are many jobs, the same numbers either way (each fit is the same call,
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
    chunk = max(1, len(jobs) // (8 * workers))
    with _callers_script_left_out():  # the workers start as the jobs are handed out
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start)
        made = pool.map(_fit, trimmed, [horizon] * len(jobs), [season] * len(jobs), chunksize=chunk)
    try:
        done = _counted(made, progress)
    except BaseException:
        stop_now(pool)
        raise
    pool.shutdown(wait=True)
    return done


class StatisticalFits:
    """Statistical fits started now and collected later: with 2 or more `fit_worker_count()` (and `background`), in
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
        processes = fit_worker_count()
        if background and processes >= 2 and self.jobs and not multiprocessing.current_process().daemon:
            from concurrent.futures import ProcessPoolExecutor

            workers = min(processes, len(self.jobs))
            context = multiprocessing.get_context("spawn")  # not fork: TensorFlow's threads may hold locks
            trimmed = [_trimmed(*job) for job in self.jobs]
            chunk = max(1, len(trimmed) // (8 * workers))
            self.beside = True
            with _callers_script_left_out():  # the workers start as the jobs are handed out
                self._pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start)
                self._pending = self._pool.map(_timed_fit, trimmed, [horizon] * len(trimmed),
                                               [season] * len(trimmed), chunksize=chunk)  # fmt: skip

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
        except BaseException:
            self.close()
            raise
        self._pool.shutdown(wait=True)
        self._pool = None
        self.seconds = sum(seconds for _, seconds in timed) / _workers(len(self.jobs))
        return [forecast for forecast, _ in timed]

    def close(self) -> None:
        """Stop the workers at once, their fits dropped (`stop_now`): the work they ran beside failed or was
        interrupted, or their results were never asked for."""
        if self._pool is not None:
            stop_now(self._pool)
            self._pool = None


def stop_now(pool: Any) -> None:
    """Shut a pool of fits down without waiting for its work, when the command was interrupted (SIGTERM,
    Ctrl-C) or failed, or the fits are not wanted: what it had not begun is cancelled and its workers are
    ended, so a worker's chunk of fits (a minute of AutoARIMA on a wide panel) is not waited out first."""
    workers = list((getattr(pool, "_processes", None) or {}).values())  # ProcessPoolExecutor's own
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    for worker in workers:
        worker.join(timeout=10)


def _counted(results: Iterable[Any], progress: Callable[[int], None]) -> list[Any]:
    """The results in order, `progress` told the count after each."""
    done = []
    for result in results:
        done.append(result)
        progress(len(done))
    return done


def _workers(jobs: int) -> int:
    """The worker processes `fit_each` spreads `jobs` fits over (1: none, the fits run in this process)."""
    return min(fit_worker_count(), jobs // (PARALLEL_FROM // 2)) if jobs >= PARALLEL_FROM else 1


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
