"""The run's complete configuration, resolved from the settings given and the data: the season (given,
from the frequency, or found), the default lookback and patch, the panel defaults, the calendar. Used by
`train`, `tune` and `doctor` alike, so they agree on what a run will be."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from forecaster.config import (
    FULL_BATCH,
    FULL_EPOCHS,
    MIN_STEPS,
    ModelConfig,
    RunConfig,
    TrainConfig,
    WindowConfig,
    _build,
)
from forecaster.data.calendar import resolve_cycles, step_seconds
from forecaster.data.positive import all_positive
from forecaster.data.season import Season, resolve_season
from forecaster.data.series import Panel
from forecaster.data.static import fit_encoding
from forecaster.data.windowing import split_series, train_origins
from forecaster.errors import DataError
from forecaster.kinds import JSON
from forecaster.settings import Settings


def default_lookback(season: int, horizon: int, longest: int, cycles: tuple[int, ...] = ()) -> int:
    """Two seasons, four horizons or the longest cycle found in the data, whichever is longest, but no
    more than half the longest series."""
    return max(1, min(max(2 * season, 4 * horizon, *cycles), longest // 2))


def default_patch(season: int, lookback: int) -> int:
    """One season per LSTM step when that leaves at least 4 steps, else about 16 steps in all."""
    if 4 <= season <= lookback // 4:
        return season
    return max(1, lookback // 16)


DEFAULT_CALENDAR = "none"  # measured: see docs/decisions.md

# Chosen by validation scores (docs/decisions.md): on panels of many series,
# scored by scale-free errors, windows scaled by their own spread and an absolute loss weighted per
# window won clearly (M4 Weekly, ETTh1 in pieces); on one long series (ETTh1, scored by MSE) the
# plain last-value norm and MSE kept the lead. The dataclass defaults are the one-series ones.
PANEL_DEFAULTS = {"model": {"instance_norm": "mean_std,last_std"}, "train": {"loss": "mae", "loss_scale": "window"}}


# Chosen on the EPF validation days (docs/benchmarks.md, "Covariates known ahead"): one series with --future covariates
# trained with the absolute loss scored better on both markets (validation MAE NP 0.888 against 0.968 with
# MSE, PJM 2.241 against 2.569); without covariates the one-series defaults stay as ETTh1 chose them.
FUTURE_DEFAULTS = {"train": {"loss": "mae"}}


def with_panel_defaults(settings: Settings, n_series: int) -> Settings:
    """`settings` with PANEL_DEFAULTS under what the user set when the data holds more than one series,
    and FUTURE_DEFAULTS when it has --future covariates."""
    chosen = [PANEL_DEFAULTS] if n_series >= 2 else []
    if settings.data.get("future"):
        chosen.append(FUTURE_DEFAULTS)
    for defaults in chosen:
        for section, values in defaults.items():
            settings = settings.with_defaults(section, values)
    return settings


MAX_EPOCHS = 200


def training_windows(panel: Panel, window: WindowConfig) -> int:
    """How many training windows the panel gives (`forecaster.data.windowing`)."""

    splits = (split_series(len(s), window) for s in panel.series)
    return sum(len(train_origins(split, window)) for split in splits if split is not None)


# windows an epoch samples, where not given: twice as many on a panel of many series, so each series is still
# seen often enough. Chosen on validation splits (docs/decisions.md, "Windows an epoch"): 40,000 took M4 Hourly
# (414 series) from sMAPE 12.07 / MASE 0.910 to 11.56 / 0.870 and M4 Weekly (359) from OWA 0.742 to 0.733,
# and cost the 126 ETTh1 pieces 0.5% of MASE (1.068 -> 1.073), so panels under WIDE_PANEL series keep 20,000
EPOCH_WINDOWS, WIDE_PANEL_EPOCH_WINDOWS, WIDE_PANEL = 20_000, 40_000, 200

# Adam's learning rate, where not given, on a panel of WIDE_PANEL series or more (TrainConfig's 0.001 below).
# Chosen on validation splits (docs/decisions.md, "A larger step on wide panels"): 0.002 took M4 Hourly from sMAPE
# 11.124 / MASE 0.8469 to 10.702 / 0.8274 and bettered the M3 Yearly and Quarterly panels and M4 Weekly's OWA
# (0.003 went further on M4 Hourly but cost M4 Weekly's OWA); both cost M3 Other (174 series: 3.982 -> 4.013 and
# 4.050), so smaller panels and one series keep 0.001
WIDE_PANEL_LEARNING_RATE = 2e-3

# a linear path from the window to the forecast (`--linear-skip`) by default where it won on validation: a panel
# of WIDE_PANEL series or more read through windows of LONG_WINDOW steps or more. M4 Hourly (414 series, lookback
# 192): sMAPE 11.560 -> 11.124, MASE 0.8700 -> 0.8469; it lost on M4 Weekly (359 series, lookback 104: OWA 0.733
# -> 0.741), on the M3 Yearly and Quarterly panels (short windows) and on one series (ETTh1, CO2), and was mixed
# on the 126 ETTh1 pieces (docs/decisions.md, "A linear path on wide panels of long windows")
LONG_WINDOW = 192

# Adam's learning rate on such a panel (WIDE_PANEL series or more read through windows of LONG_WINDOW steps or
# more), where not given. Chosen on M4 Hourly's validation split (docs/decisions.md, "A step for wide panels of
# long windows"): sMAPE 10.702 / MASE 0.8274 at 0.002 -> 10.488 / 0.8172 at 0.004 (0.003: 10.512 / 0.8255; 0.006:
# 10.607 / 0.8280). No other validation split has such a panel (M4 Weekly's 0.003 lost at lookback 104), so none
# of their figures moves
LONG_PANEL_LEARNING_RATE = 4e-3

# the network on such a panel, where not given: two members of two layers of 128 units, an epoch sampling
# LONG_PANEL_EPOCH_WINDOWS windows, in about the time three members of 64 took on 40,000. Chosen on M4 Hourly's
# validation split over two seeds (docs/decisions.md, "Two wider members on wide panels of long windows"): sMAPE /
# MASE 10.171 / 0.7584 -> 10.116 / 0.7474 with seed 0, 10.268 / 0.7524 -> 10.095 / 0.7521 with seed 1. No other
# validation split has such a panel, so none of their figures moves. 28,000 windows an epoch (34,000 before) since
# the logarithm (below) let every member train its 30 epochs: 9.299 / 0.7489 in 606 s -> 9.271 / 0.7467 in 509 s,
# where the defaults before the logarithm took 517 s in the same sitting ("The logarithm of the values ...")
LONG_PANEL_LAYERS, LONG_PANEL_MEMBERS, LONG_PANEL_EPOCH_WINDOWS = (128, 128), 2, 28_000


# a panel of WIDE_PANEL series or more, the longest of more than SHORT_HISTORY points, whose values are all above
# zero forecasts their logarithm (`--transform log`, ES-RNN's way), where not given. Chosen on the validation splits
# of the two such panels, over two seeds each (docs/decisions.md, "The logarithm of the values on wide panels of
# long series"): M4 Hourly's sMAPE / MASE 10.116 / 0.7474 -> 9.300 / 0.7489 (seed 0), 10.095 / 0.7521 -> 9.299 /
# 0.7510 (seed 1); M4 Weekly's 6.623 / 2.1558 -> 6.550 / 2.1542, 6.558 / 2.1592 -> 6.437 / 2.1299. The short panels
# (M3's, where the guard serves the combination; Quarterly lost with it over three seeds) keep their values


def default_transform(panel: Panel) -> str:
    """The default `--transform`: log on a wide panel of long series whose values are all above zero, else none."""
    wide = len(panel.series) >= WIDE_PANEL and max(len(s) for s in panel.series) > SHORT_HISTORY
    return "log" if wide and all_positive(panel) else "none"


def long_panel(n_series: int, lookback: int) -> bool:
    """A panel of WIDE_PANEL series or more read through windows of LONG_WINDOW steps or more (M4 Hourly's kind):
    where the linear path, the larger step and the wider members are the defaults."""
    return n_series >= WIDE_PANEL and lookback >= LONG_WINDOW


# each window's seasonal shape taken out before the network (`--season-norm`) by default where it won on validation
# (docs/decisions.md, "Seasons taken out of each window"): a panel of WIDE_PANEL series or more whose lookback
# holds SEASONED_WINDOW seasons or more. M4 Hourly (414 series, 8 days of 24 hours a window): sMAPE 10.488 ->
# 10.517, MASE 0.8172 -> 0.7595; M3 Quarterly (756, 7 years of 4 quarters): 8.768 / 1.0851 -> 8.731 / 1.0745. It
# lost on M4 Weekly (359 series, 4 seasons of 26 a window: OWA 0.732 -> 0.852), on the 126 ETTh1 pieces (MASE
# 1.068 -> 1.091) and was mixed on one series (El Nino's network better, CO2's worse)
SEASONED_WINDOW = 6


def deseasonalised(n_series: int, season: int, lookback: int) -> bool:
    """Whether `--season-norm` is on where not given: a wide panel whose windows hold many seasons."""
    return n_series >= WIDE_PANEL and season >= 2 and lookback >= SEASONED_WINDOW * season


def level_scaled(n_series: int, season: int, lookback: int) -> bool:
    """Whether each window's error is weighed by 1/its level (`--loss-scale level`: sMAPE's weighing) rather than
    1/its spread where not given: on such panels read through LONG_WINDOW steps or more (docs/decisions.md,
    "Errors weighed by the window's level"). M4 Hourly's validation split: sMAPE 10.517 -> 10.171, MASE 0.7595 ->
    0.7584; on M3 Quarterly's (windows of 28) sMAPE 8.668 -> 8.636 but MASE 1.0618 -> 1.0682; M4 Weekly's
    (not deseasonalised) sMAPE 6.623 -> 6.465, MASE 2.1558 -> 2.2362."""
    return deseasonalised(n_series, season, lookback) and long_panel(n_series, lookback)


# the statistical models the guard weighs (and combines with the network), where `--statistical` is not given:
# on short series (the longest SHORT_HISTORY points or fewer) with a season of SHORT_SEASON steps or none,
# AutoARIMA and AutoCES join AutoETS and AutoTheta. Chosen on M3's validation splits (docs/decisions.md, "More
# statistical models in the combination on short series"): as panels, the combination's sMAPE / MASE, Yearly
# 19.643 / 3.3858 -> 18.894 / 3.2580, Quarterly 8.731 / 1.0745 -> 8.668 / 1.0618, Other 3.982 / 1.9049 -> 3.867 /
# 1.8921, for 2.4x the time on Quarterly (AutoARIMA's fits: a tenth of a second or two each); one series a run
# (22 of them), what the guard served 5.638 / 1.9406 -> 5.205 / 1.7563 at the same time a series. AutoARIMA's
# seasonal search grows costly with the season and the length (3 s a fit on 150 monthly points, over 100 s at
# season 52) and no split with longer seasons or series was measured with it: those keep the two
SHORT_HISTORY, SHORT_SEASON = 200, 4
SHORT_SERIES_STATISTICAL = ("auto_ets", "auto_theta", "auto_arima", "auto_ces")
# ... and on a panel of such series, statsforecast's Theta (standard, theta 2) in AutoTheta's place: over three
# seeds of the network on M3's validation splits (docs/decisions.md, "Theta in AutoTheta's place on short
# panels") the combination's mean sMAPE / MASE, Yearly 18.818 / 3.2457 -> 18.731 / 3.2369, Quarterly 8.654 / 1.0627
# -> 8.611 / 1.0621, Other 3.856 / 1.8857 -> 3.826 / 1.8813. One short series a run (the guard there picks among
# the models on few windows) was not measured with it and keeps AutoTheta
SHORT_PANEL_STATISTICAL = ("auto_ets", "theta", "auto_arima", "auto_ces")


# the final epochs (`--final-epochs`), where not given: after early stopping, each network trains this many epochs
# more on every window before the holdout, the validation part's included, on a panel of short series (the longest
# SHORT_HISTORY points or fewer) and on one long series: where it won on validation splits (docs/decisions.md, "The
# final epochs on every window"). EPF Nord Pool's MAE 2.9057 -> 2.7956 (PJM 2.2033 -> 2.2074), El Nino's MASE
# 0.789 -> 0.776, CO2's 0.245 -> 0.228; M3's panels (the guard's combination) Yearly 18.894 / 3.2580 -> 18.782 /
# 3.2392, Other 3.867 / 1.8921 -> 3.836 / 1.8849, Quarterly 8.668 / 1.0618 -> 8.656 / 1.0622. It lost on M4 Weekly
# (a panel of long series: OWA 0.732 -> 0.735) and on one short series a run (22 M3 series: MASE 1.7349 -> 1.7413)
FINAL_EPOCHS = 3


def final_epochs(n_series: int, longest: int) -> int:
    """The default `--final-epochs`: FINAL_EPOCHS on a panel of short series or on one long series, else none."""
    short = longest <= SHORT_HISTORY
    return FINAL_EPOCHS if short == (n_series > 1) else 0


def weighed_models(longest: int, season: int, n_series: int = 1) -> tuple[str, ...] | None:
    """The default `--statistical` of data of `n_series` series whose longest has `longest` points: more models
    on short yearly or quarterly-like series (Theta for AutoTheta on a panel of them), None (TrainConfig's)
    otherwise."""
    if longest > SHORT_HISTORY or season > SHORT_SEASON:
        return None
    return SHORT_PANEL_STATISTICAL if n_series > 1 else SHORT_SERIES_STATISTICAL


def sized_training(train_raw: Mapping[str, Any], n_windows: int, n_series: int, lookback: int) -> tuple[JSON, str]:
    """Batch size, epochs, windows an epoch and the learning rate sized to the data, where not given: FULL_BATCH
    and FULL_EPOCHS on many windows, EPOCH_WINDOWS of them an epoch (from WIDE_PANEL series,
    WIDE_PANEL_EPOCH_WINDOWS and a learning rate of WIDE_PANEL_LEARNING_RATE, or LONG_PANEL_EPOCH_WINDOWS and
    LONG_PANEL_LEARNING_RATE when its windows (`lookback`) are LONG_WINDOW steps or more: `long_panel`); on
    fewer than 8 full batches, a batch of an eighth of the windows (a power of two, at least 16) so an epoch
    takes about eight gradient steps, and epochs enough for MIN_STEPS steps (at most MAX_EPOCHS; early
    stopping still decides). Returns the settings and a line saying why. The panel's width (`n_series`) and
    `lookback` are asked for, never assumed: the windows an epoch and the step depend on both."""
    sized = dict(train_raw)
    if n_series >= WIDE_PANEL:
        long = long_panel(n_series, lookback)
        sized.setdefault("learning_rate", LONG_PANEL_LEARNING_RATE if long else WIDE_PANEL_LEARNING_RATE)
        sized.setdefault("max_windows_per_epoch", LONG_PANEL_EPOCH_WINDOWS if long else WIDE_PANEL_EPOCH_WINDOWS)
    sized.setdefault("max_windows_per_epoch", EPOCH_WINDOWS)
    per_epoch = min(n_windows, int(sized["max_windows_per_epoch"]))
    if "batch_size" not in sized:
        small = per_epoch < 8 * FULL_BATCH
        sized["batch_size"] = max(16, 2 ** int(math.log2(max(per_epoch, 1) / 8))) if small else FULL_BATCH
    steps = max(1, math.ceil(per_epoch / sized["batch_size"]))
    if "epochs" not in sized:
        sized["epochs"] = min(MAX_EPOCHS, max(FULL_EPOCHS, math.ceil(MIN_STEPS / steps)))
    given = [name for name in ("batch_size", "epochs") if name in train_raw]
    note = (
        f"training on {n_windows} windows"
        + (f", {per_epoch:,} sampled an epoch" if per_epoch < n_windows else "")
        + f": batch {sized['batch_size']} ({steps} steps an epoch), at most "
        f"{sized['epochs']} epochs ({steps * sized['epochs']} steps), early stopping after "
        f"{sized.get('patience', 5)} epochs without progress"
        + (f" ({' and '.join(given)} as given)" if given else
           f" (sized to few windows: a batch of about an eighth of them, a power of two, and epochs for about "
           f"{MIN_STEPS} steps in all)" if per_epoch < 8 * FULL_BATCH
           else "")
    )  # fmt: skip
    return sized, note


def resolve_config(settings: Settings, panel: Panel) -> tuple[RunConfig, Season]:
    """Turn user settings (CLI options over config file) into a complete RunConfig; also return the
    season (given, from the frequency, or found in the data: `forecaster.data.season`)."""
    scale_given = "loss_scale" in settings.train
    settings = with_panel_defaults(settings, len(panel.series))
    data = settings.build("data")
    found = resolve_season(data.season, panel.freq, [s.values[:, 0] for s in panel.series])
    season = found.period
    window_raw = dict(settings.window)
    if "horizon" not in window_raw:
        raise DataError("--horizon is required (how many steps ahead to forecast)")
    horizon = int(window_raw["horizon"])
    if horizon < 1:
        raise DataError(f"--horizon must be at least 1, got {horizon}")
    longest = max(len(s) for s in panel.series) - int(window_raw.get("holdout", 0))
    if window_raw.get("lookback") and int(window_raw["lookback"]) + horizon > longest:
        raise DataError(
            f"--lookback {window_raw['lookback']} with --horizon {horizon} is longer than the longest series "
            f"({longest} points{' after the holdout' if window_raw.get('holdout') else ''}): "
            f"choose --lookback {max(1, longest - horizon)} or less"
        )
    lookback = int(window_raw.get("lookback") or default_lookback(season, horizon, longest, found.cycles))
    patch = int(window_raw.get("patch") or default_patch(season, lookback))
    if patch > lookback:  # refused now: rounding the lookback up to one patch of 10**9 steps would allocate it
        raise DataError(f"--patch {patch} is longer than the lookback ({lookback} steps): choose {lookback} or less")
    lookback = -(-lookback // patch) * patch  # round up to whole patches
    window_raw.update(lookback=lookback, patch=patch)
    window_raw.setdefault("min_context", patch)
    window_raw.setdefault("transform", default_transform(panel))  # where it won; given wins
    window = _build(WindowConfig, window_raw)
    long = long_panel(len(panel.series), lookback)
    model_raw = {
        "linear_skip": long,  # where it won; given wins
        **({"layers": LONG_PANEL_LAYERS, "ensemble": LONG_PANEL_MEMBERS} if long else {}),  # likewise
        "season_norm": deseasonalised(len(panel.series), season, lookback),  # likewise
        **settings.model,
        "lookback": lookback,
        "horizon": horizon,
        "patch": patch,
        "n_features": 1 + len(data.features) + len(data.future),
        "n_future": len(data.future),
        "n_series": len(panel.series),
        "season_steps": season,
    }
    if data.static:
        model_raw["static_encoding"] = fit_encoding([s.static for s in panel.series], data.static)
    model_raw["calendar"] = resolve_cycles(model_raw.get("calendar", DEFAULT_CALENDAR), panel.freq, panel.span_seconds)
    model_raw["step_seconds"] = step_seconds(panel.freq) or 0.0 if model_raw["calendar"] else 0.0
    model = _build(ModelConfig, model_raw)
    sized = sized_training(settings.train, training_windows(panel, window), len(panel.series), lookback)[0]
    points = max(len(s) for s in panel.series)
    models = weighed_models(points, season, len(panel.series))
    sized.setdefault("final_epochs", final_epochs(len(panel.series), points))
    if models:
        sized.setdefault("statistical", models)
    if not scale_given and level_scaled(len(panel.series), season, lookback):
        sized["loss_scale"] = "level"
    train = _build(TrainConfig, sized)
    return RunConfig(data=data, window=window, model=model, train=train), found
