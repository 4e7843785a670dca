"""Scoring forecasts in original units against seasonal-naive and other baselines."""

from __future__ import annotations

import math
from dataclasses import dataclass
from time import perf_counter

import numpy as np
import pandas as pd

from forecaster.config import RunConfig
from forecaster.data.prepared import Prepared
from forecaster.data.series import Panel
from forecaster.data.windowing import FORWARD_BATCH, WindowIndex, evenly_spaced
from forecaster.io.progress import Progress
from forecaster.kinds import JSON, Log, Network
from forecaster.scoring.baselines import baseline_forecast
from forecaster.scoring.calibration import CALIBRATION_MIN_WINDOWS, Calibration, difficulty_factors, window_spreads
from forecaster.scoring.evidence import spread_windows
from forecaster.scoring.metrics import point_metrics, seasonal_naive_scale, usable_scales
from forecaster.scoring.selection import (
    COMBINATION,
    LONG_VALIDATION,
    STAT_POINT_BUDGET,
    Selection,
    candidates,
    choose,
    combined,
)
from forecaster.scoring.statistical import STAT_HISTORY, Job, StatisticalFits, known_columns


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


@dataclass(frozen=True)
class WindowForecasts:
    """The model's forecasts of some validation windows, in original units."""

    series_idx: np.ndarray  # (n,) the series' index in the prepared source
    origins: np.ndarray  # (n,)
    actual: np.ndarray  # (n, horizon)
    forecast: np.ndarray  # (n, horizon): the point forecast
    quantiles: np.ndarray | None  # (n, horizon, levels) for quantile runs
    spreads: np.ndarray  # (n,) each window's spread (`window_spreads`)
    seconds: float  # what forecasting them took, per window (for the guard's cost statement)


def forecast_windows(
    model: Network, prepared: Prepared, panel: Panel, cfg: RunConfig, index: WindowIndex, season: int
) -> WindowForecasts:
    """Forecast the windows of `index` (at most `max_val_windows` of them, evenly spaced); their spreads
    measured as `--interval-spread` says."""
    started = perf_counter()
    series_idx, origins = index.take(evenly_spaced(len(index), cfg.train.max_val_windows))
    dataset = prepared.source.dataset(series_idx, origins, FORWARD_BATCH, with_target=False)
    outputs = model.predict(dataset, verbose=0).astype("float64")  # (windows, horizon[, quantiles]), scaled
    states = list(prepared.states.values())
    targets = {s: panel.series[prepared.kept[s]].values[:, 0] for s in set(series_idx)}  # one array a series
    values = [targets[s] for s in series_idx]
    horizon = cfg.window.horizon
    actual = np.stack([raw[origin : origin + horizon] for raw, origin in zip(values, origins)]).astype("float64")
    unscaled = np.stack([states[s].scaler.inverse(out) for s, out in zip(series_idx, outputs)])
    w = cfg.window
    scales = np.array([states[s].scaler.spread for s in series_idx])
    spreads = window_spreads(values, origins, w.lookback, w.patch, scales, cfg.train.interval_spread, season)
    quantiles = unscaled if cfg.model.quantiles else None
    forecast = point_forecast(unscaled, cfg.model.quantiles)
    seconds = (perf_counter() - started) / max(len(origins), 1)
    return WindowForecasts(series_idx, origins, actual, forecast, quantiles, spreads, seconds)


def calibration_windows(index: WindowIndex, horizon: int) -> WindowIndex:
    """The validation windows the conformal calibration is made from: the last `horizon` of each series
    (more for a panel of few series, so that about CALIBRATION_MIN_WINDOWS pool; a series with fewer
    gives all it has), the windows nearest in time to the origin a forecast is made from."""
    return index.latest(max(horizon, math.ceil(CALIBRATION_MIN_WINDOWS / max(len(index.series), 1))))


def older_windows(scored: WindowForecasts, recent: WindowForecasts) -> np.ndarray:
    """(len(scored),) True for the windows of `scored` older than every calibration window (`recent`) of
    their series: the validation windows the difficulty factors are measured on."""
    first: dict[int, int] = {}
    for s, origin in zip(recent.series_idx, recent.origins):
        first[s] = min(origin, first.get(s, origin))
    return np.array([origin < first.get(s, -1) for s, origin in zip(scored.series_idx, scored.origins)], dtype=bool)


def origin_period(panel: Panel, kept: list[int], series_idx: np.ndarray, origins: np.ndarray) -> str:
    """The span of some windows' origins in words: 'from 2016-03-01 to 2016-12-16 (290 days)', 'from steps 700 to
    960', '1982-01-01 only'."""
    times = [panel.series[kept[s]].time_at(int(origin)) for s, origin in zip(series_idx, origins)]
    first, last = min(times), max(times)
    if first == last:
        return f"{plain_time(first) if isinstance(first, pd.Timestamp) else f'step {first}'} only"
    if not isinstance(first, pd.Timestamp):
        return f"from steps {first} to {last}"
    days = (last - first) / pd.Timedelta(days=1)
    span = f"{days:.0f} days" if days >= 2 else f"{days * 24:.0f} hours"
    return f"from {plain_time(first)} to {plain_time(last)} ({span})"


def plain_time(when: pd.Timestamp) -> str:
    """A timestamp without a midnight time of day."""
    return str(when.date()) if when == when.normalize() else str(when)


def blind_candidates(cfg: RunConfig) -> frozenset[str]:
    """The candidates that ignore some of the run's covariates: seasonal naive ignores every one; the
    statistical models ignore --static columns (the --future ones they take)."""
    blind = {"seasonal_naive"} if cfg.data.future or cfg.data.static else set()
    return frozenset(blind | (set(cfg.train.statistical) if cfg.data.static else set()))


def unused_covariates(method: str, cfg: RunConfig) -> tuple[str, ...]:
    """The run's --future and --static columns that `method` does not see."""
    if method in ("model", COMBINATION):
        return ()
    return (*(cfg.data.future if method == "seasonal_naive" else ()), *cfg.data.static)


def scored_index(prepared: Prepared, cfg: RunConfig) -> tuple[np.ndarray, np.ndarray]:
    """(series_idx, origins) of the validation windows scored (`forecast_windows` of `prepared.val_index`): at
    most `max_val_windows` of them, evenly spaced."""
    index = prepared.val_index
    return index.take(evenly_spaced(len(index), cfg.train.max_val_windows))


def guard_rows(series_idx: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """The rows of the scored windows the validation guard's candidates forecast (`spread_windows`)."""
    cost = np.minimum(origins, STAT_HISTORY).astype("float64")
    return spread_windows(series_idx, origins, cost, STAT_POINT_BUDGET)


def guard_fits(prepared: Prepared, panel: Panel, cfg: RunConfig, season: int) -> StatisticalFits:
    """The guard's statistical fits, started (in worker processes where the run may use them) from the data
    alone, before the network is trained: they need no network, and so run while it trains."""
    series_idx, origins = scored_index(prepared, cfg)
    rows = guard_rows(series_idx, origins)
    return StatisticalFits(
        guard_jobs(prepared, panel, cfg, series_idx[rows], origins[rows]), cfg.window.horizon, season
    )


def guard_jobs(
    prepared: Prepared, panel: Panel, cfg: RunConfig, series_idx: np.ndarray, origins: np.ndarray
) -> list[Job]:
    """(name, history, known columns) of each statistical candidate on each of the windows, in order."""
    horizon, n_future = cfg.window.horizon, cfg.model.n_future
    jobs: list[Job] = []
    for s, origin in zip(series_idx, origins):
        values = panel.series[prepared.kept[s]].values
        known = known_columns(values, origin, horizon, n_future)
        jobs += [(name, values[:origin, 0], known) for name in cfg.train.statistical]
    return jobs


def select_method(
    scored: WindowForecasts,
    prepared: Prepared,
    panel: Panel,
    cfg: RunConfig,
    season: int,
    log: Log | None = None,
    fits: StatisticalFits | None = None,
    standing: str | None = None,
) -> tuple[Selection, np.ndarray, np.ndarray]:
    """The validation guard (`forecaster.scoring.selection`): every candidate forecasts the same windows of
    `scored`, spread over each series' validation part (`spread_windows`), and `choose` decides.
    `scored.seconds`: the network's forecast time per window, for the cost statement. `fits`: the statistical
    fits of these windows started beforehand (`guard_fits`); else they are made here. `standing`: what the run an
    update renews served (`choose`).

    Returns the selection, the rows of `scored` it was decided on, and the served forecast there (the
    network's where a statistical fit failed, as `forecast` does), for calibration."""
    ids = list(prepared.states)
    horizon, statistical = cfg.window.horizon, cfg.train.statistical
    rows = guard_rows(scored.series_idx, scored.origins)
    series_idx, origins = scored.series_idx[rows], scored.origins[rows]
    period = origin_period(panel, prepared.kept, series_idx, origins)
    if log is not None:
        log(f"scoring {', '.join(statistical)} and their combination with the network on {len(rows)} validation "
            f"windows of {len(np.unique(series_idx))} series, origins {period}")  # fmt: skip
    made = {name: np.empty((len(rows), horizon)) for name in candidates(statistical)}
    scales = np.empty(len(rows))
    for k, (s, origin) in enumerate(zip(series_idx, origins)):
        values = panel.series[prepared.kept[s]].values
        made["model"][k] = scored.forecast[rows[k]]
        made["seasonal_naive"][k] = baseline_forecast("seasonal_naive", values[:origin, 0], horizon, season)
        scales[k] = seasonal_naive_scale(values[: prepared.states[ids[s]].n_train, 0], season)
    if fits is None:
        fits = StatisticalFits(guard_jobs(prepared, panel, cfg, series_idx, origins), horizon, season, background=False)
    fitted = iter(fits.results(Progress(log, "statistical fits", fits.count) if log else _quiet))
    fit_total = fits.seconds
    fit_seconds = fit_total / max(len(rows), 1)  # every statistical model, one window
    for k in range(len(rows)):
        for name in statistical:
            made[name][k] = next(fitted)
        made[COMBINATION][k] = combined(made["model"][k], [made[name][k] for name in statistical])
    actual = scored.actual[rows]
    errors = {name: np.abs(actual - forecast).mean(axis=1) / usable_scales(scales) for name, forecast in made.items()}
    per_series = len(prepared.val_index) / max(len(ids), 1)  # validation windows per series, scored or not
    costs = forecast_costs(statistical, fit_seconds, scored.seconds)
    long_validation = per_series >= LONG_VALIDATION * horizon
    blind = blind_candidates(cfg)
    verdict = choose(errors, series_idx, origins, long_validation, blind, costs, len(ids), standing)
    method = verdict.method
    served = np.where(np.isfinite(made[method]), made[method], made["model"])
    seconds = None
    if costs and costs[method] > costs["model"]:  # the cost of statistical fits, when the served method makes them
        seconds = (costs[method], costs["model"])
    selection = Selection(
        method,
        verdict.scores,
        len(rows),
        len(np.unique(series_idx)),
        statistical,
        {name: (round(d.relative, 6), round(d.se, 6)) for name, d in verdict.differences.items()},
        verdict.reason,
        period,
        unused_covariates(method, cfg),
        seconds,
        round(fit_total, 1),
        costs,
        {name: (round(d.relative, 6), round(d.se, 6)) for name, d in verdict.against_network.items()},
    )
    return selection, rows, served


def forecast_costs(statistical: tuple[str, ...], fit_seconds: float, network_seconds: float | None) -> dict[str, float]:
    """Each candidate's forecast seconds per 1,000 series on this machine: the network's, plus its statistical
    fits' (`fit_seconds`: every statistical model on one window, shared evenly among them); {} unmeasured."""
    if network_seconds is None:
        return {}
    per_fit = fit_seconds / max(len(statistical), 1)
    fits = {"model": 0, "seasonal_naive": 0, **dict.fromkeys(statistical, 1), COMBINATION: len(statistical)}
    return {name: round(1000 * (count * per_fit + network_seconds), 1) for name, count in fits.items()}


def validation_report(
    model: Network,
    prepared: Prepared,
    panel: Panel,
    cfg: RunConfig,
    season: int,
    log: Log | None = None,
    fits: StatisticalFits | None = None,
    standing: str | None = None,
) -> tuple[JSON, list[JSON], Calibration, Selection]:
    """The model against seasonal naive on the validation windows, in original units.

    Returns the report, a few example windows (history, actual, forecast) for a plot, the conformal
    calibration made from the most recent validation windows' errors of what serves each series
    (`calibration_windows`, `forecaster.scoring.calibration`), and which method serves the series
    (`select_method`, `standing` the method the run an update renews served; the network with `--select model` and
    for quantile runs).
    """
    ids = list(prepared.states)
    horizon = cfg.window.horizon
    recent = forecast_windows(model, prepared, panel, cfg, calibration_windows(prepared.val_index, horizon), season)
    scored = forecast_windows(model, prepared, panel, cfg, prepared.val_index, season)
    older = older_windows(scored, recent)
    factors = difficulty_factors(
        np.abs(scored.actual[older] - scored.forecast[older]),
        scored.spreads[older],
        [ids[s] for s in scored.series_idx[older]],
        horizon,
    )

    def difficult(spreads: np.ndarray, series_idx: np.ndarray) -> np.ndarray:  # spreads times their factors
        return spreads * np.array([factors.get(ids[s], 1.0) for s in series_idx])

    spreads = difficult(recent.spreads, recent.series_idx)
    spread: JSON = {"spread": cfg.train.interval_spread, "season": season, "factors": factors}
    served_at: dict[int, np.ndarray] = {}  # row of `scored` -> the served method's forecast, where another serves
    if cfg.train.select == "auto" and not cfg.model.quantiles:
        selection, rows, served = select_method(scored, prepared, panel, cfg, season, log, fits, standing)
        if selection.method != "model":
            served_at = dict(zip(rows.tolist(), served))
        if selection.method == "model":  # the network's errors on the windows nearest the forecast origin
            calibration = Calibration.fit(recent.actual, recent.forecast, spreads, **spread)
        else:  # the served method's, on the windows it was scored on (its fits are made there only)
            chosen = difficult(scored.spreads[rows], scored.series_idx[rows])
            calibration = Calibration.fit(scored.actual[rows], served, chosen, **spread)
    else:
        if cfg.train.select == "auto" and log is not None:
            log("note: a quantile run is served by the network alone (the guard compares point forecasts)")
        selection = Selection("model", {}, 0, 0, ())
        calibration = Calibration.fit(
            recent.actual, recent.forecast, spreads, recent.quantiles, cfg.model.quantiles, **spread
        )
    series_idx, origins, actual, forecast = scored.series_idx, scored.origins, scored.actual, scored.forecast
    naive = np.empty_like(actual)
    scales = np.empty(len(origins))
    for row, (s, origin) in enumerate(zip(series_idx, origins)):
        raw = panel.series[prepared.kept[s]].values[:, 0]
        naive[row] = baseline_forecast("seasonal_naive", raw[:origin], horizon, season)
        scales[row] = seasonal_naive_scale(raw[: prepared.states[ids[s]].n_train], season)
    scores = score_windows(actual, {"model": forecast, "seasonal_naive": naive}, scales)
    report = {
        "split": "validation",
        "windows": int(len(origins)),
        "season": season,
        **scores,
        "beats_seasonal_naive": scores["model"]["mase"] < scores["seasonal_naive"]["mase"],
        "zero_scale_series": int(len(np.unique(series_idx[scales == 0]))),  # MASE undefined there
    }
    if selection.scores:
        report["selection"] = selection.to_json()
    examples = []
    guarded = np.asarray(sorted(served_at), dtype=int)  # where another method serves, windows its fits were made on
    picks = [int(guarded[k]) for k in example_rows(series_idx[guarded])] if len(guarded) else example_rows(series_idx)
    for row in picks:
        s, origin = series_idx[row], origins[row]
        series = panel.series[prepared.kept[s]]
        raw, time = series.values[:, 0], series.time
        start = max(0, origin - 3 * horizon)
        what_serves = served_at.get(row, forecast[row])  # the band is calibrated on what serves: drawn around it
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
                "served": selection.method,
                "served_forecast": what_serves,
                "band": ("80% interval", *(b[0] for b in calibration.bands(
                    what_serves[None, :], scored.spreads[row : row + 1] * factors.get(ids[s], 1.0),
                    (80.0,)).values())),
            }
        )  # fmt: skip
    return report, examples, calibration, selection


def _quiet(done: int) -> None:
    """No progress said (a validation without a log)."""
