"""`forecast --level` bands that learn from the actuals after training found in the data given.

The run's calibration table stays as trained: the update is a function of the data (`forecaster.scoring.
adaptive`). Each series the run trained on whose data runs past what training used gets its latest
windows after training, `horizon` apart and ending at its last row, forecast as `forecast` would have made
them; their realised errors move its band at the forecast origin.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from forecaster.data.series import Panel
from forecaster.scoring.adaptive import Windows, adapted_multipliers
from forecaster.scoring.calibration import level_name
from forecaster.scoring.floor import floored
from forecaster.scoring.validation import point_forecast
from forecaster.serving.backtest import served_forecasts, trained_until
from forecaster.serving.windows import floors_of, predict_at
from forecaster.training.runs import Run

ADAPT_WINDOWS = 100  # the latest windows after training a series' band learns from
ADAPT_BUDGET = 20_000  # windows over the panel: beyond it, fewer a series


def newer_windows(run: Run, panel: Panel, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(series positions, origins) of the windows after training whose actuals `panel` holds: for each of the
    `chosen` series the run trained on, its latest ones, `horizon` apart, the newest ending at its last row."""

    horizon = run.config.window.horizon
    trained = [i for i in chosen if panel.series[i].series_id in run.series]
    per_series = max(1, min(ADAPT_WINDOWS, ADAPT_BUDGET // max(len(trained), 1)))
    series_idx, origins = [], []
    for i in trained:
        series = panel.series[i]
        ends = len(series) - horizon - horizon * np.arange(per_series)
        ends = ends[ends >= max(trained_until(run, series), run.config.window.lookback)]
        series_idx += [i] * len(ends)
        origins += sorted(ends.tolist())
    return np.asarray(series_idx, dtype=int), np.asarray(origins, dtype=int)


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
    run's `quantiles` (chosen, horizon, levels)) learnt from their windows after training, and a note saying
    how many and what they changed (None: there were none; the bands are the static ones)."""

    calibration, cfg = run.calibration(), run.config
    quantile_levels, horizon = cfg.model.quantiles, cfg.window.horizon
    series_idx, origins = newer_windows(run, panel, chosen)
    if not len(origins):
        return calibration.bands(point, spreads, levels, quantiles, quantile_levels), None
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
    newer_spreads = calibration.spreads(
        [panel.series[s].values[:, 0] for s in series_idx],
        origins,
        w.lookback,
        w.patch,
        np.array([run.series[panel.series[s].series_id].scaler.scale[0] for s in series_idx]),
        [panel.series[s].series_id for s in series_idx],
    )
    # the forecast windows last: each learns from every newer window of its series, none from it
    ends = np.array([len(panel.series[i]) for i in chosen])
    windows = Windows(
        np.concatenate([actual, np.full(point.shape, np.nan)]),
        np.concatenate([forecast, point]),
        np.concatenate([newer_spreads, spreads]),
        np.concatenate([series_idx, chosen]),
        np.concatenate([origins, ends]),
        None if quantiles is None else np.concatenate([made, quantiles]),
        quantile_levels,
    )
    multipliers = adapted_multipliers(calibration, windows, levels)
    final = {level: table[len(origins) :] for level, table in multipliers.items()}
    bands = calibration.bands(point, spreads, levels, quantiles, quantile_levels, final)
    static = calibration.bands(point, spreads, levels, quantiles, quantile_levels)
    rows = np.isin(chosen, series_idx)
    widths = ", ".join(f"{level:g}% {width_ratio(bands, static, level_name(level), rows):.2f}x" for level in levels)
    note = (
        f"--level bands learnt from the realised errors of {len(origins):,} windows after training "
        f"({len(np.unique(series_idx)):,} series; --adapt off for the bands calibrated in training): their widths "
        f"against those, on the series that had such windows: {widths}"
    )
    return bands, note


def width_ratio(bands: dict[str, np.ndarray], static: dict[str, np.ndarray], name: str, rows: np.ndarray) -> float:
    """The mean width of `bands` at level `name` ("95") over the mean width of the `static` ones, on `rows`."""
    adapted = np.mean(bands[f"hi_{name}"][rows] - bands[f"lo_{name}"][rows])
    fixed = np.mean(static[f"hi_{name}"][rows] - static[f"lo_{name}"][rows])
    return float(adapted / fixed) if fixed > 0 else float("nan")
