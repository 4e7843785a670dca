"""Forecasting with a saved run: the `horizon` steps after the last row of every series."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecaster.calendar import unix_seconds
from forecaster.data import Panel, future_times, load_panel
from forecaster.errors import ForecasterError
from forecaster.runs import Run
from forecaster.windowing import WindowSource


def quantile_column(level: float) -> str:
    """The CSV column of a quantile level: 0.1 -> q_10, 0.05 -> q_5, 0.975 -> q_97.5."""
    return f"q_{100 * level:g}"


def load_forecast_panel(run: Run, data_path: str | Path) -> Panel:
    """Read DATA with the run's column settings and check it holds only series the run knows."""
    data_cfg = replace(run.config.data, freq=run.freq)
    panel = load_panel(data_path, data_cfg)
    skipped = [s.series_id for s in panel.series if s.series_id in run.dropped]
    if skipped:
        panel.series = [s for s in panel.series if s.series_id not in run.dropped]
        panel.notes.append(f"skipped {len(skipped)} series that were too short to train on: {', '.join(skipped[:5])}")
        if not panel.series:
            raise ForecasterError(f"{data_path}: every series was too short to train on; nothing to forecast")
    unknown = [s.series_id for s in panel.series if s.series_id not in run.series]
    if unknown:
        raise ForecasterError(
            f"{data_path}: series {', '.join(map(repr, unknown[:3]))} not seen in training "
            f"(the run knows {len(run.series)} series); train a run that includes them"
        )
    short = [s.series_id for s in panel.series if len(s) < run.config.window.min_context]
    if short:
        raise ForecasterError(
            f"{data_path}: series {short[0]!r} has fewer than {run.config.window.min_context} points; "
            "the model needs at least that much history"
        )
    return panel


def predict_at(model: Any, run: Run, panel: Panel, series_idx: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """Forecasts in original units for windows (panel.series[series_idx[i]], origins[i]).

    Returns float64 (windows, horizon) or (windows, horizon, quantiles).
    """
    w = run.config.window
    states = [run.series[s.series_id] for s in panel.series]
    model_cfg = run.config.model
    embedding_row = {sid: i for i, sid in enumerate(run.series)}  # as in training
    source = WindowSource(
        (state.scaler.transform(s.values) for state, s in zip(states, panel.series)),
        w.lookback,
        w.horizon,
        w.patch,
        lengths=[len(s) for s in panel.series],
        times=(unix_seconds(s.time) for s in panel.series) if model_cfg.calendar else None,
        codes=np.array([embedding_row[s.series_id] for s in panel.series]) if model_cfg.series_embedding else None,
    )
    dataset = source.dataset(np.asarray(series_idx), np.asarray(origins), 1024, with_target=False)
    predictions = model.predict(dataset, verbose=0).astype("float64")
    for row, s in enumerate(series_idx):
        predictions[row] = states[s].scaler.inverse(predictions[row])
    return predictions


def forecast_frame(run: Run, panel: Panel, model: Any) -> pd.DataFrame:
    """The forecast CSV's rows: id, time, forecast (and one column per quantile)."""
    cfg = run.config
    ends = np.array([len(s) for s in panel.series])
    predictions = predict_at(model, run, panel, np.arange(len(ends)), ends)
    quantiles = cfg.model.quantiles
    horizon = cfg.window.horizon
    columns: dict[str, Any] = {}
    if cfg.data.id_col or len(panel.series) > 1:
        columns[cfg.data.id_col or "series"] = np.repeat([s.series_id for s in panel.series], horizon)
    times = [future_times(s.time_at(-1), panel.freq, horizon) for s in panel.series]
    columns[cfg.data.time_col or "step"] = times[0].append(times[1:]) if len(times) > 1 else times[0]
    if quantiles:
        columns["forecast"] = predictions[:, :, len(quantiles) // 2].ravel()
        for q, level in enumerate(quantiles):
            columns[quantile_column(level)] = predictions[:, :, q].ravel()
    else:
        columns["forecast"] = predictions.ravel()
    return pd.DataFrame(columns)


def recent_history(panel: Panel, run: Run, chosen: list[str] | None) -> dict[str, tuple[Any, np.ndarray]]:
    """The last few horizons of each chosen series (default: the first six), for plotting."""
    by_id = {s.series_id: s for s in panel.series}
    chosen = chosen or list(by_id)[:6]
    missing = [sid for sid in chosen if sid not in by_id]
    if missing:
        raise ForecasterError(f"--series: no series {missing[0]!r} in the data")
    keep = max(run.config.window.lookback, 3 * run.config.window.horizon)
    return {sid: (by_id[sid].time[-keep:], by_id[sid].values[-keep:, 0]) for sid in chosen}
