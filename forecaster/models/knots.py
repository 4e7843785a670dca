"""Outputs at several rates (NHITS' multi-rate outputs): a head that forecasts a few knots spread over the
horizon, drawn out to every step by linear interpolation, so it can only say something smooth; several such
heads, coarse to fine, are summed. The layer is registered so `.keras` files load with safe_mode, and written
in Keras ops so the export serves it as training does."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from forecaster.kinds import JSON, Shape, Tensor


def interpolation_matrix(horizon: int, knots: int) -> np.ndarray:
    """(horizon, knots) weights that draw `knots` values, the first at step 0 and the last at step
    `horizon - 1`, evenly spaced, out to every step by linear interpolation (each row sums to 1)."""
    if knots >= horizon:
        return np.eye(horizon, knots, dtype="float32")
    at = np.arange(horizon) * (knots - 1) / (horizon - 1)  # each step's place among the knots
    left = np.minimum(np.floor(at).astype(int), knots - 2)
    right_weight = at - left
    matrix = np.zeros((horizon, knots), dtype="float32")
    matrix[np.arange(horizon), left] = 1.0 - right_weight
    matrix[np.arange(horizon), left + 1] = right_weight
    return matrix


@keras.saving.register_keras_serializable(package="forecaster")
class KnotInterpolation(keras.layers.Layer):
    """A head's knots -> every horizon step.

    Args:
        horizon: forecast steps.
        knots: values the head forecasts (2 to horizon; horizon: every step, nothing drawn out).
        n_quantiles: values per step (quantile levels, or 1).

    Call: float32 (batch, knots * n_quantiles), knot-major -> float32 (batch, horizon * n_quantiles),
        step-major, as a dense head's output is laid out.
    """

    def __init__(self, horizon: int, knots: int, n_quantiles: int = 1, **kwargs: object):
        super().__init__(**kwargs)
        self.horizon, self.knots, self.n_quantiles = horizon, knots, n_quantiles
        self.matrix = interpolation_matrix(horizon, knots)

    def call(self, values: Tensor) -> Tensor:
        knots = ops.reshape(values, (-1, self.knots, self.n_quantiles))
        steps = ops.einsum("hk,bkq->bhq", ops.convert_to_tensor(self.matrix, dtype=values.dtype), knots)
        return ops.reshape(steps, (-1, self.horizon * self.n_quantiles))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], self.horizon * self.n_quantiles)

    def get_config(self) -> JSON:
        return {**super().get_config(), "horizon": self.horizon, "knots": self.knots, "n_quantiles": self.n_quantiles}


def rate_heads(hidden: Tensor, knots: tuple[int, ...], horizon: int, n_quantiles: int, regularizer: object) -> Tensor:
    """The forecast from the encoder's state: one dense head at every step (`knots` empty), or the sum of one
    head per entry of `knots`, each forecasting that many knots drawn out to the horizon."""
    if not knots:
        return keras.layers.Dense(horizon * n_quantiles, kernel_regularizer=regularizer, name="head")(hidden)
    heads = []
    for k in knots:
        raw = keras.layers.Dense(k * n_quantiles, kernel_regularizer=regularizer, name=f"head_{k}_knots")(hidden)
        heads.append(KnotInterpolation(horizon, k, n_quantiles, name=f"drawn_out_{k}")(raw))
    return heads[0] if len(heads) == 1 else keras.layers.Add(name="head_rates")(heads)
