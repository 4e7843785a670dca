"""`forecaster evaluate`: a rolling-origin backtest on data training never saw, against baselines."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from forecaster.data.series import Panel
from forecaster.data.times import in_zone
from forecaster.errors import DataError
from forecaster.io.plain import counted
from forecaster.kinds import JSON, Network
from forecaster.scoring.adaptive import Windows, adapted_multipliers
from forecaster.scoring.baselines import BASELINES, baseline_forecast
from forecaster.scoring.floor import floored
from forecaster.scoring.metrics import (
    INTERVAL_METRICS,
    POINT_METRICS,
    ZERO_SCALE_NOTE,
    coverage,
    pinball,
    seasonal_naive_scale,
)
from forecaster.scoring.selection import Selection
from forecaster.scoring.selection import served_forecasts as made_by
from forecaster.scoring.statistical import known_columns
from forecaster.scoring.validation import point_forecast, score_windows
from forecaster.serving.columns import id_and_time_columns, quantile_column
from forecaster.serving.finite import check_finite
from forecaster.serving.requests import Backtest, BacktestPlan
from forecaster.serving.windows import floored_bands, floors_of, predict_at
from forecaster.training.runs import Run, trained_until


def backtest_origins(run: Run, panel: Panel, folds: int, step: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The last `folds` origins of each series, `step` apart, whose targets all lie after training data, and how
    many of them were left out because their actuals include filled values (never scored against)."""
    horizon = run.config.window.horizon
    series_idx, origins, on_filled = [], [], 0
    for position, series in enumerate(panel.series):
        trained = trained_until(run, series)
        candidates = len(series) - horizon - step * np.arange(folds)
        candidates = candidates[candidates >= trained]
        if series.filled is not None and len(candidates):
            clean = ~np.any(
                (series.filled[None, :] >= candidates[:, None])
                & (series.filled[None, :] < candidates[:, None] + horizon),
                axis=1,
            )
            on_filled += int((~clean).sum())
            candidates = candidates[clean]
        series_idx += [position] * len(candidates)
        origins += sorted(candidates.tolist())
    if not origins and on_filled:
        raise DataError(
            f"{panel.path}: every backtest window's actuals include values the --fill policy filled ({on_filled} "
            "windows), and a backtest never scores against invented values; give more --folds or a smaller --step, "
            "or data without gaps after what training used"
        )
    if not origins:
        sid = panel.series[0].series_id
        raise DataError(
            f"{panel.path}: no data after what training used (series {sid!r}: training used it up to "
            f"{run.series[sid].last_time}, the file has {len(panel.series[0])} points up to "
            f"{panel.series[0].time_at(-1)}); train with "
            f"--holdout {folds * step} to keep a tail for evaluate, or pass newer data"
        )
    return np.asarray(series_idx), np.asarray(origins), on_filled


def filled_windows_note(bt: Backtest) -> str | None:
    """A note when windows were left out of the backtest because their actuals include filled values."""
    if not bt.on_filled:
        return None
    return (
        f"left out {bt.on_filled} backtest window(s) whose actuals include values the --fill policy filled: "
        f"scored {len(bt.origins)} window(s) on observed values only"
    )


def folds_note(series_idx: np.ndarray, n_series: int, folds: int, step: int) -> str | None:
    """A note when some series get fewer than the `folds` windows asked for (their data after training is
    too short), so that a backtest of fewer windows is never taken for the one asked for."""
    counts = np.bincount(np.asarray(series_idx, dtype="int64"), minlength=n_series)
    short = int((counts < folds).sum())
    if not short:
        return None
    return (
        f"--folds {folds}: {short} of {n_series} series have fewer windows after the data training used "
        f"(as few as {int(counts.min())}); for {folds}, train with --holdout {folds * step} or pass newer data"
    )


def run_backtest(run: Run, panel: Panel, model: Network, plan: BacktestPlan) -> Backtest:
    """Every backtest window forecast by the model and the baselines (and the model's conformal bands
    at the plan's levels, made from each window's own history exactly as `forecast --level` makes them; adapting,
    each window's band also learnt from its series' earlier windows whose actuals were known at its cutoff:
    `forecaster.scoring.adaptive`)."""
    series_idx, origins, on_filled = backtest_origins(run, panel, plan.folds, plan.step)
    made = backtest_windows(run, panel, model, series_idx, origins, plan)
    return replace(made, on_filled=on_filled)


def backtest_windows(
    run: Run,
    panel: Panel,
    model: Network,
    series_idx: np.ndarray,
    origins: np.ndarray,
    plan: BacktestPlan,
) -> Backtest:
    """The windows (panel.series[series_idx[i]], origins[i]) forecast as `run_backtest` forecasts its own (the
    plan's folds and step aside: the windows are these)."""
    season, (levels, adapt) = plan.season, (plan.bands.levels, plan.bands.adapt)

    horizon = run.config.window.horizon
    floors = floors_of(run, panel, series_idx, origins)  # what the run serves never goes below them
    raw_predictions = floored(predict_at(model, run, panel, series_idx, origins), floors)
    quantiles = run.config.model.quantiles
    actual = np.empty((len(origins), horizon))
    forecasts = {name: np.empty_like(actual) for name in ("model", *BASELINES)}
    scales = np.empty(len(origins))
    for row, (s, origin) in enumerate(zip(series_idx, origins)):
        raw = panel.series[s].values[:, 0]
        actual[row] = raw[origin : origin + horizon]
        for name in BASELINES:
            forecasts[name][row] = baseline_forecast(name, raw[:origin], horizon, season)
        scales[row] = seasonal_naive_scale(raw[: trained_until(run, panel.series[s])], season)
    forecasts["model"] = point_forecast(raw_predictions, quantiles)
    selection = run.selection()
    if selection and selection.method != "model":
        forecasts["served"] = served_forecasts(
            forecasts["model"], panel, series_idx, origins, selection, horizon, run.season, run.config.model.n_future
        )
    if "served" in forecasts:  # the guard's method, floored as the network was; the baselines stay as they are
        forecasts["served"] = floored(forecasts["served"], floors)
    bands = None
    if levels:
        w, calibration = run.config.window, run.calibration()
        targets = {s: panel.series[s].values[:, 0] for s in set(series_idx)}  # one array a series
        spreads = calibration.spreads(
            [targets[s] for s in series_idx],
            origins,
            w.lookback,
            w.patch,
            np.array([run.series[panel.series[s].series_id].scaler.spread for s in series_idx]),
            [panel.series[s].series_id for s in series_idx],
        )
        point, own = forecasts.get("served", forecasts["model"]), raw_predictions if quantiles else None
        multipliers = None
        if adapt:  # an updated run's bands learn first from the windows its update carried (`Run.realised`)
            windows, first = Windows(actual, point, spreads, series_idx, origins, own, quantiles), 0
            carried = run.realised()
            if carried is not None:
                windows, first = carried.before(windows, [series.series_id for series in panel.series])
            multipliers = {level: m[first:] for level, m in adapted_multipliers(calibration, windows, levels).items()}
        bands = calibration.bands(point, spreads, levels, own, quantiles, multipliers)
    if bands:
        bands = floored_bands(bands, floors)
    made = {"forecast": forecasts.get("served", forecasts["model"])}
    if bands:
        made["band"] = np.stack(list(bands.values()), axis=1)
    check_finite(made, [panel.series[s].series_id for s in series_idx], panel.path)
    return Backtest(series_idx, origins, actual, forecasts, scales, raw_predictions if quantiles else None, bands,
                    spreads if levels else None, adapt and bool(levels))  # fmt: skip


def served_forecasts(
    network: np.ndarray,
    panel: Panel,
    series_idx: np.ndarray,
    origins: np.ndarray,
    selection: Selection,
    horizon: int,
    season: int,
    n_future: int = 0,
) -> np.ndarray:
    """What `forecast` would serve at each backtest window: the method the run's validation guard chose
    (`forecaster.scoring.selection`), made from the window's own history."""

    histories = [panel.series[s].values[:origin, 0] for s, origin in zip(series_idx, origins)]
    known = [known_columns(panel.series[s].values, origin, horizon, n_future) for s, origin in zip(series_idx, origins)]
    methods = [selection.method] * len(histories)
    return made_by(methods, histories, horizon, season, network, selection.statistical, known)[0]


def interval_metrics(bt: Backtest, levels: tuple[float, ...]) -> dict[str, float]:
    """Pinball loss per level, and empirical coverage of each central interval (q_lo, q_hi)."""
    assert bt.quantiles is not None
    report = {f"pinball_{level:g}": pinball(bt.actual, bt.quantiles[:, :, i], level) for i, level in enumerate(levels)}
    for i in range(len(levels) // 2):
        lo, hi = levels[i], levels[-1 - i]
        report[f"coverage_{lo:g}_{hi:g}"] = coverage(bt.actual, bt.quantiles[:, :, i], bt.quantiles[:, :, -1 - i])
        report[f"nominal_{lo:g}_{hi:g}"] = round(hi - lo, 6)
    return report


def conformal_metrics(bt: Backtest) -> dict[str, JSON]:
    """Per level of the conformal bands: each of `INTERVAL_METRICS` (coverage, mean width, MSIS: M4's mean scaled
    interval score), and coverage by horizon step and by period."""
    assert bt.bands is not None
    report = {}
    for name in bt.bands:
        if not name.startswith("lo_"):
            continue
        level = name[3:]
        lower, upper = bt.bands[name], bt.bands[f"hi_{level}"]
        inside = (bt.actual >= lower) & (bt.actual <= upper)
        scores = {
            key: metric(bt.actual, lower, upper, bt.scales, float(level)) for key, metric in INTERVAL_METRICS.items()
        }
        report[level] = {
            "nominal": float(level) / 100,
            **scores,
            "coverage_by_step": inside.mean(axis=0).round(4).tolist(),
            "coverage_by_period": [round(float(inside[rows].mean()), 4) for rows in periods(bt) if len(rows)],
        }
    return report


PERIODS = 4  # coverage is also reported over each quarter of the backtest's span, so that drift shows


def periods(bt: Backtest) -> list[np.ndarray]:
    """The windows of each of PERIODS consecutive parts of every series' backtest, oldest first (a window's part:
    its rank among its series' windows in time)."""
    part = np.empty(len(bt.origins), dtype=int)
    for series in np.unique(bt.series_idx):
        rows = np.flatnonzero(bt.series_idx == series)
        rank = np.argsort(np.argsort(bt.origins[rows], kind="stable"), kind="stable")
        part[rows] = rank * PERIODS // len(rows)
    return [np.flatnonzero(part == k) for k in range(PERIODS)]


def summarise(bt: Backtest, run: Run, ids: list[str], season: int) -> tuple[JSON, pd.DataFrame]:
    """The overall report (metrics.json) and the per-series table (`ids`: the series of `bt.series_idx`)."""
    overall = score_windows(bt.actual, bt.forecasts, bt.scales)  # the scorer of training's validation report
    by_step = {name: np.mean(np.abs(bt.actual - f), axis=0).tolist() for name, f in bt.forecasts.items()}
    report: JSON = {
        "windows": int(len(bt.origins)),
        "series": int(len(np.unique(bt.series_idx))),
        "horizon": run.config.window.horizon,
        "season": season,
        "overall": overall,
        "mae_by_step": by_step,
        "zero_scale_series": int(len(np.unique(bt.series_idx[bt.scales == 0]))),  # MASE/MSIS undefined there
    }
    if bt.quantiles is not None:
        report["intervals"] = interval_metrics(bt, run.config.model.quantiles)
    if bt.bands is not None:
        report["conformal"] = conformal_metrics(bt)
        report["bands"] = "adaptive" if bt.adapted else "static"

    id_col = id_and_time_columns(run.config)[0]  # the id column as the forecast CSV and forecasts.csv name it
    id_col = id_col if id_col not in ("method", "windows", *POINT_METRICS) else "series_id"
    rows = []
    for s in np.unique(bt.series_idx):
        picked = np.flatnonzero(bt.series_idx == s)
        scores = score_windows(bt.actual[picked], {n: f[picked] for n, f in bt.forecasts.items()}, bt.scales[picked])
        for name, metrics in scores.items():
            rows.append({id_col: ids[s], "method": name, "windows": len(picked), **metrics})
    return report, pd.DataFrame(rows)


def window_frame(bt: Backtest, run: Run, panel: Panel) -> pd.DataFrame:
    """Every backtest window, step by step, as NeuralForecast's `cross_validation` returns it: the id
    and time columns (named as in the forecast CSV), `cutoff` (the last time the window's inputs hold),
    `actual`, `forecast` (what `forecast` would serve), the network's own (`model`) when another method
    serves, each baseline, and the conformal bands."""

    id_col, time_col = id_and_time_columns(run.config)
    horizon = bt.actual.shape[1]
    series = [panel.series[s] for s in bt.series_idx]
    times = [s.time[o : o + horizon] for s, o in zip(series, bt.origins)]
    columns: dict[str, np.ndarray] = {
        id_col: np.repeat([s.series_id for s in series], horizon),
        "cutoff": in_zone(np.repeat([s.time_at(int(o) - 1) for s, o in zip(series, bt.origins)], horizon), panel.zone),
        time_col: in_zone(np.concatenate([np.asarray(t) for t in times]) if times else [], panel.zone),
        "actual": bt.actual.ravel(),
        "forecast": bt.forecasts.get("served", bt.forecasts["model"]).ravel(),
    }
    if "served" in bt.forecasts:
        columns["model"] = bt.forecasts["model"].ravel()
    columns.update({name: bt.forecasts[name].ravel() for name in BASELINES})
    columns.update({name: band.ravel() for name, band in (bt.bands or {}).items()})
    return pd.DataFrame(columns)


def scored_windows(bt: Backtest, run: Run, panel: Panel) -> pd.DataFrame:
    """`window_frame` with what scoring them needs besides (`from_scored_windows`): each window's origin and
    MASE scale, the step, and the network's quantiles: what an engine's worker sends back."""

    horizon = bt.actual.shape[1]
    frame = window_frame(bt, run, panel)
    frame["_origin"] = np.repeat(bt.origins, horizon)
    frame["_step"] = np.tile(np.arange(horizon), len(bt.origins))
    frame["_scale"] = np.repeat(bt.scales, horizon)
    for q, level in enumerate(run.config.model.quantiles):
        frame[f"_{quantile_column(level)}"] = bt.quantiles[:, :, q].ravel() if bt.quantiles is not None else np.nan
    return frame


def from_scored_windows(frame: pd.DataFrame, run: Run) -> tuple[Backtest, list[str], pd.DataFrame]:
    """The Backtest of every partition's `scored_windows` together (sorted by series id and cutoff), the
    series ids, and the windows frame as `evaluate` writes it."""

    id_col, _ = id_and_time_columns(run.config)
    frame = frame.sort_values([id_col, "_origin", "_step"], kind="stable").reset_index(drop=True)
    horizon = run.config.window.horizon
    shaped = lambda column: frame[column].to_numpy("float64").reshape(-1, horizon)  # noqa: E731
    ids, codes = np.unique(frame[id_col].to_numpy()[::horizon].astype(str), return_inverse=True)
    forecasts = {"model": shaped("model" if "model" in frame else "forecast")}
    if "model" in frame:
        forecasts["served"] = shaped("forecast")
    forecasts.update({name: shaped(name) for name in BASELINES})
    levels = run.config.model.quantiles
    quantiles = np.stack([shaped(f"_{quantile_column(q)}") for q in levels], axis=-1) if levels else None
    bands = {name: shaped(name) for name in frame.columns if name.startswith(("lo_", "hi_"))} or None
    origins = frame["_origin"].to_numpy()[::horizon]
    bt = Backtest(codes, origins, shaped("actual"), forecasts, shaped("_scale")[:, 0], quantiles, bands)
    return bt, ids.tolist(), frame.drop(columns=[c for c in frame.columns if c.startswith("_")])


def render_table(report: JSON) -> str:
    lines = [
        f"backtest: {counted(report['windows'], 'window')} over {counted(report['series'], 'series', 'series')}, "
        f"horizon {report['horizon']}, season {report['season']}",
        f"{'method':<16}" + "".join(f"{name.upper():>10}" for name in POINT_METRICS),
    ]
    for name, m in sorted(report["overall"].items(), key=lambda item: item[1]["mase"]):
        lines.append(f"{name:<16}" + "".join(f"{m[metric]:>10.4g}" for metric in POINT_METRICS))
    for key, value in report.get("intervals", {}).items():
        if key.startswith("coverage"):
            lo, hi = key.split("_")[1:]
            lines.append(f"interval {lo}-{hi}: coverage {value:.3f} (nominal {float(hi) - float(lo):.2f})")
    for level, m in report.get("conformal", {}).items():
        lines.append(
            f"{level}% interval: coverage {m['coverage']:.3f} (nominal {m['nominal']:.2f}), "
            f"mean width {m['mean_width']:.4g}, MSIS {m['msis']:.3f}"
        )
        if len(m.get("coverage_by_period", [])) > 1:
            quarters = ", ".join(f"{value:.3f}" for value in m["coverage_by_period"])
            lines.append(f"  coverage by quarter of the backtest's span, oldest first: {quarters}")
    if report.get("zero_scale_series"):
        lines.append(f"note: {ZERO_SCALE_NOTE.format(report['zero_scale_series'])}")
    refits = report.get("refits")
    if refits:
        how = "trained anew" if refits["from_scratch"] else "updated from the run before"
        reused = f"; {refits['reused']} of them kept from before in {refits['kept_in']}" if refits.get("reused") else ""
        lines.append(f"refits: {counted(refits['count'], 'refit')} ({how} every {counted(refits['every'], 'cutoff')}), "
                     f"{refits['seconds']:.0f} s in all{reused}")  # fmt: skip
    return "\n".join(lines)


def plot_panels(
    bt: Backtest, panel: Panel, horizon: int, target: str, served: str = "model", limit: int = 6
) -> list[JSON]:
    """What `plot_backtest` draws for the first few series: recent actuals and each window's forecasts (what
    serves, by its method's name `served`, the network's and every baseline's) with the widest conformal band."""
    widest = max((float(name[3:]) for name in bt.bands or {} if name.startswith("lo_")), default=None)
    panels = []
    for s in np.unique(bt.series_idx)[:limit]:
        rows = np.flatnonzero(bt.series_idx == s)
        series = panel.series[s]
        time = in_zone(series.time, panel.zone)  # built on each access: once per series here
        start = max(0, int(bt.origins[rows].min()) - 2 * horizon)
        windows = []
        for r, o in zip(rows, bt.origins[rows]):
            window: JSON = {
                "time": time[o : o + horizon],
                "forecasts": {served if name == "served" else name: f[r] for name, f in bt.forecasts.items()},
            }
            if widest is not None and bt.bands is not None:
                window["band"] = (f"{widest:g}% interval", bt.bands[f"lo_{widest:g}"][r], bt.bands[f"hi_{widest:g}"][r])
            windows.append(window)
        panels.append(
            {
                "series_id": series.series_id,
                "target": target,
                "served": served,
                "time": time[start:],
                "values": series.values[start:, 0],
                "windows": windows,
            }
        )
    return panels
