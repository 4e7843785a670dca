"""Chronological splits and lazy (lookback -> horizon) windows over many series of different lengths.

A window is named by (series index, origin): its inputs are the up-to-`lookback` points before
`origin`, its targets the `horizon` points from `origin` on. Windows are gathered batch by batch
from one flat array of all series, so no `lookback` copies of the data ever exist. A window with
fewer than `lookback` points is right-padded (zeros) and its valid length is passed to the model,
which masks the padding; with patches, the valid length is rounded down to whole patches by
dropping the oldest points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from forecaster.config import WindowConfig


@dataclass(frozen=True)
class SeriesSplit:
    """Where one series is cut: training targets in [0, n_train), validation targets in
    [n_train, n_fit), and the last `length - n_fit` points held out for `evaluate`."""

    length: int
    n_train: int
    n_fit: int


def split_series(length: int, cfg: WindowConfig) -> SeriesSplit | None:
    """Cut a series chronologically; None when it is too short for one training and one validation window."""
    n_fit = length - cfg.holdout
    n_val = max(cfg.horizon, math.ceil(cfg.val_fraction * n_fit))
    n_train = n_fit - n_val
    if n_train < cfg.min_context + cfg.horizon:
        return None
    return SeriesSplit(length=length, n_train=n_train, n_fit=n_fit)


def min_length(cfg: WindowConfig) -> int:
    """The shortest series that `split_series` accepts."""
    n = cfg.min_context + 2 * cfg.horizon + cfg.holdout
    while split_series(n, cfg) is None:
        n += 1
    return n


def train_origins(split: SeriesSplit, cfg: WindowConfig) -> np.ndarray:
    """Origins whose targets lie wholly in the training part."""
    return np.arange(cfg.min_context, split.n_train - cfg.horizon + 1)


def val_origins(split: SeriesSplit, cfg: WindowConfig) -> np.ndarray:
    """Origins whose targets lie wholly in the validation part (never overlapping training targets)."""
    return np.arange(split.n_train, split.n_fit - cfg.horizon + 1)


def valid_lengths(origins: np.ndarray, lookback: int, patch: int = 1) -> np.ndarray:
    """How many real points each window holds: min(origin, lookback), rounded down to whole patches."""
    n_valid = np.minimum(origins, lookback)
    return n_valid - n_valid % patch


def evenly_spaced(count: int, limit: int) -> np.ndarray:
    """At most `limit` indices spread evenly over range(count) (deterministic subsampling)."""
    if count <= limit:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, limit).round().astype("int64"))


MATERIALISE_BYTES = 256 * 2**20  # training windows up to this size are gathered once, not every epoch


class WindowSource:
    """All series, scaled and concatenated, with a tf.data view of any set of windows.

    Args:
        scaled: one float array (length_i, features) per series; column 0 is the target.
        lookback, horizon, patch: window shape, as in `WindowConfig`.
        times: optional int64 Unix seconds per point of each series; windows then carry "time",
            the time of their last valid point (for calendar features).
        codes: optional int per series, its row in the model's series embedding; windows then
            carry "series".
    """

    def __init__(
        self,
        scaled: list[np.ndarray],
        lookback: int,
        horizon: int,
        patch: int = 1,
        *,
        times: list[np.ndarray] | None = None,
        codes: np.ndarray | None = None,
    ):
        self.lookback, self.horizon, self.patch = lookback, horizon, patch
        self.lengths = np.array([len(s) for s in scaled], dtype="int64")
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype("int64")
        self.flat = np.concatenate(scaled).astype("float32")
        self.flat_time = None if times is None else np.concatenate(times).astype("int64")
        self.codes = None if codes is None else np.asarray(codes, dtype="int32")

    def gather_fn(self, with_target: bool) -> Any:
        """A tf function mapping a batch (series_idx (B,), origin (B,)) to model inputs (and targets)."""
        import tensorflow as tf

        flat = tf.constant(self.flat)
        offsets = tf.constant(self.offsets)
        steps = tf.range(self.lookback, dtype=tf.int64)
        ahead = tf.range(self.horizon, dtype=tf.int64)
        lookback, patch = self.lookback, self.patch
        flat_time = None if self.flat_time is None else tf.constant(self.flat_time)
        codes = None if self.codes is None else tf.constant(self.codes)

        def gather(series_idx: Any, origin: Any) -> Any:
            n_valid = tf.minimum(origin, lookback)
            n_valid = n_valid - n_valid % patch
            base = tf.gather(offsets, series_idx) + origin
            valid = steps[None, :] < n_valid[:, None]
            positions = base[:, None] - n_valid[:, None] + tf.where(valid, steps[None, :], 0)
            values = tf.gather(flat, positions) * tf.cast(valid, tf.float32)[:, :, None]
            inputs = {"values": values, "length": tf.cast(n_valid, tf.int32)}
            if flat_time is not None:
                inputs["time"] = tf.gather(flat_time, base - 1)
            if codes is not None:
                inputs["series"] = tf.gather(codes, series_idx)
            if not with_target:
                return inputs
            targets = tf.gather(flat[:, 0], base[:, None] + ahead[None, :])
            return inputs, targets

        return gather

    def dataset(
        self,
        series_idx: np.ndarray,
        origins: np.ndarray,
        batch_size: int,
        *,
        with_target: bool = True,
        shuffle_seed: int | None = None,
        sample_per_epoch: int | None = None,
    ) -> Any:
        """Batches of windows; shuffled each epoch with `shuffle_seed`, or, when there are more than
        `sample_per_epoch` windows, an endless stream sampled with replacement (fit with steps_per_epoch)."""
        import tensorflow as tf

        gather = self.gather_fn(with_target)
        count = len(origins)
        if shuffle_seed is not None and sample_per_epoch is not None and count > sample_per_epoch:
            # millions of windows: keep their index as int32 tables and sample batches from them
            table_s = tf.constant(np.asarray(series_idx, dtype="int32"))
            table_o = tf.constant(np.asarray(origins, dtype="int32"))
            pick = lambda table, ids: tf.cast(tf.gather(table, ids), tf.int64)  # noqa: E731
            ds = (
                tf.data.Dataset.random(seed=shuffle_seed)
                .map(lambda r: r % count)
                .batch(batch_size)
                .map(lambda ids: gather(pick(table_s, ids), pick(table_o, ids)))
            )
            return ds.prefetch(tf.data.AUTOTUNE)
        series_idx = np.asarray(series_idx, dtype="int64")
        origins = np.asarray(origins, dtype="int64")
        if shuffle_seed is not None and count * self.window_bytes() <= MATERIALISE_BYTES:
            # few enough to hold: gather every window once, then each epoch only shuffles indices
            # and slices batches (benchmarks/pipeline.py: 0.73x the in-memory speed before, 1.07x after)
            windows = gather(tf.constant(series_idx), tf.constant(origins))
            ds = tf.data.Dataset.range(count).shuffle(count, seed=shuffle_seed, reshuffle_each_iteration=True)
            rows = lambda ids: tf.nest.map_structure(lambda t: tf.gather(t, ids), windows)  # noqa: E731
            return ds.batch(batch_size).map(rows, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
        ds = tf.data.Dataset.from_tensor_slices((series_idx, origins))
        if shuffle_seed is not None:
            ds = ds.shuffle(count, seed=shuffle_seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE)
        return ds.prefetch(tf.data.AUTOTUNE)

    def window_bytes(self) -> int:
        """Bytes of one gathered window (inputs and targets, float32)."""
        return 4 * (self.lookback * self.flat.shape[1] + self.horizon) + 4 + 8 + 4
