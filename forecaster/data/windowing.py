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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeAlias, cast

import numpy as np

from forecaster.config import WindowConfig
from forecaster.data.spread import masked_mean, window_spread
from forecaster.kinds import Dataset, Inputs, Tensor

Batch: TypeAlias = "Inputs | tuple[Inputs, Tensor] | tuple[Inputs, Tensor, Tensor]"
"""A batch of windows: the network's inputs, and for training their targets (and weights, with --weight-power)."""


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


def train_origins(split: SeriesSplit, cfg: WindowConfig) -> range:
    """Origins whose targets lie wholly in the training part (a range: no array per series)."""
    return range(cfg.min_context, split.n_train - cfg.horizon + 1)


def val_origins(split: SeriesSplit, cfg: WindowConfig) -> range:
    """Origins whose targets lie wholly in the validation part (never overlapping training targets)."""
    return range(split.n_train, split.n_fit - cfg.horizon + 1)


def fit_origins(split: SeriesSplit, cfg: WindowConfig) -> range:
    """Origins whose targets lie wholly before the holdout: the training and validation windows and those
    between them (the final epochs' windows, once validation has been scored)."""
    return range(cfg.min_context, split.n_fit - cfg.horizon + 1)


def valid_lengths(origins: np.ndarray, lookback: int, patch: int = 1) -> np.ndarray:
    """How many real points each window holds: min(origin, lookback), rounded down to whole patches."""
    n_valid = np.minimum(origins, lookback)
    return n_valid - n_valid % patch


def evenly_spaced(count: int, limit: int) -> np.ndarray:
    """At most `limit` indices spread evenly over range(count) (deterministic subsampling)."""
    if count <= limit:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, limit).round().astype("int64"))


@dataclass(frozen=True)
class WindowIndex:
    """A set of windows as runs of consecutive origins, one run per series: a window per origin in
    [first, first + count) of series `series`. Millions of windows cost three short arrays; the k-th
    window (`take`) counts in run order, then origin order."""

    series: np.ndarray  # int64, the series' index in the WindowSource
    first: np.ndarray  # int64, the run's first origin
    count: np.ndarray  # int64, the run's number of windows

    @classmethod
    def from_runs(cls, runs: Sequence[tuple[int, range | np.ndarray]]) -> WindowIndex:
        """From (series, consecutive origins) pairs; empty runs are left out."""
        kept = [(s, o) for s, o in runs if len(o)]
        arrays = ([s for s, _ in kept], [o[0] for _, o in kept], [len(o) for _, o in kept])
        return cls(*(np.asarray(a, dtype="int64") for a in arrays))

    def __len__(self) -> int:
        return int(self.count.sum())

    def take(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(series, origin) of the windows at these positions."""
        positions = np.asarray(positions, dtype="int64")
        ends = np.cumsum(self.count)
        run = np.searchsorted(ends, positions, side="right")
        return self.series[run], self.first[run] + positions - (ends[run] - self.count[run])

    def latest(self, count: int) -> WindowIndex:
        """The last `count` windows of each series (every window of a series that has fewer)."""
        kept = np.minimum(self.count, count)
        return WindowIndex(self.series, self.first + self.count - kept, kept)

    def windows(self) -> tuple[np.ndarray, np.ndarray]:
        """(series, origin) of every window."""
        return self.take(np.arange(len(self)))


FORWARD_BATCH = 1024  # windows a step where the network only forecasts them (each epoch's validation pass, the
# validation report): the batch does not change a forward pass's numbers, only its time; on M4 Hourly's 20,000
# validation windows 1.0-1.3 s against 1.6-2.6 s in batches of 128 (2 cores)
MATERIALISE_BYTES = 256 * 2**20  # training windows up to this size are gathered once, not every epoch


def _stacked(parts: Iterable[np.ndarray], rows: int, dtype: str) -> np.ndarray:
    """The parts one after another in one array allocated once. Taking them one at a time (from a
    generator) means 10,000 per-series arrays never exist together; they would also fragment the heap."""
    out: np.ndarray | None = None
    at = 0
    for part in parts:
        if out is None:
            out = np.empty((rows, *np.shape(part)[1:]), dtype=dtype)
        out[at : at + len(part)] = part
        at += len(part)
    assert out is not None and at == rows, "the series' lengths do not add up"
    return out


@dataclass(frozen=True)
class Carried:
    """What windows carry besides their values, each optional: `times`, int64 Unix seconds per point of each
    series (windows carry "time", the time of their last valid point, for calendar features); `codes`, an int
    per series, its row in the model's series embedding ("series"); `statics`, float32 (n_series, width), each
    series' encoded static covariates (`forecaster.data.static`; "static")."""

    times: Iterable[np.ndarray] | None = None
    codes: np.ndarray | None = None
    statics: np.ndarray | None = None


@dataclass(frozen=True)
class Weighing:
    """How training windows weigh in the loss: `power` 0 (all alike), or 1 or 2: each window's weight is then
    1 / spread ** power, the spread being the standard deviation of its valid target inputs
    (`forecaster.data.spread.window_spread`). With power 1 for an absolute loss (2 for a squared one) every
    window's error counts on its own scale, as scale-free metrics (MASE, sMAPE) count it, instead of series
    with large swings dominating. `levels`, (series, 2) each series' scaler (center, scale) of its target:
    the weight's denominator is then the window's level, its mean absolute value in the data's own units
    over the series' scale, or its spread where that is larger (a window around zero), so errors count
    relative to the level, as sMAPE counts them (`--loss-scale level`)."""

    power: int = 0
    levels: np.ndarray | None = None


class WindowSource:
    """All series, scaled and concatenated, with a tf.data view of any set of windows.

    Args:
        scaled: one float array (length_i, features) per series; column 0 is the target. May be a
            generator when `lengths` gives the series' lengths: the arrays are then copied in one by one.
        lookback, horizon, patch: window shape, as in `WindowConfig`.
        carried: what each window carries besides its values (`Carried`).
        n_future: the last n_future columns are known over the horizon (`--future`): windows then
            carry "future", their values at the `horizon` steps from the origin (so a forecast window's
            series must hold those rows: `forecaster.serving.windows.predict_at` appends them).
        weighing: how training windows weigh in the loss (`Weighing`; by default all alike).
    """

    def __init__(
        self,
        scaled: Iterable[np.ndarray],
        lookback: int,
        horizon: int,
        patch: int = 1,
        *,
        lengths: Sequence[int] | None = None,
        carried: Carried | None = None,
        weighing: Weighing = Weighing(),
        n_future: int = 0,
    ):
        self.lookback, self.horizon, self.patch = lookback, horizon, patch
        self.n_future = n_future
        self.weighing = weighing
        if lengths is None:
            scaled = list(scaled)
            lengths = [len(s) for s in scaled]
        self.lengths = np.asarray(lengths, dtype="int64")
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype("int64")
        self.flat: np.ndarray | None = _stacked(scaled, int(self.lengths.sum()), "float32")
        self.n_features = self.flat.shape[1]
        times, codes, statics = (carried.times, carried.codes, carried.statics) if carried else (None, None, None)
        self.flat_time = None if times is None else _stacked(times, len(self.flat), "int64")
        self.codes = None if codes is None else np.asarray(codes, dtype="int32")
        self.statics = None if statics is None else np.asarray(statics, dtype="float32")
        self._made: tuple[Tensor, Tensor, Tensor | None, Tensor | None] | None = None

    def gather_fn(self, with_target: bool) -> Callable[[Tensor, Tensor], Batch]:
        """A tf function mapping a batch (series_idx (B,), origin (B,)) to model inputs (and targets)."""
        import tensorflow as tf

        flat, offsets, flat_time, codes = self._tensors()
        statics = None if self.statics is None else tf.constant(self.statics)
        steps = tf.range(self.lookback, dtype=tf.int64)
        ahead = tf.range(self.horizon, dtype=tf.int64)
        lookback, patch, weight_power, n_future = self.lookback, self.patch, self.weighing.power, self.n_future
        levels = None if self.weighing.levels is None else tf.constant(self.weighing.levels, dtype=tf.float32)

        def gather(series_idx: Tensor, origin: Tensor) -> Batch:
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
            if n_future:
                inputs["future"] = tf.gather(flat, base[:, None] + ahead[None, :])[:, :, -n_future:]
            if statics is not None:
                inputs["static"] = tf.gather(statics, series_idx)
            if not with_target:
                return inputs
            targets = tf.gather(flat, base[:, None] + ahead[None, :])[:, :, 0]  # not flat[:, 0]: a copy per batch
            if not weight_power:
                return inputs, targets

            mask = tf.cast(valid, tf.float32)
            measure = window_spread(values[:, :, 0], mask)[:, 0]  # what the window's error is counted in
            if levels is not None:  # with --transform log, the level of the logarithm (as chosen on M4 Hourly)
                center, scale = tf.unstack(tf.gather(levels, series_idx), axis=1)
                level = masked_mean(tf.abs(values[:, :, 0] * scale[:, None] + center[:, None]), mask)[:, 0] / scale
                measure = tf.maximum(level, measure)
            return inputs, targets, measure ** (-weight_power)

        return gather

    def _tensors(self) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        """The arrays as tensors, made once for every dataset of this source; the numpy copy of the
        data is then dropped, so the data exists once (in TensorFlow) while training."""
        import tensorflow as tf

        if self._made is None:
            as_tensor = lambda array: None if array is None else tf.constant(array)  # noqa: E731
            self._made = as_tensor(self.flat), as_tensor(self.offsets), as_tensor(self.flat_time), as_tensor(self.codes)
            self.flat = self.flat_time = None
        return self._made

    def dataset(
        self, series_idx: np.ndarray, origins: np.ndarray, batch_size: int, *, with_target: bool = True
    ) -> Dataset:
        """The given windows, in order, in batches."""
        import tensorflow as tf

        windows = (np.asarray(series_idx, dtype="int64"), np.asarray(origins, dtype="int64"))
        ds = tf.data.Dataset.from_tensor_slices(windows).batch(batch_size)
        return ds.map(self.gather_fn(with_target), num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    def batches(self, series_idx: np.ndarray, origins: np.ndarray, batch_size: int) -> Iterator[Inputs]:
        """The given windows' model inputs, in order, `batch_size` at a time, gathered eagerly: for
        forecasting, where a tf.data pipeline (one traced map per call) costs more than the windows."""
        gather = self.gather_fn(with_target=False)
        series_idx, origins = np.asarray(series_idx, dtype="int64"), np.asarray(origins, dtype="int64")
        for start in range(0, len(series_idx), batch_size):
            yield cast(Inputs, gather(series_idx[start : start + batch_size], origins[start : start + batch_size]))

    def training_dataset(self, index: WindowIndex, batch_size: int, seed: int, sample_per_epoch: int) -> Dataset:
        """Batches of windows shuffled each epoch with `seed`; when there are more than
        `sample_per_epoch` windows, an endless stream sampled with replacement (fit with steps_per_epoch)."""
        import tensorflow as tf

        gather = self.gather_fn(with_target=True)
        count = len(index)
        if count > sample_per_epoch:
            # millions of windows: draw positions and find their series in the per-series runs, so
            # no table of every window exists (position k is the k-th window in series order)
            ends = np.cumsum(index.count)
            run_end, run_start = tf.constant(ends), tf.constant(ends - index.count)
            series, first = tf.constant(index.series), tf.constant(index.first)

            def locate(position: Tensor) -> Batch:
                run = tf.searchsorted(run_end, position, side="right")
                return gather(tf.gather(series, run), tf.gather(first, run) + position - tf.gather(run_start, run))

            ds = tf.data.Dataset.random(seed=seed).map(lambda r: r % count).batch(batch_size).map(locate)
            return ds.prefetch(tf.data.AUTOTUNE)
        series_idx, origins = (tf.constant(a) for a in index.windows())
        order = tf.data.Dataset.range(count).shuffle(count, seed=seed, reshuffle_each_iteration=True)
        if count * self.window_bytes() <= MATERIALISE_BYTES:
            # few enough to hold: gather every window once, then each epoch only shuffles indices
            # and slices batches (benchmarks/pipeline.py: 0.73x the in-memory speed before, 1.07x after)
            windows = gather(series_idx, origins)
            rows = lambda ids: tf.nest.map_structure(lambda t: tf.gather(t, ids), windows)  # noqa: E731
            return order.batch(batch_size).map(rows, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
        pick = lambda ids: gather(tf.gather(series_idx, ids), tf.gather(origins, ids))  # noqa: E731
        return order.batch(batch_size).map(pick, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    def window_bytes(self) -> int:
        """Bytes of one gathered window (inputs and targets, float32)."""
        return 4 * (self.lookback * self.n_features + self.horizon * (1 + self.n_future)) + 4 + 8 + 4
