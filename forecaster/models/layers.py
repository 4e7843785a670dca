"""The few custom layers the model needs; each is registered so `.keras` files load with safe_mode."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from forecaster.data.calendar import CYCLE_OFFSET, CYCLES
from forecaster.data.spread import SPREAD_FLOOR, masked_mean, window_spread
from forecaster.kinds import JSON, Shape, Tensor


@keras.saving.register_keras_serializable(package="forecaster")
class LengthMask(keras.layers.Layer):
    """Valid lengths -> a right-padded boolean mask.

    Args:
        steps: time steps of the masked sequence.
        patch: input points per step (lengths are divided by it).

    Call: length: int32 (batch,) -> bool (batch, steps).
    """

    def __init__(self, steps: int, patch: int = 1, **kwargs: object):
        super().__init__(**kwargs)
        self.steps, self.patch = steps, patch

    def call(self, length: Tensor) -> Tensor:
        n_steps = ops.floor_divide(ops.cast(length, "int32"), self.patch)
        return ops.arange(self.steps)[None, :] < n_steps[:, None]

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], self.steps)

    def get_config(self) -> JSON:
        return {**super().get_config(), "steps": self.steps, "patch": self.patch}


@keras.saving.register_keras_serializable(package="forecaster")
class RecentWindow(keras.layers.Layer):
    """The latest `recent` valid points of right-padded windows, right-padded again.

    Args:
        recent: the points kept (a whole number of patches, below the lookback).

    Call: [values float32 (batch, lookback, features), length int32 (batch,)] -> [values float32 (batch, recent,
    features) holding the last min(length, recent) valid points first, zeros after; length int32 (batch,)].
    """

    def __init__(self, recent: int, **kwargs: object):
        super().__init__(**kwargs)
        self.recent = recent

    def call(self, inputs: Tensor) -> Tensor:
        values, length = inputs
        length = ops.cast(length, "int32")
        kept = ops.minimum(length, self.recent)
        start = ops.maximum(length - self.recent, 0)
        positions = ops.minimum(start[:, None] + ops.arange(self.recent)[None, :], ops.shape(values)[1] - 1)
        taken = ops.take_along_axis(values, ops.expand_dims(positions, -1), axis=1)
        valid = ops.cast(ops.arange(self.recent)[None, :] < kept[:, None], values.dtype)
        return [taken * ops.expand_dims(valid, -1), kept]

    def compute_output_shape(self, input_shape: list[Shape]) -> list[Shape]:
        return [(input_shape[0][0], self.recent, input_shape[0][2]), input_shape[1]]

    def get_config(self) -> JSON:
        return {**super().get_config(), "recent": self.recent}


@keras.saving.register_keras_serializable(package="forecaster")
class InstanceNorm(keras.layers.Layer):
    """Per-window normalisation of the target channel (the "RevIN" idea, without learned affine).

    Subtracts a per-window reference (the last valid value, or the mean of the valid values) from
    the target channel so the network sees shapes, not levels; the `*_std` modes also divide by the
    window's standard deviation, so it sees shapes at one scale whatever the series' level and
    spread were when the scaler was fitted. `AddReference` undoes both.

    Args:
        mode: "last", "mean", "last_std", "mean_std" or "none".

    Call: [values float32 (batch, lookback, features), length int32 (batch,)] ->
        [values with the target channel normalised (padding stays 0), reference float32 (batch, 1),
        spread float32 (batch, 1) (ones unless a `*_std` mode)].
    """

    def __init__(self, mode: str = "last", **kwargs: object):
        super().__init__(**kwargs)
        self.mode = mode

    def call(self, inputs: Tensor) -> Tensor:
        values, length = inputs
        target = values[:, :, 0]
        valid = valid_steps(length, ops.shape(values)[1], values.dtype)
        if self.mode.startswith("last"):
            last = ops.one_hot(ops.maximum(ops.cast(length, "int32") - 1, 0), ops.shape(values)[1], dtype=values.dtype)
            reference = ops.sum(target * last, axis=1, keepdims=True)
        elif self.mode.startswith("mean"):
            reference = masked_mean(target, valid)
        else:
            reference = ops.zeros_like(target[:, :1])
        spread = window_spread(target, valid) if self.mode.endswith("_std") else ops.ones_like(reference)
        shifted = (target - reference) / spread * valid
        return ops.concatenate([shifted[:, :, None], values[:, :, 1:]], axis=-1), reference, spread

    def compute_output_shape(self, input_shape: list[Shape]) -> tuple[Shape, Shape, Shape]:
        values_shape = input_shape[0]
        return values_shape, (values_shape[0], 1), (values_shape[0], 1)

    def get_config(self) -> JSON:
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package="forecaster")
class KnownNorm(keras.layers.Layer):
    """Per-window normalisation of the future-known covariates (`--future`), as `InstanceNorm` treats the
    target: each covariate's lookback and its values at the forecast steps are shifted by the same
    per-window reference (and with `*_std` divided by the same spread), so "tomorrow's load is 10%
    above today's" looks alike in every window and series, as the target's shape does.

    Args:
        mode: InstanceNorm's mode, taken by the covariates too.
        n_future: the last n_future channels of `values` are the covariates.

    Call: [values float32 (batch, lookback, features), length int32 (batch,), future float32 (batch,
        horizon, n_future)] -> [values with those channels normalised (padding stays 0), future normalised].
    """

    def __init__(self, mode: str = "last", n_future: int = 1, **kwargs: object):
        super().__init__(**kwargs)
        self.mode, self.n_future = mode, n_future

    def call(self, inputs: Tensor) -> Tensor:
        values, length, future = inputs
        past = values[:, :, -self.n_future :]  # (batch, lookback, n_future)
        valid = valid_steps(length, ops.shape(values)[1], values.dtype)[:, :, None]
        count = ops.maximum(ops.sum(valid, axis=1, keepdims=True), 1.0)
        if self.mode.startswith("last"):
            last = ops.one_hot(ops.maximum(ops.cast(length, "int32") - 1, 0), ops.shape(values)[1], dtype=values.dtype)
            reference = ops.sum(past * last[:, :, None], axis=1, keepdims=True)
        elif self.mode.startswith("mean"):
            reference = ops.sum(past * valid, axis=1, keepdims=True) / count
        else:
            reference = ops.zeros_like(past[:, :1, :])
        spread = ops.ones_like(reference)
        if self.mode.endswith("_std"):
            mean = ops.sum(past * valid, axis=1, keepdims=True) / count
            variance = ops.sum(ops.square(past - mean) * valid, axis=1, keepdims=True) / count
            spread = ops.maximum(ops.sqrt(variance), SPREAD_FLOOR)
        normed = (past - reference) / spread * valid
        head = values[:, :, : ops.shape(values)[2] - self.n_future]
        return ops.concatenate([head, normed], axis=-1), (future - reference) / spread

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape[0], input_shape[2]

    def get_config(self) -> JSON:
        return {**super().get_config(), "mode": self.mode, "n_future": self.n_future}


def valid_steps(length: Tensor, lookback: int | Tensor, dtype: str = "float32") -> Tensor:
    """1.0 where a step of a right-padded window is real: (batch,) lengths -> (batch, lookback)."""
    return ops.cast(ops.arange(lookback)[None, :] < ops.cast(length, "int32")[:, None], dtype)


@keras.saving.register_keras_serializable(package="forecaster")
class AddReference(keras.layers.Layer):
    """Undoes `InstanceNorm`: [forecast (batch, horizon, ...), reference (batch, 1), spread (batch, 1)]
    -> forecast * spread + reference."""

    def call(self, inputs: Tensor) -> Tensor:
        forecast, reference, spread = inputs
        while len(reference.shape) < len(forecast.shape):
            reference, spread = ops.expand_dims(reference, -1), ops.expand_dims(spread, -1)
        return forecast * spread + reference

    def compute_output_shape(self, input_shape: list[Shape]) -> Shape:
        return input_shape[0]


@keras.saving.register_keras_serializable(package="forecaster")
class MemberMedian(keras.layers.Layer):
    """The ensemble's forecast: the median of its members' forecasts, element by element.

    Call: list of M float32 (batch, horizon[, quantiles]) -> float32 (batch, horizon[, quantiles]).
    The median of quantile forecasts that do not cross does not cross either.
    """

    def call(self, members: Tensor) -> Tensor:
        return ops.median(ops.stack(members, axis=-1), axis=-1)

    def compute_output_shape(self, input_shape: list[Shape]) -> Shape:
        return input_shape[0]


@keras.saving.register_keras_serializable(package="forecaster")
class AttentionPooling(keras.layers.Layer):
    """Additive attention over the encoder's outputs (the "LSTMa" pooling), masked to valid steps.

    Call: [states float32 (batch, steps, units), mask bool (batch, steps)] -> float32 (batch, units).
    """

    def __init__(self, units: int = 32, **kwargs: object):
        super().__init__(**kwargs)
        self.units = units
        self.supports_masking = True  # the mask arrives as an explicit input; nothing to pass on
        self.project = keras.layers.Dense(units, activation="tanh")
        self.score = keras.layers.Dense(1, use_bias=False)

    def build(self, input_shape: list[Shape]) -> None:
        self.project.build(input_shape[0])
        self.score.build((*input_shape[0][:-1], self.units))
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        states, mask = inputs
        scores = self.score(self.project(states))[:, :, 0]
        scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=1)
        return ops.sum(states * weights[:, :, None], axis=1)

    def compute_mask(self, inputs: Tensor, mask: Tensor = None) -> None:
        return None

    def compute_output_shape(self, input_shape: list[Shape]) -> Shape:
        return (input_shape[0][0], input_shape[0][2])

    def get_config(self) -> JSON:
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="forecaster")
class MonotoneQuantiles(keras.layers.Layer):
    """Raw head outputs -> quantiles that never cross.

    The middle output is the central quantile; the others are built outward from it by adding
    (or subtracting) softplus increments, so q_1 <= q_2 <= ... holds by construction.

    Args:
        n_quantiles: number of quantile levels (sorted ascending).

    Call: float32 (batch, horizon * n_quantiles) -> float32 (batch, horizon, n_quantiles).
    """

    def __init__(self, n_quantiles: int, **kwargs: object):
        super().__init__(**kwargs)
        self.n_quantiles = n_quantiles

    def call(self, raw: Tensor) -> Tensor:
        raw = ops.reshape(raw, (ops.shape(raw)[0], -1, self.n_quantiles))
        mid = self.n_quantiles // 2
        center = raw[:, :, mid : mid + 1]
        above = center + ops.cumsum(ops.softplus(raw[:, :, mid + 1 :]), axis=-1)
        below = center - ops.flip(ops.cumsum(ops.softplus(ops.flip(raw[:, :, :mid], axis=-1)), axis=-1), axis=-1)
        return ops.concatenate([below, center, above], axis=-1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (
            input_shape[0],
            None if input_shape[1] is None else input_shape[1] // self.n_quantiles,
            self.n_quantiles,
        )

    def get_config(self) -> JSON:
        return {**super().get_config(), "n_quantiles": self.n_quantiles}


@keras.saving.register_keras_serializable(package="forecaster")
class CalendarFeatures(keras.layers.Layer):
    """The last observed time of each window -> calendar features of every forecast step.

    Step k (1..horizon) is at `time + k * step_seconds`; each cycle gives the sin and cos of that
    time's phase in it (see `forecaster.data.calendar`, whose numpy version this matches).

    Args:
        cycles: names from `forecaster.data.calendar.CYCLES` ("day", "week", "year").
        step_seconds: the (mean) length of one step.
        horizon: forecast steps.

    Call: time int64 (batch,) Unix seconds -> float32 (batch, horizon, 2 * len(cycles)).
    """

    def __init__(self, cycles: tuple[str, ...], step_seconds: float, horizon: int, **kwargs: object):
        super().__init__(**kwargs)
        self.cycles, self.step_seconds, self.horizon = tuple(cycles), float(step_seconds), horizon

    def call(self, time: Tensor) -> Tensor:

        steps = ops.arange(1, self.horizon + 1, dtype="float64") * self.step_seconds
        times = ops.cast(time, "float64")[:, None] + steps[None, :]  # float64: exact for Unix seconds
        columns = []
        for name in self.cycles:
            angle = (2 * np.pi / CYCLES[name]) * ops.mod(times + CYCLE_OFFSET[name], float(CYCLES[name]))
            columns += [ops.sin(angle), ops.cos(angle)]
        return ops.cast(ops.stack(columns, axis=-1), "float32")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], self.horizon, 2 * len(self.cycles))

    def get_config(self) -> JSON:
        return {
            **super().get_config(),
            "cycles": list(self.cycles),
            "step_seconds": self.step_seconds,
            "horizon": self.horizon,
        }
