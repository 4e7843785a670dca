"""`evaluate`, `Forecaster.backtest` and `cross_validation`: a rolling-origin backtest of a trained run on
the tail of data training never saw, on this process or an engine, and the evaluation folder it writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from forecaster.config import check_setting
from forecaster.errors import SettingsError
from forecaster.io.files import atomic_directory, csv_safe, write_json
from forecaster.io.frames import Data
from forecaster.io.plots import plot_backtest, plot_errors_by_step
from forecaster.serving.backtest import (
    filled_windows_note,
    folds_note,
    plot_panels,
    run_backtest,
    summarise,
    window_frame,
)
from forecaster.serving.checks import as_levels, check_engine, check_folds, engine_of
from forecaster.serving.engines import engine_backtest
from forecaster.serving.forecast import load_forecast_panel, trained_panel
from forecaster.serving.predict import level_notes
from forecaster.serving.refit import BacktestPlan, refit_backtest
from forecaster.training.runs import CALIBRATION_FILE

Found = tuple[dict[str, Any], Any, tuple[Any, Any]]  # report, per-series table, (Backtest, panel or windows frame)


def backtest_run(
    run: Any,
    model: Callable[[], Any],
    data: Data,
    *,
    folds: int,
    step: int | None,
    season: int | None,
    levels: tuple[float, ...],
    engine: str = "local",
    address: str | None = None,
    adapt: bool = True,
    log: Callable[[str], None] = lambda _: None,
    refit: Any = None,
) -> Found:
    """The backtest of `run` (whose network `model()` loads on first use) on `data`, as `Forecaster.backtest`
    describes it: (report, per-series table, (Backtest, panel)); on an engine, the windows frame for the panel.
    `refit` (`forecaster.serving.refit.Refit`): the run refitted as the backtest goes (this process only)."""

    check_folds(folds, step)
    check_setting("season", season)  # the rule every --season is checked by
    engine = engine_of(data, engine)
    check_engine(engine, address)
    if refit is not None and engine != "local":
        raise SettingsError(
            f"--refit-every runs on this process: a refitting backtest of a global model trains on every series "
            f"at each cutoff, so it cannot be split by series over {engine}; leave out --engine"
        )
    if engine != "local":
        for note in level_notes(run, levels):
            log(f"note: {note}")
        log(f"backtesting on {engine}{f' at {address}' if address else ''}: whole series a partition")
        season = season or run.season
        step = step or run.config.window.horizon
        backtest, ids, windows = engine_backtest(run, data, folds, step, season, levels, engine, address, adapt)
        report, per_series = summarise(backtest, run, ids, season)
        return report, per_series, (backtest, windows)
    panel = trained_panel(run, load_forecast_panel(run, data))
    longest = max(len(s) for s in panel.series)
    if season is not None and season >= longest:
        raise SettingsError(
            f"--season {season} is not shorter than the longest series ({longest} points): MASE's seasonal-naive "
            "scale needs a season the data covers; give a shorter --season"
        )
    for note in [*panel.notes, *level_notes(run, levels)]:
        log(f"note: {note}")
    season = season or run.season
    step = step or run.config.window.horizon
    refits = None
    if refit is None:
        backtest = run_backtest(run, panel, model(), folds, step, season, levels, adapt)
    else:
        backtest, refits = refit_backtest(run, panel, refit, BacktestPlan(folds, step, season, levels, adapt), log)
    fewer = folds_note(backtest.series_idx, len(panel.series), folds, step)
    for said in (fewer, filled_windows_note(backtest)):
        if said:
            log(f"note: {said}")
    report, per_series = summarise(backtest, run, [s.series_id for s in panel.series], season)
    if refits is not None:
        report["refits"] = refits
    return report, per_series, (backtest, panel)


def evaluation_levels(run: Any, level: Any) -> tuple[float, ...]:
    """The levels `evaluate` scores: those given, else 80 and 95 when the run has intervals."""

    if level is None and (run.path / CALIBRATION_FILE).is_file():
        return (80.0, 95.0)
    return as_levels(level or ())


def write_evaluation(run: Any, found: Found, out: Path) -> None:
    """`evaluate`'s folder at `out`, whole or not at all: metrics.json, per_series.csv, forecasts.csv (every
    window step by step), errors_by_step.png and, where this process holds the series' history, backtest.png."""
    import pandas

    report, per_series, (backtest, panel) = found
    with atomic_directory(out, "evaluation") as staging:
        write_json(staging / "metrics.json", report)
        csv_safe(per_series).to_csv(staging / "per_series.csv", index=False)
        windows = panel if isinstance(panel, pandas.DataFrame) else window_frame(backtest, run, panel)
        csv_safe(windows).to_csv(staging / "forecasts.csv", index=False)
        plot_errors_by_step(report["mae_by_step"], staging / "errors_by_step.png")
        if not isinstance(panel, pandas.DataFrame):  # an engine's workers keep the series' history
            horizon, target = run.config.window.horizon, run.config.data.target
            total = len(set(backtest.series_idx.tolist()))
            served = run.selection().method if run.selection() else "model"
            plot_backtest(plot_panels(backtest, panel, horizon, target, served), staging / "backtest.png", total)
