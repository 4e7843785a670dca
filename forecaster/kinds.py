"""Names for the kinds of value that cross the code's seams, used in annotations.

Keras, TensorFlow, pandas and KerasTuner ship no type information, so mypy reads their values as
unknown whatever the annotation says; these names tell the reader what travels instead of `Any`:

    def call(self, inputs: Tensor) -> Tensor: ...          # a Keras layer
    def compute_output_shape(self, input_shape: Shape) -> Shape: ...
    def write_manifest(directory: Path, extra: JSON) -> None: ...

Nothing here is imported at run time but the names: `forecaster --help` stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

if TYPE_CHECKING:
    import keras
    import pandas as pd
    import tensorflow as tf

Tensor: TypeAlias = "tf.Tensor"
"""A Keras op's input or output: a `tf.Tensor` when eager or traced, a `KerasTensor` while a model is built."""

Shape: TypeAlias = tuple[int | None, ...]
"""A tensor's shape as Keras passes it to `build` and `compute_output_shape`; None where it varies (the batch)."""

JSON: TypeAlias = dict[str, Any]
"""A JSON object as read or written: a run's manifest, metrics.json, a layer's config, a search's summary.
Its values are whatever JSON holds, read by key where they are used."""

Options: TypeAlias = dict[str, Any]
"""Keyword options by name, as a CLI command or an API method takes them (`**options`): values of mixed kinds,
each read by its name where it is used."""

Function = TypeVar("Function", bound=Callable[..., object])
"""What a decorator takes and gives back unchanged in its signature (a click command, an API method)."""

Dataset: TypeAlias = "tf.data.Dataset"
"""A tf.data pipeline of batches, as Keras's `fit` and `predict` take it."""

Inputs: TypeAlias = "dict[str, Tensor]"
"""A batch of the network's inputs by name: values, length, and where the run has them time, series, future, static."""

Network: TypeAlias = "keras.Model"
"""A run's trained Keras network (or one member of its ensemble)."""

Frame: TypeAlias = "pd.DataFrame"
"""A pandas DataFrame, named so where the module that passes it along does not import pandas itself."""

Log: TypeAlias = Callable[[str], None]
"""Where a line for the user goes: the CLI's stderr, the API's logger or the caller's `log=`."""
