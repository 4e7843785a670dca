"""Scoring forecasts in original units against seasonal-naive and other baselines."""

from __future__ import annotations

from typing import Any

import numpy as np

from forecaster.config import RunConfig
from forecaster.data.panel import Panel
from forecaster.data.windowing import evenly_spaced
from forecaster.scoring.baselines import baseline_forecast
from forecaster.scoring.calibration import Calibration, window_spreads
from forecaster.scoring.metrics import point_metrics, seasonal_naive_scale


def point_forecast(predictions: np.ndarray, quantiles: tuple[float, ...]) -> np.ndarray:
    """(windows, horizon[, quantiles]) -> (windows, horizon): the median when quantiles are on."""
    if predictions.ndim == 3:
        return predictions[:, :, len(quantiles) // 2]
    return predictions


def score_windows(
    actual: np.ndarray, forecasts: dict[str, np.ndarray], scales: np.ndarray
) -> dict[str, dict[str, float]]:
    """Metrics for each named forecast over the same windows.

    actual and each forecast: (windows, horizon) in original units; scales: (windows,) the MASE
    denominator of each window's series. Pooled MAE/RMSE mix series' units; MASE does not.
    """
    return {name: point_metrics(actual, forecast, scales) for name, forecast in forecasts.items()}


def example_rows(series_idx: np.ndarray, count: int = 4) -> list[int]:
    """Windows to plot: the last validation window of up to `count` different series, spread over the panel."""
    latest = {int(s): row for row, s in enumerate(series_idx)}
    distinct = list(latest)
    return [latest[distinct[i]] for i in evenly_spaced(len(distinct), count)]


def validation_report(
    model: Any, prepared: Any, panel: Panel, cfg: RunConfig, season: int
) -> tuple[dict[str, Any], list[dict[str, Any]], Calibration]:
    """The model against seasonal naive on the validation windows, in original units.

    Returns the report, a few example windows (history, actual, forecast) for a plot, and the
    conformal calibration made from the same windows' errors (`forecaster.scoring.calibration`).
    """
    series_idx, origins = prepared.val_index.take(evenly_spaced(len(prepared.val_index), cfg.train.max_val_windows))
    dataset = prepared.source.dataset(series_idx, origins, 1024, with_target=False)
    outputs = model.predict(dataset, verbose=0).astype("float64")  # (windows, horizon[, quantiles]), scaled
    predictions = point_forecast(outputs, cfg.model.quantiles)
    horizon = cfg.window.horizon
    ids = list(prepared.states)
    actual = np.empty_like(predictions, dtype="float64")
    forecast = np.empty_like(actual)
    naive = np.empty_like(actual)
    scales = np.empty(len(origins))
    for row, (s, origin) in enumerate(zip(series_idx, origins)):
        state = prepared.states[ids[s]]
        raw = panel.series[prepared.kept[s]].values[:, 0]
        actual[row] = raw[origin : origin + horizon]
        forecast[row] = state.scaler.inverse(predictions[row])
        naive[row] = baseline_forecast("seasonal_naive", raw[:origin], horizon, season)
        scales[row] = seasonal_naive_scale(raw[: state.n_train], season)
    w = cfg.window
    spreads = window_spreads(
        [panel.series[prepared.kept[s]].values[:, 0] for s in series_idx],
        origins,
        w.lookback,
        w.patch,
        np.array([prepared.states[ids[s]].scaler.scale[0] for s in series_idx]),
    )
    quantiles = None
    if cfg.model.quantiles:  # each window's quantile forecasts in original units, for the CQR scores
        quantiles = np.stack([prepared.states[ids[s]].scaler.inverse(outputs[row]) for row, s in enumerate(series_idx)])
    calibration = Calibration.fit(
        actual, forecast, spreads, [ids[s] for s in series_idx], quantiles, cfg.model.quantiles
    )
    scores = score_windows(actual, {"model": forecast, "seasonal_naive": naive}, scales)
    report = {
        "split": "validation",
        "windows": int(len(origins)),
        "season": season,
        **scores,
        "beats_seasonal_naive": scores["model"]["mase"] < scores["seasonal_naive"]["mase"],
    }
    examples = []
    for row in example_rows(series_idx):
        s, origin = series_idx[row], origins[row]
        series = panel.series[prepared.kept[s]]
        raw, time = series.values[:, 0], series.time
        start = max(0, origin - 3 * horizon)
        examples.append(
            {
                "series_id": ids[s],
                "target": cfg.data.target,
                "history_time": time[start:origin],
                "time": time[origin : origin + horizon],
                "history": raw[start:origin],
                "actual": actual[row],
                "forecast": forecast[row],
                "naive": naive[row],
                "band": ("80% interval", *(b[0] for b in calibration.bands(
                    forecast[row : row + 1], spreads[row : row + 1], [ids[s]], (80.0,)).values())),
            }
        )  # fmt: skip
    return report, examples, calibration
