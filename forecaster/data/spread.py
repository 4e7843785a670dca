"""A window's own spread: what the model's instance norm divides by, what the window loss scale
weights by, and (in numpy, `forecaster.scoring.calibration.window_spreads`) what conformal scores are
measured in. Written once here, in Keras ops, for the model and the training pipeline alike (Keras is
imported on use: the constant is read before TensorFlow loads)."""

from __future__ import annotations

from typing import Any

SPREAD_FLOOR = 1e-3  # the smallest window spread, in series-scaled units: a flat window is not blown up


def masked_mean(target: Any, valid: Any) -> Any:
    """Mean over the valid steps: (batch, lookback) -> (batch, 1)."""
    from keras import ops

    count = ops.maximum(ops.sum(valid, axis=1, keepdims=True), 1.0)
    return ops.sum(target * valid, axis=1, keepdims=True) / count


def window_spread(target: Any, valid: Any) -> Any:
    """Standard deviation over the valid steps, floored at SPREAD_FLOOR: (batch, lookback) -> (batch, 1).

    The training pipeline weights each window's loss by it (`forecaster.data.windowing`), with this same
    function, so the loss is the error on the scale the network sees."""
    from keras import ops

    centred = (target - masked_mean(target, valid)) * valid
    return ops.maximum(ops.sqrt(masked_mean(centred * centred, valid)), SPREAD_FLOOR)
