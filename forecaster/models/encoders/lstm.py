"""The LSTM encoder (the default `--cell`)."""

from __future__ import annotations

from typing import Any

import keras

from forecaster.models.encoders._stack import recurrent_stack


def encode(sequence: Any, mask: Any, cfg: Any, regularizer: Any) -> Any:
    return recurrent_stack(keras.layers.LSTM, "lstm", sequence, mask, cfg, regularizer)
