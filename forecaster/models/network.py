"""The network, written once: `build_model(ModelConfig) -> keras.Model`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import keras

from forecaster.config import LOSSES, ModelConfig, check_choice
from forecaster.data.static import width
from forecaster.errors import SettingsError
from forecaster.kinds import JSON
from forecaster.models.encoders import encoder
from forecaster.models.knots import rate_heads
from forecaster.models.layers import (
    AddReference,
    AttentionPooling,
    CalendarFeatures,
    InstanceNorm,
    KnownNorm,
    LengthMask,
    MemberMedian,
    MonotoneQuantiles,
    RecentWindow,
)
from forecaster.models.season import AddSeason, SeasonNorm


def validate_model_config(cfg: ModelConfig) -> None:
    """What relates fields to each other (each field alone is checked by ModelConfig itself)."""
    if cfg.lookback % cfg.patch:
        raise SettingsError(f"--lookback ({cfg.lookback}) must be a multiple of --patch ({cfg.patch})")
    if any(k > cfg.horizon for k in cfg.output_knots):
        raise SettingsError(
            f"--output-knots ({','.join(map(str, cfg.output_knots))}): at most the horizon ({cfg.horizon})"
        )
    if cfg.series_embedding and cfg.n_series < 1:
        raise SettingsError("--series-embedding needs the number of series (n_series) in the model config")


def build_model(cfg: ModelConfig) -> keras.Model:
    """The run's model: one network, or with `cfg.ensemble` > 1 that many networks of the same shape
    (trained one by one, with different seeds: `forecaster.training.train`) whose forecasts are combined by
    their median. Inputs and output as `build_network`'s, so forecasting, backtests and the export
    treat an ensemble like one network.
    """
    validate_model_config(cfg)
    if cfg.ensemble == 1:
        return build_network(member_config(cfg, 0))
    inputs = {
        "values": keras.Input((cfg.lookback, cfg.n_features), name="values"),
        "length": keras.Input((), dtype="int32", name="length"),
    }
    if cfg.calendar:
        inputs["time"] = keras.Input((), dtype="int64", name="time")
    if cfg.series_embedding:
        inputs["series"] = keras.Input((), dtype="int32", name="series")
    if cfg.n_future:
        inputs["future"] = keras.Input((cfg.horizon, cfg.n_future), name="future")
    if cfg.static_encoding:
        inputs["static"] = keras.Input((width(cfg.static_encoding),), name="static")
    members = [build_network(member_config(cfg, k), name=member_name(k))(inputs) for k in range(cfg.ensemble)]
    forecast = MemberMedian(name="median", dtype="float32")(members)
    return keras.Model(inputs, forecast, name="ensemble")


def member_name(k: int) -> str:
    return f"member_{k}"


def member_config(cfg: ModelConfig, k: int) -> ModelConfig:
    """Member k of an ensemble: one network; a list of instance norms ("mean_std,last_std") and of window
    shares (`member_windows`, "1,0.5") are taken in turn by the members, so they differ in how they see a
    window and how much of it they read (N-BEATS' members span lookbacks of 2 to 7 horizons), as well as in
    their seeds. A member's window is its share of the lookback in whole patches, at least one patch."""
    modes = cfg.instance_norm.split(",")
    share = cfg.member_windows[k % len(cfg.member_windows)]
    recent = max(cfg.patch, int(cfg.lookback * share) // cfg.patch * cfg.patch)
    return replace(cfg, ensemble=1, instance_norm=modes[k % len(modes)], member_windows=(share,),
                   recent=recent if recent < cfg.lookback else 0)  # fmt: skip


def build_network(cfg: ModelConfig, name: str = "forecaster") -> keras.Model:
    """A stacked (optionally bidirectional) LSTM/GRU forecaster.

    Inputs:
        values: float32 (batch, lookback, n_features), scaled, right-padded with zeros.
        length: int32 (batch,), the number of valid points at the start of `values`.
        time: int64 (batch,), Unix seconds of the last valid point (only with `cfg.calendar`).
        series: int32 (batch,), the series' row in the embedding (only with `cfg.series_embedding`).
        static: float32 (batch, width), the series' encoded static covariates (`--static`).
        future: float32 (batch, horizon, n_future), scaled, the `--future` covariates at each forecast
            step (only with `cfg.n_future`).
    Output:
        float32 (batch, horizon), or (batch, horizon, n_quantiles) with quantiles, in scaled units.

    The encoder (`cfg.cell`, a module of `forecaster.models.encoders`) reads the patched sequence under a
    right-padded mask; the recurrent ones keep the cuDNN conditions, so a GPU runs the fast kernel.
    The head maps the encoder's state (with the series' vector) to all horizon steps at once; with
    calendar features or future-known covariates a small per-step network adds what the step's place in
    the day/week/year and the covariates' values at that step say (as NeuralForecast's LSTM feeds them
    to its decoder).
    """
    values = keras.Input((cfg.lookback, cfg.n_features), name="values")
    length = keras.Input((), dtype="int32", name="length")
    inputs = {"values": values, "length": length}
    if cfg.recent:  # an ensemble member that reads only the window's latest points
        values, length = RecentWindow(cfg.recent, name="recent_window")([values, length])
    if cfg.n_future:
        future = inputs["future"] = keras.Input((cfg.horizon, cfg.n_future), name="future")
        values, future = KnownNorm(cfg.instance_norm, cfg.n_future, name="known_norm")([values, length, future])
    normed, reference, spread = InstanceNorm(cfg.instance_norm, name="instance_norm")([values, length])
    deseasonalise = cfg.season_norm and cfg.season_steps >= 2
    if deseasonalise:
        normed, profile = SeasonNorm(cfg.season_steps, name="season_norm")([normed, length])

    steps = (cfg.recent or cfg.lookback) // cfg.patch
    sequence = keras.layers.Reshape((steps, cfg.patch * cfg.n_features), name="patches")(normed)
    mask = LengthMask(steps, cfg.patch, name="mask")(length)
    regularizer = keras.regularizers.L2(cfg.l2) if cfg.l2 else None
    hidden = encoder(cfg.cell)(sequence, mask, cfg, regularizer)  # forecaster.models.encoders
    if cfg.pooling == "attention":
        hidden = AttentionPooling(name="attention")([hidden, mask])
    if cfg.series_embedding:
        series = inputs["series"] = keras.Input((), dtype="int32", name="series")
        vector = keras.layers.Embedding(cfg.n_series, cfg.series_embedding, name="series_embedding")(series)
        hidden = keras.layers.Concatenate(name="state_and_series")([hidden, vector])
    if cfg.static_encoding:
        static = inputs["static"] = keras.Input((width(cfg.static_encoding),), name="static")
        hidden = keras.layers.Concatenate(name="state_and_static")([hidden, static])

    n_quantiles = max(1, len(cfg.quantiles))
    n_out = cfg.horizon * n_quantiles
    forecast = rate_heads(hidden, cfg.output_knots, cfg.horizon, n_quantiles, regularizer)
    known = []  # per forecast step: (batch, horizon, k) what is known of it in advance
    if cfg.calendar:
        time = inputs["time"] = keras.Input((), dtype="int64", name="time")
        known.append(CalendarFeatures(cfg.calendar, cfg.step_seconds, cfg.horizon, name="calendar")(time))
    if cfg.n_future:
        known.append(future)
    if known:
        state = keras.layers.RepeatVector(cfg.horizon, name="state_per_step")(hidden)
        per_step = keras.layers.Concatenate(name="state_and_calendar")([state, *known])
        per_step = keras.layers.Dense(32, activation="relu", name="calendar_hidden")(per_step)
        per_step = keras.layers.Dense(n_quantiles, name="calendar_head")(per_step)
        forecast = keras.layers.Add(name="head_plus_calendar")(
            [forecast, keras.layers.Flatten(name="calendar_flat")(per_step)]
        )
    if cfg.linear_skip:
        flat = keras.layers.Flatten(name="flatten_inputs")(normed)
        skip = keras.layers.Dense(n_out, kernel_regularizer=regularizer, name="linear_skip")(flat)
        forecast = keras.layers.Add(name="head_plus_skip")([forecast, skip])
    if cfg.quantiles:
        forecast = MonotoneQuantiles(len(cfg.quantiles), name="quantiles")(forecast)
    if deseasonalise:
        forecast = AddSeason(cfg.horizon, name="add_season")([forecast, profile])
    forecast = AddReference(name="forecast", dtype="float32")([forecast, reference, spread])
    return keras.Model(inputs, forecast, name=name)


@keras.saving.register_keras_serializable(package="forecaster")
class PinballLoss(keras.losses.Loss):
    """Mean pinball (quantile) loss over horizon steps and quantile levels.

    y_true: (batch, horizon); y_pred: (batch, horizon, n_quantiles).
    """

    def __init__(self, quantiles: tuple[float, ...] = (0.5,), name: str = "pinball", **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.quantiles = tuple(quantiles)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        from keras import ops

        levels = ops.convert_to_tensor(self.quantiles, dtype=y_pred.dtype)
        error = ops.expand_dims(y_true, -1) - y_pred
        return ops.mean(ops.maximum(levels * error, (levels - 1.0) * error), axis=(-2, -1))

    def get_config(self) -> JSON:
        return {**super().get_config(), "quantiles": list(self.quantiles)}


def loss_for(cfg: ModelConfig, loss: str = "mse") -> Any:
    """The pinball loss for quantile models, else `loss` (mse, mae or huber on scaled values)."""
    if cfg.quantiles:
        return PinballLoss(cfg.quantiles)
    check_choice("loss", loss, LOSSES)
    return keras.losses.Huber() if loss == "huber" else loss
