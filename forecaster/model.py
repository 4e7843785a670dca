"""The network, written once: `build_model(ModelConfig) -> keras.Model`."""

from __future__ import annotations

from typing import Any

import keras

from forecaster.config import CELLS, INSTANCE_NORMS, LOSSES, POOLINGS, ModelConfig, check_choice
from forecaster.errors import ForecasterError
from forecaster.layers import AddReference, AttentionPooling, InstanceNorm, LengthMask, MonotoneQuantiles


def validate_model_config(cfg: ModelConfig) -> None:
    check_choice("cell", cfg.cell, CELLS)
    check_choice("instance_norm", cfg.instance_norm, INSTANCE_NORMS)
    check_choice("pooling", cfg.pooling, POOLINGS)
    if cfg.patch < 1 or cfg.lookback % cfg.patch:
        raise ForecasterError(f"--lookback ({cfg.lookback}) must be a multiple of --patch ({cfg.patch})")
    if not cfg.layers or min(cfg.layers) < 1:
        raise ForecasterError("--layers needs one or more positive sizes, e.g. --layers 64,64")
    if not 0.0 <= cfg.dropout < 1.0:
        raise ForecasterError(f"--dropout must be in [0, 1), got {cfg.dropout}")
    if cfg.quantiles and (
        sorted(cfg.quantiles) != list(cfg.quantiles)
        or len(cfg.quantiles) % 2 == 0
        or not all(0 < q < 1 for q in cfg.quantiles)
    ):
        raise ForecasterError(
            "--quantiles must be an odd number of ascending levels in (0, 1) around the median, e.g. 0.1,0.5,0.9"
        )


def build_model(cfg: ModelConfig) -> keras.Model:
    """A stacked (optionally bidirectional) LSTM/GRU forecaster.

    Inputs:
        values: float32 (batch, lookback, n_features), scaled, right-padded with zeros.
        length: int32 (batch,), the number of valid points at the start of `values`.
    Output:
        float32 (batch, horizon), or (batch, horizon, n_quantiles) with quantiles, in scaled units.

    The recurrent layers keep the cuDNN conditions (tanh/sigmoid, no recurrent dropout, no unroll,
    bias on) and receive a right-padded mask, so a GPU runs them with the fast kernel.
    """
    validate_model_config(cfg)
    values = keras.Input((cfg.lookback, cfg.n_features), name="values")
    length = keras.Input((), dtype="int32", name="length")
    normed, reference = InstanceNorm(cfg.instance_norm, name="instance_norm")([values, length])

    steps = cfg.lookback // cfg.patch
    sequence = keras.layers.Reshape((steps, cfg.patch * cfg.n_features), name="patches")(normed)
    mask = LengthMask(steps, cfg.patch, name="mask")(length)
    regularizer = keras.regularizers.L2(cfg.l2) if cfg.l2 else None
    cell = keras.layers.LSTM if cfg.cell == "lstm" else keras.layers.GRU
    hidden: Any = sequence
    for depth, units in enumerate(cfg.layers):
        keep_sequence = depth < len(cfg.layers) - 1 or cfg.pooling == "attention"
        recurrent = cell(
            units,
            return_sequences=keep_sequence,
            kernel_regularizer=regularizer,
            use_cudnn=cfg.use_cudnn,
            name=f"{cfg.cell}_{depth}",
        )
        if cfg.bidirectional:
            recurrent = keras.layers.Bidirectional(recurrent, name=f"bi_{cfg.cell}_{depth}")
        hidden = recurrent(hidden, mask=mask)
        if cfg.dropout:
            hidden = keras.layers.Dropout(cfg.dropout, name=f"dropout_{depth}")(hidden)
    if cfg.pooling == "attention":
        hidden = AttentionPooling(name="attention")([hidden, mask])

    n_out = cfg.horizon * max(1, len(cfg.quantiles))
    forecast = keras.layers.Dense(n_out, kernel_regularizer=regularizer, name="head")(hidden)
    if cfg.linear_skip:
        flat = keras.layers.Flatten(name="flatten_inputs")(normed)
        skip = keras.layers.Dense(n_out, kernel_regularizer=regularizer, name="linear_skip")(flat)
        forecast = keras.layers.Add(name="head_plus_skip")([forecast, skip])
    if cfg.quantiles:
        forecast = MonotoneQuantiles(len(cfg.quantiles), name="quantiles")(forecast)
    forecast = AddReference(name="forecast", dtype="float32")([forecast, reference])
    return keras.Model({"values": values, "length": length}, forecast, name="forecaster")


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

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "quantiles": list(self.quantiles)}


def loss_for(cfg: ModelConfig, loss: str = "mse") -> Any:
    """The pinball loss for quantile models, else `loss` (mse, mae or huber on scaled values)."""
    if cfg.quantiles:
        return PinballLoss(cfg.quantiles)
    check_choice("loss", loss, LOSSES)
    return keras.losses.Huber() if loss == "huber" else loss
