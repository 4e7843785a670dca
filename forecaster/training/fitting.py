"""How one network is compiled and fitted, the same for `train` and for every `tune` trial, so the
first trial (the untuned setting) is what `train` would fit: same seed and determinism, optimizer,
loss, early stopping and learning-rate schedule."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from forecaster.config import RunConfig, TrainConfig
from forecaster.models.network import loss_for


@contextmanager
def tensorflow_settings(policy: str | None = None) -> Iterator[None]:
    """The process-wide settings a fit changes, as they were when it ends (however it ends): TensorFlow's op
    determinism (`seeded` turns it on), Keras's mixed-precision policy (`policy`, e.g. "mixed_float16",
    for the duration), and the states of Python's and NumPy's global random generators (`seeded` seeds
    them). TensorFlow's own global seed cannot be read back: it is left as `seeded` set it."""
    import random

    import keras
    import numpy as np
    from tensorflow.python.framework import config as tf_config  # determinism's query and undo are not exported

    deterministic = tf_config.is_op_determinism_enabled()
    before = keras.mixed_precision.global_policy().name
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        if policy is not None:
            keras.mixed_precision.set_global_policy(policy)
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)
        if deterministic != tf_config.is_op_determinism_enabled():
            (tf_config.enable_op_determinism if deterministic else tf_config.disable_op_determinism)()
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def seeded(t: TrainConfig) -> None:
    """Seed Python, NumPy and TensorFlow with `t.seed`, and turn op determinism on if asked (before the
    network is built, so its initial weights follow the seed too)."""
    import keras

    keras.utils.set_random_seed(t.seed)
    if t.deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def compile_network(model: Any, cfg: RunConfig, metrics: tuple[Any, ...] = ()) -> Any:
    """Adam with the run's learning rate and gradient clipping, and the run's loss."""
    import keras

    t = cfg.train
    optimizer = keras.optimizers.Adam(t.learning_rate, clipnorm=t.clipnorm)
    model.compile(optimizer=optimizer, loss=loss_for(cfg.model, t.loss), metrics=list(metrics))
    return model


def fit_callbacks(t: TrainConfig) -> tuple[Any, Any, list[Any]]:
    """Early stopping (best weights restored), the learning rate halved on a plateau, a stop on NaN:
    (early stopping, plateau, all three)."""
    import keras

    early_stopping = keras.callbacks.EarlyStopping(patience=t.patience, restore_best_weights=True)
    plateau = keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=max(1, t.patience // 2))
    return early_stopping, plateau, [early_stopping, plateau, keras.callbacks.TerminateOnNaN()]
