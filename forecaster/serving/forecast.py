"""Forecasting with a saved run: the `horizon` steps after the last row of every series."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from forecaster.config import WindowConfig
from forecaster.data.grid import following_times, future_times, last_times
from forecaster.data.panel import columns_of, named, read_panel
from forecaster.data.scaling import AffineScaler, fit_scalers
from forecaster.data.series import Panel, first_few
from forecaster.data.times import in_zone
from forecaster.data.windowing import valid_lengths
from forecaster.errors import DataError, ForecasterError, SettingsError
from forecaster.io.frames import Data
from forecaster.io.plain import plain_time
from forecaster.io.plots import History
from forecaster.scoring.baselines import baseline_forecast
from forecaster.scoring.floor import floored
from forecaster.scoring.selection import served_forecasts
from forecaster.scoring.statistical import Known
from forecaster.serving.adapt import adapted_bands
from forecaster.serving.columns import id_and_time_columns, quantile_column
from forecaster.serving.finite import check_finite
from forecaster.serving.requests import NO_BANDS, Bands
from forecaster.serving.windows import (
    floored_bands,
    floors_of,
    predict_at,
)
from forecaster.training.runs import Run


def load_forecast_panel(run: Run, data: Data) -> Panel:
    """Read DATA (a path or a DataFrame) with the run's column settings. Every series in it is forecast (see
    `forecast_plan`)."""
    return read_panel(data, replace(run.config.data, freq=run.freq))


def attach_future(run: Run, panel: Panel, future: Data) -> None:
    """Take each series' --future values at its forecast steps from `future` (`forecast --future-data`, a path or
    a DataFrame):
    a file with the id and time columns and the --future columns, the steps after each series' last row.
    They replace the future rows of DATA; rows outside the forecast steps are left out with a note, and
    a series with too few is refused by `check_future`, naming it."""
    data = run.config.data
    if not data.future:
        raise SettingsError("--future-data: this run takes no --future covariates; forecast without it")
    future_path = named(future)
    needed = [c for c in (data.id_col, data.time_col, *data.future) if c]
    missing = [c for c in needed if c not in columns_of(future, data)]
    if missing:
        raise DataError(f"{future_path}: no column {missing[0]!r}; the --future-data file needs {', '.join(needed)}")
    columns = replace(  # the known values only: a series' --static columns are in DATA, not here
        data, target=data.future[0], features=data.future[1:], future=(), static=(), fill="error", freq=panel.freq
    )
    try:
        given_panel = read_panel(future, columns)
        known = {s.series_id: s for s in given_panel.series}
    except ForecasterError as exc:  # the data's --fill hint does not apply: forecast fills no known values
        raise DataError(
            str(exc).replace(
                "pass --fill interpolate or --fill ffill, or fix the file",
                "known future values are never filled: give every one of them in the --future-data file",
            )
        ) from None
    if (given_panel.zone is None) != (panel.zone is None):  # else every row is only "outside the forecast steps"
        raise DataError(
            f"{future_path}: times in zone {given_panel.zone or 'none'}, the data's ({panel.path}) in "
            f"{panel.zone or 'none'}; write the --future-data times as the data writes them"
        )
    panel.future_source = str(future_path)
    ids = {series.series_id for series in panel.series}
    unknown = [sid for sid in known if sid not in ids]
    if unknown:
        panel.notes.append(
            f"{future_path}: {len(unknown)} series not in the data left out ({first_few(unknown)}): forecast "
            "only the series of --data"
        )
    horizon, dropped = run.config.window.horizon, 0
    for series in panel.series:
        given = known.get(series.series_id)
        series.future = np.zeros((0, len(data.future)))
        if given is None:
            continue
        first = future_times(series.time_at(-1), panel.freq, 1)[0]
        times = given.time
        start = int(times.searchsorted(first))
        if start < len(times) and times[start] == first:
            series.future = given.values[start : start + horizon]
        dropped += len(given) - len(series.future)
    if dropped:
        panel.notes.append(f"{future_path}: {dropped} row(s) outside the series' forecast steps left out")


def trained_panel(run: Run, panel: Panel) -> Panel:
    """Only the series the run trained on (a backtest needs to know what training saw of each)."""
    others = [s.series_id for s in panel.series if s.series_id not in run.series]
    if others:
        panel.series = [s for s in panel.series if s.series_id in run.series]
        panel.notes.append(
            f"left out {len(others)} series the run did not train on (no unseen tail is known for them): "
            f"{first_few(others)}"
        )
        if not panel.series:
            raise DataError(f"{panel.path}: none of its series was trained on by this run; nothing to backtest")
    return panel


@dataclass
class NoteTally:
    """What a forecast's notes count, added up over the blocks of a large panel: how many series the
    guard's choice serves, how many were not trained on, how many fell back, with the first few ids."""

    served: str = "model"
    networked: int = 0
    unseen: int = 0
    fallback: int = 0
    unseen_ids: list[str] = field(default_factory=list)
    fallback_ids: list[str] = field(default_factory=list)

    def merge(self, other: NoteTally) -> NoteTally:
        self.networked += other.networked
        self.unseen += other.unseen
        self.fallback += other.fallback
        self.unseen_ids += other.unseen_ids[: SHOWN + 1 - len(self.unseen_ids)]
        self.fallback_ids += other.fallback_ids[: SHOWN + 1 - len(self.fallback_ids)]
        return self

    def notes(self, run: Run) -> list[str]:
        w = run.config.window
        notes = []
        if self.served != "model" and self.networked:
            selection = run.selection()
            why = f": {selection.reason}" if selection and selection.reason else ", by the run's validation guard"
            if selection and selection.covariates:
                why += f"; it does not see {', '.join(selection.covariates)}, which are unused"
            notes.append(
                f"{self.networked} series forecast by {self.served}{why} (column `method`; a run trained with "
                "--select model serves the network alone)"
            )
        if self.unseen:
            notes.append(
                f"{self.unseen} series not trained on, forecast by the model with a scaler fitted on their given "
                f"history: {first_few(self.unseen_ids, SHOWN)}"
            )
        if self.fallback:
            reason = f"fewer than {max(w.min_context, w.patch, 1)} points" + (
                " or no series embedding" if run.config.model.series_embedding else ""
            )
            notes.append(
                f"{self.fallback} series ({reason}) forecast by seasonal naive or naive instead of the model "
                f"(column `method`): {first_few(self.fallback_ids, SHOWN)}"
            )
        return notes


SHOWN = 5  # series ids a note names
COST_NOTE_SECONDS = 60  # a forecast expected to spend longer than this in statistical fits says so first


def cost_note(run: Run, series: int) -> str | None:
    """What forecasting `series` series will cost when statistical fits serve them (measured in training on
    its machine), when that is over COST_NOTE_SECONDS; else None."""
    selection = run.selection()
    if selection is None or selection.method == "model" or selection.seconds_per_1000 is None:
        return None
    served, network = selection.seconds_per_1000
    expected = series * served / 1000
    if expected <= COST_NOTE_SECONDS:
        return None
    return (
        f"{series:,} series served by {selection.method}: about {expected / 60:.0f} min of statistical fits "
        f"(measured in training: {served:,.0f} s per 1,000 series, the network alone {network:,.1f} s); --engine "
        "dask, ray or spark spreads them over workers, and a run trained with --select model serves the network alone"
    )


@dataclass
class ForecastPlan:
    """How each series of a panel is forecast: its scaler and the method that makes its rows."""

    scalers: list[AffineScaler]
    methods: list[str]  # per series: what makes its rows (the CSV's `method`): "model", a guard's choice, or a fallback
    notes: list[str]
    networked: np.ndarray  # (series,) bool: the network can forecast it; its rows are calibrated (conformal bands)
    statistical: tuple[str, ...] = ()  # the run's statistical models (members of "combination")
    tally: NoteTally = field(default_factory=NoteTally)  # what `notes` count, to add up over blocks


def forecast_plan(run: Run, panel: Panel) -> ForecastPlan:
    """Decide, per series, how it is forecast; nothing is left out.

    - A series the run trained on keeps its training scaler; any other series (new, or too short
      for training) is scaled on the history given now, and the global model forecasts it.
    - The model needs one whole patch (and `min_context` points) of history; a series shorter than
      a full lookback is right-padded and masked as in training.
    - A series with less history than that, or an unseen series under a per-series embedding (it has
      no vector), gets seasonal naive (naive when shorter than a season), labelled as such.
    - When the run's validation guard (`forecaster.scoring.selection`) chose another method than the
      network, every series the network can forecast is forecast by that method (a statistical model,
      seasonal naive, or the combination of the network and the statistical models).
    """
    w = run.config.window
    selection = run.selection()
    served = selection.method if selection else "model"
    states = [run.series.get(series.series_id) for series in panel.series]
    fitted = iter(
        fit_scalers(
            w.scaler, [s.values for s, state in zip(panel.series, states) if state is None], w.transform == "log"
        )
    )
    scalers = [state.scaler if state else next(fitted) for state in states]
    lengths = np.array([len(series) for series in panel.series], dtype="int64")
    trained = np.array([state is not None for state in states], dtype=bool)
    own = forecast_methods(lengths, w, run.season, trained | (not run.config.model.series_embedding))
    networked = [method == "model" for method in own]
    methods = [served if by_model else method for method, by_model in zip(own, networked)]
    ids = [series.series_id for series in panel.series]
    fallback = [sid for sid, by_model in zip(ids, networked) if not by_model]
    unseen = [sid for sid, by_model, known in zip(ids, networked, trained) if by_model and not known]
    tally = NoteTally(served, sum(networked), len(unseen), len(fallback), unseen[: SHOWN + 1], fallback[: SHOWN + 1])
    return ForecastPlan(scalers, methods, tally.notes(run), np.array(networked, dtype=bool),
                        selection.statistical if selection else (), tally)  # fmt: skip


def forecast_method(length: int, window: WindowConfig, season: int, has_vector: bool = True) -> str:
    """The method that forecasts a series of `length` points (see `forecast_plan`)."""
    return forecast_methods(np.array([length]), window, season, np.array([has_vector]))[0]


def forecast_methods(lengths: np.ndarray, window: WindowConfig, season: int, has_vector: np.ndarray) -> list[str]:
    """`forecast_method` of each series, for all at once."""
    n_valid = valid_lengths(lengths, window.lookback, window.patch)
    by_model = (n_valid >= max(window.min_context, window.patch, 1)) & has_vector
    naive = np.where((1 < season) & (season <= lengths), "seasonal_naive", "naive")
    return np.where(by_model, "model", naive).tolist()


def check_future(run: Run, panel: Panel, chosen: np.ndarray) -> None:
    """Every series the network forecasts needs the --future columns' values at all `horizon` steps after
    its last row: one line naming the series, the first missing time and column, else."""
    cfg = run.config
    horizon, columns = cfg.window.horizon, cfg.data.future
    for i in chosen:
        series = panel.series[i]
        known = np.zeros((0, len(columns))) if series.future is None else series.future[:horizon]
        complete = np.isfinite(known).all(axis=1)
        if len(known) == horizon and complete.all():
            continue
        first = int(np.argmin(complete)) if not complete.all() else len(known)
        column = columns[int(np.argmin(np.isfinite(known[first])))] if first < len(known) else columns[0]
        when = future_times(series.time_at(-1), panel.freq, horizon)[first]
        has = f"{int(complete.cumprod().sum())}: first missing {plain_time(when)} (column {column!r})"
        if panel.future_source:  # the values came from --future-data: that file lacks them
            raise DataError(
                f"{panel.future_source}: series {series.series_id!r} needs the known values of --future "
                f"{', '.join(columns)} at its {horizon} forecast steps (after its last row in {panel.path}); this "
                f"--future-data file has {has}; add the missing rows to it"
            )
        raise DataError(
            f"{panel.path}: series {series.series_id!r} needs the known values of --future {', '.join(columns)} for "
            f"its {horizon} forecast steps (rows after its last target value, the target left empty, or a file "
            f"given with --future-data); it has {has}"
        )


def forecast_frame(
    run: Run,
    panel: Panel,
    model: Any,
    plan: ForecastPlan | None = None,
    bands: Bands = NO_BANDS,
) -> pd.DataFrame:
    """The forecast CSV's rows: id, time, forecast, the conformal `bands` (lo_80, hi_80, ...), one column per
    quantile, method. Adapting, the bands learn from the windows after training the panel holds
    (`forecaster.serving.adapt`); what that did is in the frame's `attrs["notes"]`."""
    cfg = run.config
    levels = bands.levels
    plan = plan or forecast_plan(run, panel)
    quantiles = cfg.model.quantiles
    horizon = cfg.window.horizon
    by_model = plan.networked
    methods = list(plan.methods)
    shape = (len(panel.series), horizon, len(quantiles)) if quantiles else (len(panel.series), horizon)
    predictions = np.full(shape, np.nan)
    floors = floors_of(run, panel, np.arange(len(panel.series)), np.array([len(s) for s in panel.series]))
    if by_model.any():
        chosen = np.flatnonzero(by_model)
        if cfg.model.n_future:
            check_future(run, panel, chosen)
        ends = np.array([len(panel.series[i]) for i in chosen])
        predictions[chosen] = floored(predict_at(model, run, panel, chosen, ends, plan.scalers), floors[chosen])
    point = predictions[:, :, len(quantiles) // 2] if quantiles else predictions
    for i in np.flatnonzero(~by_model):
        point[i] = baseline_forecast(methods[i], panel.series[i].values[:, 0], horizon, run.season)
    guarded = [i for i in np.flatnonzero(by_model) if methods[i] != "model"]  # the guard's choice (never quantiles)
    if guarded:
        histories = [panel.series[i].values[:, 0] for i in guarded]
        n_future = cfg.model.n_future
        known = [series_known(panel.series[i], n_future) for i in guarded]
        made, served = served_forecasts(
            [methods[i] for i in guarded], histories, horizon, run.season, point[guarded], plan.statistical, known
        )
        point[guarded] = made
        for i, method in zip(guarded, served):
            methods[i] = method
    point[:] = floored(point, floors)  # a fallback's or the guard's method too
    id_col, time_col = id_and_time_columns(cfg)
    columns: dict[str, np.ndarray] = {id_col: np.repeat([s.series_id for s in panel.series], horizon)}
    times = following_times(last_times(panel), panel.freq, horizon)
    columns[time_col] = in_zone(times, panel.zone)
    columns["forecast"] = point.ravel()
    notes = []
    if levels:
        own = predictions if quantiles else None
        conformal, note = conformal_bands(
            run, panel, point, by_model, plan, levels, own, model if bands.adapt else None
        )
        shaped = {name: values.reshape(point.shape[:2]) for name, values in conformal.items()}
        columns.update({name: values.ravel() for name, values in floored_bands(shaped, floors).items()})
        notes += [note] if note else []
    for q, level in enumerate(quantiles):  # a baseline's rows have no interval: NaN, not a made-up band
        columns[quantile_column(level)] = predictions[:, :, q].ravel()
    columns["method"] = np.repeat(methods, horizon)
    ids = [s.series_id for s in panel.series]
    check_finite({"forecast": point}, ids, panel.path)
    if levels:  # on the network's rows (a fallback's are empty: no band is made up)
        made = np.stack([columns[name].reshape(point.shape[:2]) for name in columns if name[:3] in ("lo_", "hi_")], 1)
        check_finite({"band": made[by_model]}, [sid for sid, networked in zip(ids, by_model) if networked], panel.path)
    frame = pd.DataFrame(columns)
    frame.attrs["notes"] = notes
    return frame


def series_known(series: Any, n_future: int) -> Known:
    """A series' --future columns over its history and its forecast steps, for the statistical fits
    (`forecaster.scoring.statistical.regressed`); without its known future values the fit fails and the
    network's forecast serves."""
    if not n_future:
        return None
    ahead = np.empty((0, n_future)) if series.future is None else series.future
    return series.values[:, -n_future:], ahead


def conformal_bands(
    run: Run,
    panel: Panel,
    point: np.ndarray,
    by_model: np.ndarray,
    plan: ForecastPlan,
    levels: tuple[float, ...],
    quantiles: np.ndarray | None = None,
    model: Any = None,
) -> tuple[dict[str, np.ndarray], str | None]:
    """lo/hi columns (flattened like the CSV) at each level for the model's rows; NaN for a baseline's. Given
    the `model`, the bands learn from the windows after training the panel holds (`forecaster.serving.adapt`):
    the note says what that did."""

    calibration = run.calibration()
    w = run.config.window
    chosen = np.flatnonzero(by_model)
    spreads = calibration.spreads(
        [panel.series[i].values[:, 0] for i in chosen],
        np.array([len(panel.series[i]) for i in chosen]),
        w.lookback,
        w.patch,
        np.array([plan.scalers[i].spread for i in chosen]),
        [panel.series[i].series_id for i in chosen],
    )
    picked = None if quantiles is None else quantiles[chosen]
    note = None
    if model is None:
        bands = calibration.bands(point[chosen], spreads, levels, picked, run.config.model.quantiles)
    else:
        bands, note = adapted_bands(run, panel, model, chosen, point[chosen], spreads, levels, picked)
    columns = {}
    for name, values in bands.items():
        full = np.full(point.shape, np.nan)
        full[chosen] = values
        columns[name] = full.ravel()
    return columns, note


def recent_history(panel: Panel, run: Run, chosen: list[str] | None) -> History:
    """The last few horizons of each chosen series (default: the first six), for plotting."""
    by_id = {s.series_id: s for s in panel.series}
    chosen = chosen or list(by_id)[:6]
    missing = [sid for sid in chosen if sid not in by_id]
    if missing:
        known = ", ".join(list(by_id)[:10]) + (" ..." if len(by_id) > 10 else "")
        raise SettingsError(f"--series: no series {missing[0]!r} in the data; it has {known}")
    keep = max(run.config.window.lookback, 3 * run.config.window.horizon)
    return {sid: (in_zone(by_id[sid].time[-keep:], panel.zone), by_id[sid].values[-keep:, 0]) for sid in chosen}
