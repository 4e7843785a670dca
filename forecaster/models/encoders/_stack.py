"""What the recurrent encoders share: a stack of recurrent layers (optionally bidirectional, with
dropout between), masked, keeping the cuDNN conditions (tanh/sigmoid, no recurrent dropout, no
unroll, bias on) so a GPU runs the fast kernel."""

from __future__ import annotations

import keras

from forecaster.config import ModelConfig
from forecaster.kinds import Tensor


def recurrent_stack(
    layer: type, prefix: str, sequence: Tensor, mask: Tensor, cfg: ModelConfig, regularizer: object
) -> Tensor:
    """`cfg.layers` recurrent layers of class `layer`; the last returns its final state, unless attention
    pooling reads every step."""
    hidden = sequence
    for depth, units in enumerate(cfg.layers):
        keep_sequence = depth < len(cfg.layers) - 1 or cfg.pooling == "attention"
        recurrent = layer(
            units,
            return_sequences=keep_sequence,
            kernel_regularizer=regularizer,
            use_cudnn=cfg.use_cudnn,
            name=f"{prefix}_{depth}",
        )
        if cfg.bidirectional:
            recurrent = keras.layers.Bidirectional(recurrent, name=f"bi_{prefix}_{depth}")
        hidden = recurrent(hidden, mask=mask)
        if cfg.dropout:
            hidden = keras.layers.Dropout(cfg.dropout, name=f"dropout_{depth}")(hidden)
    return hidden
