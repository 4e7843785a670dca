"""A causal convolution encoder (`--cell conv`): each layer sees a step and the two before it."""

from __future__ import annotations

from typing import Any

import keras


def encode(sequence: Any, mask: Any, cfg: Any, regularizer: Any) -> Any:
    hidden = sequence
    for depth, units in enumerate(cfg.layers):  # causal: a real step never sees the right padding after it
        hidden = keras.layers.Conv1D(
            units, 3, padding="causal", activation="relu", kernel_regularizer=regularizer, name=f"conv_{depth}"
        )(hidden)
    if cfg.pooling == "attention":  # attention pooling reads every step itself
        return hidden
    return keras.layers.GlobalAveragePooling1D(name="conv_mean")(hidden, mask=mask)  # real steps only
