"""`evaluate --refit-every K`: a backtest whose run keeps learning, as one in production would. The windows are
taken in time order, K cutoffs at a time; before each group the run is updated (`forecaster update`: a warm
start from the run before it) on the data up to the group's first cutoff, never later, and that run forecasts
the group. `--refit-from-scratch` trains anew there instead (the peers' protocol: Darts'
`historical_forecasts(retrain=...)`, NeuralForecast's `cross_validation(refit=...)`)."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np

from forecaster.data.series import Panel
from forecaster.io.frames import RUN_FOLDER, temporary_folder
from forecaster.io.plain import counted
from forecaster.kinds import JSON
from forecaster.scoring.metrics import seasonal_naive_scale
from forecaster.serving.adapt import carried_forward
from forecaster.serving.backtest import backtest_origins, backtest_windows
from forecaster.serving.kept_refits import KeptRefits, RefitOf, manifest_digest
from forecaster.serving.requests import Backtest, BacktestPlan, Refit
from forecaster.settings import Settings
from forecaster.training.runs import Run, load_run, trained_until
from forecaster.training.train import train_run
from forecaster.training.update import UpdateOptions, learnt_all, update_run


def refit_backtest(
    run: Run, panel: Panel, refit: Refit, plan: BacktestPlan, log: Callable[[str], None]
) -> tuple[Backtest, JSON]:
    """The backtest of `run` on `panel` with the run refitted as `refit` says; returns it (the windows in the
    order `run_backtest` gives them) and what the refits were (count, seconds, cutoffs)."""
    series_idx, origins, on_filled = backtest_origins(run, panel, plan.folds, plan.step)
    times = [panel.series[s].time_at(int(o)) for s, o in zip(series_idx, origins)]
    cutoffs = sorted(set(times))
    groups = [cutoffs[k : k + refit.every] for k in range(0, len(cutoffs), refit.every)]
    # a run whose training reached the first cutoff forecasts the first group itself: a refit there would learn
    # nothing it has not (later groups always have newer data: the group before's)
    skipped = int(bool(groups) and learnt_all(run, cutoff_panel(panel, groups[0][0])))
    needed = len(groups) - skipped
    log(
        f"backtest with refits: {len(origins)} windows at {len(cutoffs)} cutoffs, the run "
        f"{'trained anew' if refit.from_scratch else 'updated'} before each {refit.every} of them: "
        f"{counted(needed, 'refit')}"
        + (", none before the first: the run has learnt every point before it" if skipped else "")
    )
    parts: list[tuple[np.ndarray, Backtest]] = []
    refits = Refits(run, refit, needed, log)
    try:
        current = run
        for k, group in enumerate(groups):
            if k >= skipped:
                current = refits.made(current, cutoff_panel(panel, group[0]), f"refit-{k}", group[0])
            members = set(group)
            rows = np.flatnonzero([time in members for time in times])
            made = backtest_windows(current, panel, current.load_model(), series_idx[rows], origins[rows], plan)
            parts.append((rows, made))
    finally:
        refits.close()
    backtest = merged(parts, len(origins))
    scales = [
        seasonal_naive_scale(panel.series[s].values[: trained_until(run, panel.series[s]), 0], plan.season)
        for s in backtest.series_idx
    ]  # fmt: skip  (MASE scaled as the run's own backtest scales it)
    backtest = replace(backtest, scales=np.asarray(scales, dtype="float64"), on_filled=on_filled)
    return backtest, refits.info()


class Refits:
    """The refits of one backtest of `run`, in order: each made in a temporary folder (removed at `close`), or
    kept in `refit.kept`, where one recorded as made from the same run and data is reused; what they were."""

    def __init__(self, run: Run, refit: Refit, needed: int, log: Callable[[str], None]):
        self.run, self.refit, self.needed, self.log = run, refit, needed, log
        self.kept = None if refit.kept is None else KeptRefits(refit.kept)
        self.folder = temporary_folder(RUN_FOLDER) if self.kept is None else self.kept.folder
        self.seconds: list[float] = []
        self.cutoffs: list[str] = []
        self.served: list[str] = []  # what each refitted run serves (its guard is renewed too)
        self.reused = 0

    def made(self, current: Run, data: Panel, name: str, cutoff: object) -> Run:
        """The run refitted from `current` on `data` (the rows before `cutoff`), as `name`."""
        start = self.run if self.refit.from_scratch else current
        how = "anew" if self.refit.from_scratch else "update"
        made_of = RefitOf(manifest_digest(start.path), str(cutoff), str(data.sha256), how, self.refit.epochs)
        found = None if self.kept is None else self.kept.reusable(name, made_of)
        if found is None:
            started = perf_counter()
            current = refitted(current, self.run, data, self.folder / name, self.refit)
            self.seconds.append(perf_counter() - started)
            if self.kept is not None:
                self.kept.remember(name, made_of, self.seconds[-1])
            cost = f"{self.seconds[-1]:.0f} s"
        else:
            (current, took), self.reused = found, self.reused + 1
            self.seconds.append(took)
            cost = f"kept in {current.path} ({took:.0f} s when made)"
        choice = current.selection()
        self.served.append(choice.method if choice is not None else "model")
        self.cutoffs.append(str(cutoff))
        self.log(f"  refit {len(self.seconds)}/{self.needed}: data up to {cutoff} (not included), {cost}, "
                 f"serving {self.served[-1]}")  # fmt: skip
        return current

    def close(self) -> None:
        if self.kept is None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def info(self) -> JSON:
        """What the refits were, for metrics.json: count, seconds (those reused at what they took when made),
        cutoffs, what each served, and where they are kept (and how many were reused)."""
        kept = {} if self.kept is None else {"kept_in": str(self.kept.folder), "reused": self.reused}
        return {
            "every": self.refit.every,
            "from_scratch": self.refit.from_scratch,
            "count": len(self.seconds),
            "seconds": round(sum(self.seconds), 1),
            **kept,
            "cutoffs": self.cutoffs,
            "served": self.served,
        }


def refitted(current: Run, original: Run, data: Panel, out: Path, refit: Refit) -> Run:
    """The run that forecasts the next group: `current` updated on `data` (a warm start), or with
    `from_scratch`, a run trained anew on it with `original`'s settings. No step is held out: the run learns
    from every point before the cutoff."""
    quiet: Callable[[str], None] = lambda _: None  # noqa: E731  (the refits' own lines: one each is said above)
    if refit.from_scratch:
        settings = Settings.of_run(original.config.to_dict()).with_values("window", holdout=0)
        if refit.epochs:
            settings = settings.with_values("train", epochs=refit.epochs)
        train_run(data.path, settings, out, quiet, panel=data)
    else:
        options = UpdateOptions(epochs=refit.epochs, holdout=0)
        update_run(current.path, data.path, out, quiet, options, panel=data, carry=carried_forward)
    return load_run(out)


def cutoff_panel(panel: Panel, cutoff: Any) -> Panel:
    """Each series' rows before `cutoff` (a time, or a step number), no known future: the data a run refitted
    at that cutoff may learn from. Its digest names exactly those values."""
    series, digest = [], hashlib.sha256()
    for one in panel.series:
        end = int(np.searchsorted(np.asarray(one.time), np.asarray(cutoff, dtype=np.asarray(one.time).dtype)))
        filled = None if one.filled is None else one.filled[one.filled < end]
        cut = replace(
            one, values=one.values[:end], future=None, filled=filled, n_filled=0 if filled is None else len(filled)
        )
        digest.update(one.series_id.encode() + cut.values.tobytes())
        series.append(cut)
    return replace(panel, series=series, sha256=digest.hexdigest(), notes=[])


def merged(parts: list[tuple[np.ndarray, Backtest]], count: int) -> Backtest:
    """One backtest of the groups' windows, each back in its row. A group whose run served the network alone
    has no `served` forecasts: the network's stand in (what that run served)."""
    rows = [where for where, _ in parts]
    made = [backtest for _, backtest in parts]
    names = sorted(set().union(*(backtest.forecasts for backtest in made)))
    forecasts = {
        name: placed([m.forecasts.get(name, m.forecasts["model"]) for m in made], rows, count) for name in names
    }
    bands = None
    if made[0].bands is not None:
        bands = {
            name: placed([m.bands[name] for m in made if m.bands is not None], rows, count) for name in made[0].bands
        }
    quantiles = [m.quantiles for m in made if m.quantiles is not None]
    spreads = [m.spreads for m in made if m.spreads is not None]
    return Backtest(
        placed([m.series_idx for m in made], rows, count),
        placed([m.origins for m in made], rows, count),
        placed([m.actual for m in made], rows, count),
        forecasts,
        placed([m.scales for m in made], rows, count),
        placed(quantiles, rows, count) if len(quantiles) == len(made) else None,
        bands,
        placed(spreads, rows, count) if len(spreads) == len(made) else None,
        made[0].adapted,
    )


def placed(arrays: list[np.ndarray], rows: list[np.ndarray], count: int) -> np.ndarray:
    """The groups' arrays as one of `count` rows, each group's rows where `rows` says."""
    out = np.empty((count, *arrays[0].shape[1:]), dtype=arrays[0].dtype)
    for where, array in zip(rows, arrays):
        out[where] = array
    return out
