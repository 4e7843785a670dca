"""The GRU encoder (`--cell gru`): fewer gates than the LSTM, often as accurate and faster."""

from __future__ import annotations

import keras

from forecaster.config import ModelConfig
from forecaster.kinds import Tensor
from forecaster.models.encoders._stack import recurrent_stack


def encode(sequence: Tensor, mask: Tensor, cfg: ModelConfig, regularizer: object) -> Tensor:
    return recurrent_stack(keras.layers.GRU, "gru", sequence, mask, cfg, regularizer)
