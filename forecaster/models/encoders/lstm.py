"""The LSTM encoder (the default `--cell`)."""

from __future__ import annotations

import keras

from forecaster.config import ModelConfig
from forecaster.kinds import Tensor
from forecaster.models.encoders._stack import recurrent_stack


def encode(sequence: Tensor, mask: Tensor, cfg: ModelConfig, regularizer: object) -> Tensor:
    return recurrent_stack(keras.layers.LSTM, "lstm", sequence, mask, cfg, regularizer)
