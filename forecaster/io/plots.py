"""Pictures a user looks at: loss curves, validation windows, forecasts over recent history."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from forecaster.config import SINGLE_SERIES_ID
from forecaster.io.plain import plain_time
from forecaster.kinds import Frame

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

History = dict[str, tuple["pd.Index", np.ndarray]]  # series id -> (times, values) of its recent past
Drawing = dict[str, Any]  # what one panel of a plot draws, by name: times, actuals, forecasts, bands, its title

MAX_BACKTEST_WINDOWS = 4  # windows a series' backtest plot draws: the latest that do not overlap


def _pyplot() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg")  # files only, never a display
    import matplotlib.pyplot as plt

    return plt


def _save(plt: ModuleType, fig: Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": "forecaster"})  # how forecaster knows its own plots
    plt.close(fig)


def _name(series_id: str, target: str) -> str:
    """What a plot calls a series: its id, or for a one-series file (whose id is a placeholder) the target."""
    return target if series_id == SINGLE_SERIES_ID else series_id


def _shown(fig: Figure, shown: int, total: int | None, hint: str) -> None:
    """Say above the plots how many of the series they show, when they show fewer than there are."""
    if total is not None and total > shown:
        fig.suptitle(f"{shown} of {total:,} series shown ({hint})", fontsize="medium")


def _grid(count: int) -> tuple[ModuleType, Figure, np.ndarray]:
    plt = _pyplot()
    cols = 1 if count == 1 else 2
    rows = -(-count // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return plt, fig, axes.flat


def plot_loss(history: dict[str, list[float]], path: Path) -> None:
    """Training (solid) and validation (dashed) loss by epoch, each ensemble member in its own colour."""
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    member = np.asarray(history.get("member", [0] * len(history["loss"])))
    members = np.unique(member)
    for k in members:
        rows = member == k
        epochs = np.arange(1, rows.sum() + 1)
        suffix = f", member {k + 1}" if len(members) > 1 else ""
        ax.plot(epochs, np.asarray(history["loss"])[rows], marker="o", color=f"C{k}", label=f"training{suffix}")
        if "val_loss" in history:
            ax.plot(epochs, np.asarray(history["val_loss"])[rows], marker="o", linestyle="--", color=f"C{k}",
                    label=f"validation{suffix}")  # fmt: skip
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole
    ax.set(xlabel="epoch", ylabel="loss (scaled units)", title="Training and validation loss")
    ax.legend(fontsize="small")
    _save(plt, fig, path)


SERVED_WIDTH, OTHER_WIDTH = 2.2, 1.0  # what serves is drawn thickest; the rest beside it, thin


def _legend_outside(ax: Axes) -> None:
    """The legend to the right of the axes, where it never covers a line."""
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def method_label(name: str, served: str) -> str:
    """A forecast line's label: the method's name, `(served)` on the one that serves when another could have,
    the network as `network (not served)` when it does not serve."""
    if name == "model":
        return "network" if served == "model" else "network (not served)"
    return f"{name.replace('_', ' ')} (served)" if name == served else name.replace("_", " ")


def plot_validation(examples: list[Drawing], path: Path) -> None:
    """The last validation window of up to four series: history, actual future, what serves (thick, with its 80%
    interval), the network's forecast when another method serves, and seasonal naive, in the data's own time."""
    plt, fig, axes = _grid(len(examples))
    for ax, ex in zip(axes, examples):
        past, future = ex["history_time"], ex["time"]
        served = ex.get("served", "model")
        ax.plot(past, ex["history"], color="0.3", label="history")
        ax.plot(future, ex["actual"], color="0.3", linestyle="--", label="actual")
        if served != "model":
            ax.plot(future, ex["forecast"], color="C2", linewidth=OTHER_WIDTH, label=method_label("model", served))
        ax.plot(future, ex.get("served_forecast", ex["forecast"]), color="C0", linewidth=SERVED_WIDTH,
                label=method_label(served, served))  # fmt: skip
        if "band" in ex:  # calibrated on what serves, around it
            label, lower, upper = ex["band"]
            ax.fill_between(future, lower, upper, color="C0", alpha=0.2, label=label)
        ax.plot(future, ex["naive"], color="C1", alpha=0.7, linewidth=OTHER_WIDTH, label="seasonal naive")
        serves = "" if served == "model" else f" ({served.replace('_', ' ')} serves)"
        ax.set_title(f"{_name(ex['series_id'], ex['target'])}: validation window from {plain_time(future[0])}{serves}")
        ax.set_ylabel(ex["target"])
        ax.tick_params(axis="x", labelrotation=30)
    _legend_outside(axes[0])
    _save(plt, fig, path)


def plot_forecasts(
    history: History,
    forecasts: Frame,
    time_col: str,
    id_col: str,
    path: Path,
    target: str,
    total: int | None = None,
) -> None:
    """Recent history and forecast (with the bands, when there are) for each series given, the forecast line
    drawn on from the last observed point; `total` series forecast in all (said when more than are shown).

    history: series_id -> (times, values) of the recent past; forecasts: the forecast DataFrame.
    """
    plt, fig, axes = _grid(len(history))
    bands = interval_columns(forecasts)
    if id_col in forecasts:  # the plotted series' rows, in one pass over what may be millions of rows
        forecasts = forecasts[forecasts[id_col].astype(str).isin(list(history))]
    for ax, (sid, (times, values)) in zip(axes, history.items()):
        rows = forecasts[forecasts[id_col].astype(str) == sid] if id_col in forecasts else forecasts
        ax.plot(times, values, color="0.3", label="history")
        if len(times) and len(rows):  # on from the last observed point: history and forecast are one line
            ax.plot([times[-1], rows[time_col].iloc[0]], [values[-1], rows["forecast"].iloc[0]], color="C0")
        ax.plot(rows[time_col], rows["forecast"], color="C0", marker=".", label="forecast")
        for shade, (label, lower, upper) in zip((0.15, 0.3), bands):
            ax.fill_between(rows[time_col], rows[lower], rows[upper], color="C0", alpha=shade, label=label)
        ax.set_title(f"{_name(sid, target)}: forecast of {len(rows)} steps")
        ax.set_ylabel(target)
        ax.tick_params(axis="x", labelrotation=30)
    _legend_outside(axes[0])
    _shown(fig, len(history), total, "forecast --series names the ones to plot")
    _save(plt, fig, path)


def interval_columns(forecasts: Frame) -> list[tuple[str, str, str]]:
    """(label, lower column, upper column) of the bands in a forecast frame, widest first: the conformal
    lo_L/hi_L pairs ("95% interval"), else the outermost quantile pair (q_10, q_90: "80% interval")."""
    levels = sorted((float(c[3:]) for c in forecasts.columns if c.startswith("lo_")), reverse=True)
    if levels:
        return [(f"{level:g}% interval", f"lo_{level:g}", f"hi_{level:g}") for level in levels]
    quantiles = sorted((float(c[2:]), c) for c in forecasts.columns if c.startswith("q_"))
    if len(quantiles) >= 2:
        (low, lower), (high, upper) = quantiles[0], quantiles[-1]
        return [(f"{high - low:g}% interval", lower, upper)]
    return []


def plot_errors_by_step(mae_by_step: dict[str, list[float]], path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, errors in mae_by_step.items():
        ax.plot(np.arange(1, len(errors) + 1), errors, label=name, linewidth=2.5 if name == "model" else 1.2)
    ax.set(xlabel="horizon step", ylabel="MAE (original units)", title="Backtest error by horizon step")
    ax.legend()
    _save(plt, fig, path)


def latest_apart(windows: list[Drawing], limit: int = MAX_BACKTEST_WINDOWS) -> list[Drawing]:
    """Up to `limit` of the windows, the latest first chosen and then each latest one ending before the last
    chosen begins, in time order: windows that overlap would draw their bands on top of each other."""
    chosen: list[Drawing] = []
    for window in sorted(windows, key=lambda w: w["time"][0], reverse=True):
        if len(chosen) < limit and (not chosen or window["time"][-1] < chosen[-1]["time"][0]):
            chosen.append(window)
    return chosen[::-1]


def plot_backtest(panels: list[Drawing], path: Path, total: int | None = None) -> None:
    """Backtest windows of a few series: the actuals, and what serves (thick, with its widest interval), the
    network when another method serves, and the baselines' forecasts of the latest windows that do not overlap
    (at most MAX_BACKTEST_WINDOWS a series)."""
    plt, fig, axes = _grid(len(panels))
    for ax, panel in zip(axes, panels):
        ax.plot(panel["time"], panel["values"], color="0.3", label="actual")
        drawn = latest_apart(panel["windows"])
        served = panel.get("served", "model")
        for i, window in enumerate(drawn):
            first = i == 0
            names = list(window["forecasts"])
            for k, (name, forecast) in enumerate(window["forecasts"].items()):
                serves = name == served
                ax.plot(window["time"], forecast, color=f"C{k}", linewidth=SERVED_WIDTH if serves else OTHER_WIDTH,
                        alpha=1.0 if serves else 0.7, label=method_label(name, served) if first else None)  # fmt: skip
            if window.get("band"):
                label, lower, upper = window["band"]
                shade = f"C{names.index(served)}" if served in names else "C0"  # the band is around what serves
                ax.fill_between(window["time"], lower, upper, color=shade, alpha=0.2, label=label if first else None)
        count = len(panel["windows"])
        which = f"{len(drawn)} of {count} windows" if len(drawn) < count else f"{count} window{'s' * (count > 1)}"
        ax.set_title(f"{_name(panel['series_id'], panel['target'])}: backtest, {which}")
        ax.set_ylabel(panel["target"])
        ax.tick_params(axis="x", labelrotation=30)
    _legend_outside(axes[0])
    _shown(fig, len(panels), total, "the first series of the data")
    _save(plt, fig, path)


def plot_trials(trials: Frame, objective: str, path: Path) -> None:
    """The objective of each trial (failed ones marked on the axis) and the best so far."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    scored = trials.dropna(subset=["score"])
    ax.plot(scored["trial"], scored["score"], "o", label="trial")
    ax.step(scored["trial"], scored["score"].cummin(), where="post", label="best so far")
    failed = trials[trials["score"].isna()]
    if len(failed):
        bottom = scored["score"].min() if len(scored) else 0.0
        ax.plot(failed["trial"], [bottom] * len(failed), "x", color="red", label="failed")
    ax.set(xlabel="trial", ylabel=f"{objective} (validation)", title="hyperparameter search")
    if len(scored) and scored["score"].min() > 0:
        ax.set_yscale("log")
    ax.legend()
    _save(plt, fig, path)
