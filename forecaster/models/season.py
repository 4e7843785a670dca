"""Per-window deseasonalisation inside the network (ES-RNN's idea, without learned smoothing): the
network reads a window with its average seasonal shape taken out, and forecasts what is left; the
shape, continued over the horizon, is added back. Both layers are registered so `.keras` files load
with safe_mode, and written in Keras ops so the export serves them as training does."""

from __future__ import annotations

import keras
from keras import ops

from forecaster.kinds import JSON, Shape, Tensor
from forecaster.models.layers import valid_steps


@keras.saving.register_keras_serializable(package="forecaster")
class SeasonNorm(keras.layers.Layer):
    """Takes each window's seasonal profile out of its target channel.

    A step's phase is counted back from the window's last valid point, so right-padded windows of any
    length line up: the last point has phase `period - 1`, the first forecast step phase 0. The profile
    is the mean of the valid points of each phase, centred (its mean over a season is zero, so the level
    stays with the instance norm); a window shorter than two seasons has no profile (zeros).

    Args:
        period: steps in a season (24 for hours in a day).

    Call: [values float32 (batch, lookback, features), length int32 (batch,)] ->
        [values with the profile subtracted from the target channel (padding stays 0), profile float32
        (batch, period), indexed by phase].
    """

    def __init__(self, period: int, **kwargs: object):
        super().__init__(**kwargs)
        self.period = period

    def call(self, inputs: Tensor) -> Tensor:
        values, length = inputs
        lookback = ops.shape(values)[1]
        length = ops.cast(length, "int32")
        valid = valid_steps(length, lookback, values.dtype)
        phases = ops.one_hot(window_phases(length, lookback, self.period), self.period, dtype=values.dtype)
        phases = phases * valid[:, :, None]  # (batch, lookback, period), zero on padding
        target = values[:, :, 0]
        sums = ops.sum(target[:, :, None] * phases, axis=1)
        counts = ops.sum(phases, axis=1)
        profile = sums / ops.maximum(counts, 1.0)
        profile = profile - ops.mean(profile, axis=1, keepdims=True)
        seasons = ops.cast(length >= 2 * self.period, values.dtype)[:, None]
        profile = profile * seasons
        shape = ops.sum(phases * profile[:, None, :], axis=-1)  # each valid step's profile value
        deseasonalised = (target - shape) * valid
        return ops.concatenate([deseasonalised[:, :, None], values[:, :, 1:]], axis=-1), profile

    def compute_output_shape(self, input_shape: list[Shape]) -> tuple[Shape, Shape]:
        return input_shape[0], (input_shape[0][0], self.period)

    def get_config(self) -> JSON:
        return {**super().get_config(), "period": self.period}


def window_phases(length: Tensor, lookback: int | Tensor, period: int) -> Tensor:
    """Each step's phase, counted so that step `length` (the first after the window) is phase 0:
    (batch,) lengths -> int32 (batch, lookback)."""
    steps = ops.arange(lookback, dtype="int32")[None, :] - ops.cast(length, "int32")[:, None]
    return ops.mod(steps, period)


@keras.saving.register_keras_serializable(package="forecaster")
class AddSeason(keras.layers.Layer):
    """Undoes `SeasonNorm` over the horizon: [forecast (batch, horizon[, quantiles]), profile (batch,
    period)] -> forecast plus the profile's value at each forecast step's phase (step k at phase k mod
    period), added to every quantile alike."""

    def __init__(self, horizon: int, **kwargs: object):
        super().__init__(**kwargs)
        self.horizon = horizon

    def call(self, inputs: Tensor) -> Tensor:
        forecast, profile = inputs
        period = ops.shape(profile)[1]
        ahead = ops.take(profile, ops.mod(ops.arange(self.horizon, dtype="int32"), period), axis=1)
        while len(ahead.shape) < len(forecast.shape):
            ahead = ops.expand_dims(ahead, -1)
        return forecast + ahead

    def compute_output_shape(self, input_shape: list[Shape]) -> Shape:
        return input_shape[0]

    def get_config(self) -> JSON:
        return {**super().get_config(), "horizon": self.horizon}
