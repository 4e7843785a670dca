"""Encoders: each module here turns the patched input sequence into the state the head reads, by one
function `encode(sequence, mask, cfg, regularizer)`. Adding an encoder is adding a module: its file
name is its `--cell` choice (`forecaster.config.CELLS` lists this folder; a leading _ keeps a module
out), and `encoder(name)` finds it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from forecaster.config import CELLS, ModelConfig
from forecaster.kinds import Tensor

Encoder = Callable[[Tensor, Tensor, ModelConfig, object], Tensor]
"""(sequence, mask, the model's settings, a Keras weight regularizer or None) -> (batch, units), or the
sequence of states when attention pooling reads every step."""


def encoder(name: str) -> Encoder:
    """The `encode` function of the encoder module `name` (one of `forecaster.config.CELLS`)."""

    if name not in CELLS:
        raise ValueError(f"unknown encoder {name!r}; known: {', '.join(CELLS)}")
    encode: Encoder = importlib.import_module(f"{__name__}.{name}").encode
    return encode
