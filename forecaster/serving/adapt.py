"""`forecast --level` bands that learn from the actuals after training found in the data given.

The run's calibration table stays as trained: the update is a function of the data (`forecaster.scoring.
adaptive`). Each series the run trained on whose data runs past what training used gets its latest
windows after training, `horizon` apart and ending at its last row, forecast as `forecast` would have made
them; their realised errors move its band at the forecast origin. An updated run's bands learn first from
the windows its update carried (`carried_forward`: those the run it updated had served since its training, and
those that one carried), so they do not start over at every update.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from forecaster.data.series import Panel
from forecaster.scoring.adaptive import Realised, Windows, adapted_multipliers
from forecaster.scoring.calibration import Calibration, level_name
from forecaster.scoring.floor import floored
from forecaster.scoring.validation import point_forecast
from forecaster.serving.backtest import served_forecasts
from forecaster.serving.windows import floors_of, predict_at
from forecaster.training.runs import Run, trained_until

ADAPT_WINDOWS = 100  # the latest windows after training a series' band learns from
ADAPT_BUDGET = 20_000  # windows over the panel: beyond it, fewer a series (as many again carried by an update)


def newer_windows(run: Run, panel: Panel, chosen: np.ndarray, holdout: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(series positions, origins) of the windows after training whose actuals `panel` holds: for each of the
    `chosen` series the run trained on, its latest ones, `horizon` apart, the newest ending at its last row (or
    `holdout` rows before it)."""

    horizon = run.config.window.horizon
    trained = [i for i in chosen if panel.series[i].series_id in run.series]
    per_series = windows_a_series(len(trained))
    series_idx, origins = [], []
    for i in trained:
        series = panel.series[i]
        ends = len(series) - holdout - horizon - horizon * np.arange(per_series)
        ends = ends[ends >= max(trained_until(run, series), run.config.window.lookback)]
        series_idx += [i] * len(ends)
        origins += sorted(ends.tolist())
    return np.asarray(series_idx, dtype=int), np.asarray(origins, dtype=int)


def windows_a_series(series: int) -> int:
    """How many of its latest windows a series' band learns from, with `series` series learning."""
    return max(1, min(ADAPT_WINDOWS, ADAPT_BUDGET // max(series, 1)))


def served_windows(
    run: Run, calibration: Calibration, panel: Panel, model: Any, chosen: np.ndarray, holdout: int = 0
) -> Windows:
    """The `chosen` series' windows after training (`newer_windows`), forecast as `forecast` would have served
    them, with their actuals and their spreads as the run's `calibration` measures them; `series` holds their
    positions in `panel`."""
    cfg = run.config
    quantile_levels, horizon = cfg.model.quantiles, cfg.window.horizon
    series_idx, origins = newer_windows(run, panel, chosen, holdout)
    if not len(origins):
        empty = np.empty((0, horizon))
        own = np.empty((0, horizon, len(quantile_levels))) if quantile_levels else None
        return Windows(empty, empty, np.empty(0), series_idx, origins, own, quantile_levels)
    learning = sorted(set(series_idx.tolist()))  # the series the run trained on, with windows after training
    trained = replace(panel, series=[panel.series[i] for i in learning], notes=[])
    at = np.searchsorted(learning, series_idx)
    floors = floors_of(run, trained, at, origins)  # as `forecast` would have served them
    made = floored(predict_at(model, run, trained, at, origins), floors)
    forecast = point_forecast(made, quantile_levels)
    selection = run.selection()
    if selection and selection.method != "model":
        forecast = served_forecasts(forecast, trained, at, origins, selection, horizon, run.season, cfg.model.n_future)
    forecast = floored(forecast, floors)
    actual = np.stack([panel.series[s].values[o : o + horizon, 0] for s, o in zip(series_idx, origins)])
    w = cfg.window
    spreads = calibration.spreads(
        [panel.series[s].values[:, 0] for s in series_idx],
        origins,
        w.lookback,
        w.patch,
        np.array([run.series[panel.series[s].series_id].scaler.spread for s in series_idx]),
        [panel.series[s].series_id for s in series_idx],
    )
    return Windows(actual, forecast, spreads, series_idx, origins, made if quantile_levels else None, quantile_levels)


def carried_forward(parent: Run, panel: Panel, holdout: int) -> Realised | None:
    """What `parent`'s bands have learnt, for the run an update of it on `panel` makes: the windows the parent
    carried, then its own windows after training whose actuals `panel` holds before the update's `holdout`, as
    `forecast` served them; each series' newest `windows_a_series`. None where there are none."""
    carried = parent.realised()
    ids = [series.series_id for series in panel.series]
    made = served_windows(
        parent, parent.calibration(), panel, parent.load_model(), np.arange(len(panel.series)), holdout
    )
    if len(made.origins):
        newest = Realised.of(made, ids)
        carried = newest if carried is None else carried.then(newest)
    if carried is None or not len(carried.series):
        return None
    return carried.newest(windows_a_series(len(np.unique(carried.series))))


def adapted_bands(
    run: Run,
    panel: Panel,
    model: Any,
    chosen: np.ndarray,
    point: np.ndarray,
    spreads: np.ndarray,
    levels: tuple[float, ...],
    quantiles: np.ndarray | None,
) -> tuple[dict[str, np.ndarray], str | None]:
    """The bands of the `chosen` series' forecasts (`point` (chosen, horizon), `spreads` (chosen,), a quantile
    run's `quantiles` (chosen, horizon, levels)) learnt from their windows after training (after those an
    updated run carries: `Run.realised`), and a note saying how many and what they changed (None: there were
    none; the bands are the static ones)."""

    calibration, quantile_levels = run.calibration(), run.config.model.quantiles
    newer = served_windows(run, calibration, panel, model, chosen)
    # the forecast windows last: each learns from every newer window of its series, none from it
    ends = np.array([len(panel.series[i]) for i in chosen])
    windows = Windows(
        np.concatenate([newer.actual, np.full(point.shape, np.nan)]),
        np.concatenate([newer.forecast, point]),
        np.concatenate([newer.spreads, spreads]),
        np.concatenate([newer.series, chosen]),
        np.concatenate([newer.origins, ends]),
        None if quantiles is None or newer.quantiles is None else np.concatenate([newer.quantiles, quantiles]),
        quantile_levels,
    )
    carried = run.realised()
    windows, first = (windows, 0) if carried is None else carried.before(windows, [s.series_id for s in panel.series])
    learnt = first + len(newer.origins)
    if not learnt:
        return calibration.bands(point, spreads, levels, quantiles, quantile_levels), None
    multipliers = adapted_multipliers(calibration, windows, levels)
    final = {level: table[learnt:] for level, table in multipliers.items()}
    bands = calibration.bands(point, spreads, levels, quantiles, quantile_levels, final)
    static = calibration.bands(point, spreads, levels, quantiles, quantile_levels)
    rows = np.isin(chosen, windows.series[:learnt])
    widths = ", ".join(f"{level:g}% {width_ratio(bands, static, level_name(level), rows):.2f}x" for level in levels)
    before = f" and {first:,} before it, served by the runs it was updated from" if first else ""
    note = (
        f"--level bands learnt from the realised errors of {len(newer.origins):,} windows after training{before} "
        f"({len(np.unique(windows.series[:learnt])):,} series; --adapt off for the bands calibrated in training): "
        f"their widths against those, on the series that had such windows: {widths}"
    )
    return bands, note


def width_ratio(bands: dict[str, np.ndarray], static: dict[str, np.ndarray], name: str, rows: np.ndarray) -> float:
    """The mean width of `bands` at level `name` ("95") over the mean width of the `static` ones, on `rows`."""
    adapted = np.mean(bands[f"hi_{name}"][rows] - bands[f"lo_{name}"][rows])
    fixed = np.mean(static[f"hi_{name}"][rows] - static[f"lo_{name}"][rows])
    return float(adapted / fixed) if fixed > 0 else float("nan")
