"""`evaluate`, `Forecaster.backtest` and `cross_validation`: a rolling-origin backtest of a trained run on
the tail of data training never saw, on this process or an engine, and the evaluation folder it writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from forecaster.config import check_setting
from forecaster.errors import SettingsError
from forecaster.io.files import atomic_directory, csv_safe, write_json
from forecaster.io.plots import plot_backtest, plot_errors_by_step
from forecaster.kinds import Network
from forecaster.models.backend import retracing_unsaid
from forecaster.serving.backtest import (
    filled_windows_note,
    folds_note,
    plot_panels,
    run_backtest,
    summarise,
    window_frame,
)
from forecaster.serving.checks import as_levels, check_folds
from forecaster.serving.forecast import load_forecast_panel, trained_panel
from forecaster.serving.predict import level_notes
from forecaster.serving.refit import refit_backtest
from forecaster.serving.requests import Backend, BacktestRequest, Evaluation, Log
from forecaster.training.runs import CALIBRATION_FILE, Run


def backtest_run(
    run: Run, model: Callable[[], Network], request: BacktestRequest, backend: Backend, log: Log
) -> Evaluation:
    """The backtest of `run` (whose network `model()` loads on first use) that `request` asks for, as
    `Forecaster.backtest` describes it, on `backend`."""
    check_folds(request.folds, request.step)
    check_setting("season", request.season)  # the rule every --season is checked by
    if request.refit is not None and backend.name != "local":
        raise SettingsError(
            f"--refit-every runs on this process: a refitting backtest of a global model trains on every series "
            f"at each cutoff, so it cannot be split by series over {backend.name}; leave out --engine"
        )
    for note in level_notes(run, request.bands.levels):
        log(f"note: {note}")
    return backend.backtest(run, model, request, log)


def backtest_here(run: Run, model: Callable[[], Network], request: BacktestRequest, log: Log) -> Evaluation:
    """`backtest_run` on this process."""
    panel = trained_panel(run, load_forecast_panel(run, request.data))
    longest = max(len(s) for s in panel.series)
    if request.season is not None and request.season >= longest:
        raise SettingsError(
            f"--season {request.season} is not shorter than the longest series ({longest} points): MASE's "
            "seasonal-naive scale needs a season the data covers; give a shorter --season"
        )
    for note in panel.notes:
        log(f"note: {note}")
    plan = request.plan(run.config.window.horizon, run.season)
    refits = None
    if request.refit is None:
        backtest = run_backtest(run, panel, model(), plan)
    else:
        with retracing_unsaid():  # every refitted run's networks trace their forward pass anew, by design
            backtest, refits = refit_backtest(run, panel, request.refit, plan, log)
    fewer = folds_note(backtest.series_idx, len(panel.series), plan.folds, plan.step)
    for said in (fewer, filled_windows_note(backtest)):
        if said:
            log(f"note: {said}")
    report, per_series = summarise(backtest, run, [s.series_id for s in panel.series], plan.season)
    if refits is not None:
        report["refits"] = refits
    return Evaluation(report, per_series, backtest, panel=panel)


def evaluation_levels(run: Run, level: Any) -> tuple[float, ...]:
    """The levels `evaluate` scores: those given, else 80 and 95 when the run has intervals."""

    if level is None and (run.path / CALIBRATION_FILE).is_file():
        return (80.0, 95.0)
    return as_levels(level or ())


def write_evaluation(run: Run, found: Evaluation, out: Path) -> None:
    """`evaluate`'s folder at `out`, whole or not at all: metrics.json, per_series.csv, forecasts.csv (every
    window step by step), errors_by_step.png and, where this process holds the series' history, backtest.png."""
    backtest, panel = found.backtest, found.panel
    with atomic_directory(out, "evaluation") as staging:
        write_json(staging / "metrics.json", found.report)
        csv_safe(found.per_series).to_csv(staging / "per_series.csv", index=False)
        windows = found.windows
        if windows is None:
            assert panel is not None, "a backtest run here holds its panel"
            windows = window_frame(backtest, run, panel)
        csv_safe(windows).to_csv(staging / "forecasts.csv", index=False)
        plot_errors_by_step(found.report["mae_by_step"], staging / "errors_by_step.png")
        if panel is not None:  # an engine's workers keep the series' history
            horizon, target = run.config.window.horizon, run.config.data.target
            total = len(set(backtest.series_idx.tolist()))
            selection = run.selection()
            served = selection.method if selection else "model"
            plot_backtest(plot_panels(backtest, panel, horizon, target, served), staging / "backtest.png", total)
