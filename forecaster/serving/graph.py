"""The serving model: raw values in, forecasts in original units out, with no Python of ours needed.

`serving_model(run)` wraps a run's network in three layers that carry what `forecaster forecast`
does around it: look up the series' scaler by id, scale and window the raw inputs exactly as
training did, and turn the output back into original units. Exported as a SavedModel, it serves
with plain `tf.saved_model.load`, TensorFlow Serving or `saved_model_cli`.

The per-series scaler parameters are baked in, keyed by series id, rather than taken as inputs:
they were fitted on each series' training part, and asking a client to recompute them invites
exactly the mismatch (or leakage) they exist to prevent. The price is that the artifact serves the
series it was trained on; an unknown id fails the call with a message instead of a silent guess.
"""

from __future__ import annotations

from dataclasses import replace

import keras
import numpy as np
from keras import ops

import forecaster.models.layers  # noqa: F401  (registers the network's layers: `import forecaster.serving.graph` loads a keras export)
from forecaster.data.spread import SPREAD_FLOOR
from forecaster.data.static import width as static_width
from forecaster.kinds import JSON, Shape, Tensor
from forecaster.models.layers import valid_steps
from forecaster.models.network import build_model
from forecaster.scoring.floor import FLOOR_BAND, FLOOR_RISE, FLOOR_SHARE
from forecaster.serving.columns import quantile_column
from forecaster.training.runs import Run


@keras.saving.register_keras_serializable(package="forecaster")
class SeriesLookup(keras.layers.Layer):
    """Series ids -> their scaler parameters.

    Args:
        ids: the known series ids.
        centers, scales: (n_series, n_features) affine scaler parameters, in the order of `ids`.

    Call: string (batch,) -> [center float64 (batch, features), scale float64 (batch, features),
        row int32 (batch,), the id's position in `ids` (its row in the series embedding)].
    Fails with InvalidArgumentError when an id is unknown.
    """

    def __init__(self, ids: list[str], centers: np.ndarray, scales: np.ndarray, **kwargs: object):
        super().__init__(**kwargs)
        import tensorflow as tf

        self.ids = list(ids)
        self.centers = np.asarray(centers, dtype="float64")
        self.scales = np.asarray(scales, dtype="float64")
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(self.ids, tf.string), tf.range(len(self.ids), dtype=tf.int64)
            ),
            default_value=-1,
        )

    def call(self, series_id: Tensor) -> Tensor:
        import tensorflow as tf

        index = self.table.lookup(series_id)
        known = tf.debugging.Assert(
            tf.reduce_all(index >= 0),
            [
                "unknown series_id (this model serves only the series in its manifest.json):",
                tf.boolean_mask(series_id, index < 0),
            ],
        )
        with tf.control_dependencies([known]):
            index = tf.maximum(index, 0)
        centers, scales = tf.gather(tf.constant(self.centers), index), tf.gather(tf.constant(self.scales), index)
        return centers, scales, tf.cast(index, tf.int32)

    def compute_output_shape(self, input_shape: Shape) -> tuple[Shape, Shape, Shape]:
        shape = (input_shape[0], self.centers.shape[1])
        return shape, shape, (input_shape[0],)

    def get_config(self) -> JSON:
        return {
            **super().get_config(),
            "ids": self.ids,
            "centers": self.centers.tolist(),
            "scales": self.scales.tolist(),
        }


@keras.saving.register_keras_serializable(package="forecaster")
class ScaleWindow(keras.layers.Layer):
    """Raw right-padded windows -> the network's inputs, exactly as training windowed them.

    The valid length is capped at `lookback` and rounded down to whole patches by dropping the
    oldest points; the padding (whatever the client put there, NaN included) becomes 0.

    Call: [values float32 (batch, lookback, features), length int32 (batch,), center, scale] ->
        [scaled float32 (batch, lookback, features), length int32 (batch,)].
    """

    def __init__(self, lookback: int, patch: int, log: bool = False, **kwargs: object):
        super().__init__(**kwargs)
        self.lookback, self.patch, self.log = lookback, patch, log

    def call(self, inputs: Tensor) -> Tensor:
        import tensorflow as tf

        values, length, center, scale = inputs
        given = tf.cast(length, tf.int32)
        checks = [  # a client's wrong shapes would otherwise be broadcast or cut into a plausible forecast
            tf.debugging.assert_equal(
                tf.shape(values)[1:], tf.stack([self.lookback, tf.shape(center)[1]]),
                message=f"values must be (batch, {self.lookback}, features): {self.lookback} steps, right-padded",
            ),
            tf.debugging.assert_greater_equal(given, 1, message="length must be at least 1: the valid steps of values"),
        ]  # fmt: skip
        with tf.control_dependencies(checks):
            length = tf.clip_by_value(given, 0, self.lookback)
        n_valid = length - length % self.patch
        steps = tf.range(self.lookback)[None, :]
        valid = steps < n_valid[:, None]
        positions = tf.where(valid, steps + (length - n_valid)[:, None], 0)
        window = tf.gather(tf.cast(values, tf.float64), positions, batch_dims=1)
        if self.log:  # the target's logarithm, as `AffineScaler.transform` takes it (padding is zeroed below)
            positive = tf.debugging.Assert(
                tf.reduce_all(~valid | (window[:, :, 0] > 0)),
                ["values must be above zero: this model forecasts the logarithm of the target (--transform log)"],
            )  # where the asserts are dropped (ONNX), the logarithm of such a value makes a NaN forecast
            with tf.control_dependencies([positive]):
                window = tf.concat([tf.math.log(window[:, :, :1]), window[:, :, 1:]], axis=2)
        scaled = (window - center[:, None, :]) / scale[:, None, :]
        scaled = tf.where(valid[:, :, None], scaled, tf.zeros_like(scaled))
        # where the asserts are dropped (ONNX), a length below 1 makes a full window of NaN: a NaN forecast,
        # never a plausible one
        # (the square root of a negative number: plain arithmetic, which every runtime keeps as it is)
        poison = tf.sqrt(tf.minimum(tf.cast(given, scaled.dtype) - 1.0, 0.0))  # 0, or NaN where length < 1
        scaled = scaled + poison[:, None, None]
        return tf.cast(scaled, tf.float32), n_valid + tf.cast(given < 1, tf.int32) * self.lookback

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape[0], input_shape[1]

    def get_config(self) -> JSON:
        return {**super().get_config(), "lookback": self.lookback, "patch": self.patch, "log": self.log}


@keras.saving.register_keras_serializable(package="forecaster")
class SeriesStatic(keras.layers.Layer):
    """A series' row -> its encoded --static covariates, as training encoded them.

    Call: row int32 (batch,) -> float32 (batch, width)."""

    def __init__(self, table: np.ndarray, **kwargs: object):
        super().__init__(**kwargs)
        self.table = np.asarray(table, dtype="float32")

    def call(self, row: Tensor) -> Tensor:
        return ops.take(ops.convert_to_tensor(self.table), ops.cast(row, "int32"), axis=0)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], self.table.shape[1])

    def get_config(self) -> JSON:
        return {**super().get_config(), "table": self.table.tolist()}


@keras.saving.register_keras_serializable(package="forecaster")
class ScaleFuture(keras.layers.Layer):
    """Raw `--future` covariates at the forecast steps -> scaled as training scaled them.

    Call: [future float32 (batch, horizon, n_future), center, scale float64 (batch, features)] ->
        float32 (batch, horizon, n_future): the last n_future features' scaler applied.
    """

    def __init__(self, n_future: int, **kwargs: object):
        super().__init__(**kwargs)
        self.n_future = n_future

    def call(self, inputs: Tensor) -> Tensor:
        import tensorflow as tf

        future, center, scale = inputs
        n = self.n_future
        check = tf.debugging.assert_equal(
            tf.shape(future)[2], n, message=f"future must be (batch, horizon, {n}): one column per --future covariate"
        )
        with tf.control_dependencies([check]):
            future = tf.identity(future)
        scaled = (ops.cast(future, "float64") - center[:, None, -n:]) / scale[:, None, -n:]
        return ops.cast(scaled, "float32")

    def compute_output_shape(self, input_shape: list[Shape]) -> Shape:
        return input_shape[0]

    def get_config(self) -> JSON:
        return {**super().get_config(), "n_future": self.n_future}


@keras.saving.register_keras_serializable(package="forecaster")
class UnscaleForecast(keras.layers.Layer):
    """[forecast float32 (batch, horizon[, quantiles]), center, scale] -> original units (float32); with `log`,
    the exponential of the unscaled values (`AffineScaler.inverse`)."""

    def __init__(self, log: bool = False, **kwargs: object):
        super().__init__(**kwargs)
        self.log = log

    def call(self, inputs: Tensor) -> Tensor:
        forecast, center, scale = inputs
        center, scale = center[:, 0], scale[:, 0]
        while len(center.shape) < len(forecast.shape):
            center, scale = ops.expand_dims(center, -1), ops.expand_dims(scale, -1)
        values = ops.cast(forecast, "float64") * scale + center
        return ops.cast(ops.exp(values) if self.log else values, "float32")

    def get_config(self) -> JSON:
        return {**super().get_config(), "log": self.log}

    def compute_output_shape(self, input_shape: list[Shape]) -> Shape:
        return input_shape[0]


@keras.saving.register_keras_serializable(package="forecaster")
class WindowFloor(keras.layers.Layer):
    """The floor below which a window is never forecast (`forecaster.scoring.floor`), in original units.

    Call: [scaled float64 (batch, lookback, features) as the network sees it (right-padded), length int32
    (batch,) its valid steps, center, scale float64 (batch, features)] -> float64 (batch, 1), -inf where the
    window does not sit on its minimum. With `log` the window is first taken back to the data's units, where
    `forecast` finds the floor.
    """

    def __init__(self, log: bool = False, **kwargs: object):
        super().__init__(**kwargs)
        self.log = log

    def get_config(self) -> JSON:
        return {**super().get_config(), "log": self.log}

    def call(self, inputs: Tensor) -> Tensor:

        scaled, length, center, scale = inputs
        target = ops.cast(scaled[:, :, 0], "float64")
        if self.log:
            target = ops.exp(target * ops.cast(scale[:, :1], "float64") + ops.cast(center[:, :1], "float64"))
            center, scale = ops.zeros_like(center), ops.ones_like(scale)  # the floor is in the data's units already
        steps = ops.shape(target)[1]
        valid = valid_steps(ops.cast(length, "int32"), steps, "float64") > 0
        low = ops.min(ops.where(valid, target, np.inf), axis=1, keepdims=True)
        high = ops.max(ops.where(valid, target, -np.inf), axis=1, keepdims=True)
        near = valid & (target <= low + FLOOR_BAND * (high - low))
        above = valid & (target >= low + FLOOR_RISE * (high - low))
        place = ops.cast(ops.arange(steps), "float64")[None, :]
        first = ops.min(ops.where(near, place, np.inf), axis=1, keepdims=True)
        last = ops.max(ops.where(near, place, -np.inf), axis=1, keepdims=True)
        returns = ops.any(above & (place > first) & (place < last), axis=1, keepdims=True)  # at it, away, back
        count = ops.sum(ops.cast(valid, "float64"), axis=1, keepdims=True)
        share = ops.sum(ops.cast(near, "float64"), axis=1, keepdims=True)
        sits = (count >= 2) & (high > low) & returns & (share >= FLOOR_SHARE * count)
        floor = low * ops.cast(scale[:, :1], "float64") + ops.cast(center[:, :1], "float64")
        return ops.where(sits, floor, -np.inf)

    def compute_output_shape(self, input_shape: list[Shape]) -> Shape:
        return (input_shape[0][0], 1)


@keras.saving.register_keras_serializable(package="forecaster")
class RaiseToFloor(keras.layers.Layer):
    """[values float32 (batch, horizon[, quantiles]), floor float64 (batch, 1)] -> the values, none below it."""

    def call(self, inputs: Tensor) -> Tensor:
        values, floor = inputs
        while len(floor.shape) < len(values.shape):
            floor = ops.expand_dims(floor, -1)
        return ops.cast(ops.maximum(ops.cast(values, "float64"), floor), "float32")

    def compute_output_shape(self, input_shape: list[Shape]) -> Shape:
        return input_shape[0]


@keras.saving.register_keras_serializable(package="forecaster")
class LoggedSpread(keras.layers.Layer):
    """For a run on the logarithm of its target (`--transform log`): [scaled float64 (batch, lookback, features),
    center, scale float64 (batch, features)] -> [the target window in units of `AffineScaler.spread` (batch,
    lookback, 1), that spread (batch, 1)]: what `IntervalBands` multiplies back into the data's units, so its
    spreads are measured on the data's values as `forecast` measures them."""

    def call(self, inputs: Tensor) -> Tensor:
        scaled, center, scale = inputs
        center, scale = ops.cast(center[:, :1], "float64"), ops.cast(scale[:, :1], "float64")
        values = ops.exp(ops.cast(scaled[:, :, :1], "float64") * scale[:, :, None] + center[:, :, None])
        unit = ops.exp(center) * scale
        return [values / unit[:, :, None], unit]

    def compute_output_shape(self, input_shape: list[Shape]) -> list[Shape]:
        return [(*input_shape[0][:2], 1), (input_shape[0][0], 1)]


@keras.saving.register_keras_serializable(package="forecaster")
class IntervalBands(keras.layers.Layer):
    """Conformal bands around the forecast, as `forecaster forecast --level` makes them.

    Args:
        multipliers: per level, (horizon,) half-widths in window spreads, from the run's
            calibration.json; for a quantile run's own central interval, the CQR correction.
        sources: per level, the (lower, upper) quantile columns the band starts from, or (-1, -1)
            for a band around the point forecast.
        spread, season: how the calibration measured spreads (`forecaster.scoring.calibration`).
        factors: each series' difficulty factor, by its row (1 for series with none).

    Call: [forecast float32 (batch, horizon) original units, quantiles float32 (batch, horizon, levels)
        original units (the forecast again for point runs), scaled float32 (batch, lookback, features)
        as the network sees it, length int32 (batch,), scale float64 (batch, features), row int32
        (batch,)] and, for the history spread, history_mae float64 (batch,) original units
        -> [lower, upper] per level, float32 (batch, horizon) each.
    """

    def __init__(
        self,
        multipliers: list[np.ndarray],
        sources: list[tuple[int, int]] | None = None,
        spread: str = "step",
        season: int = 1,
        factors: list[float] | None = None,
        **kwargs: object,
    ):
        super().__init__(**kwargs)
        self.multipliers = [np.asarray(m, dtype="float64") for m in multipliers]
        self.sources = [tuple(int(i) for i in pair) for pair in (sources or [(-1, -1)] * len(multipliers))]
        self.spread, self.season = spread, int(season)
        self.factors = np.asarray(factors if factors else [1.0], dtype="float64")

    def call(self, inputs: Tensor) -> Tensor:

        forecast, quantiles, scaled, length, scale, row, *given = inputs
        floor = SPREAD_FLOOR * ops.abs(scale[:, :1])  # original units, (batch, 1)
        if self.spread == "history":
            spread = ops.maximum(ops.cast(given[0], "float64")[:, None], floor)
        else:
            target = ops.cast(scaled[:, :, 0], "float64")
            spread = ops.maximum(self.window_spread(target, ops.cast(length, "int32")) * ops.abs(scale[:, :1]), floor)
        row = ops.minimum(ops.cast(row, "int32"), len(self.factors) - 1)
        spread = spread * ops.take(ops.convert_to_tensor(self.factors), row)[:, None]
        forecast = ops.cast(forecast, "float64")
        bands: list[Tensor] = []
        for table, (lower_column, upper_column) in zip(self.multipliers, self.sources):
            half = ops.convert_to_tensor(table)[None, :] * spread
            if lower_column < 0:
                lower, upper = forecast - half, forecast + half
            else:  # CQR: the quantile interval moved out (or in) by the correction, holding the forecast
                lower = ops.minimum(ops.cast(quantiles[:, :, lower_column], "float64") - half, forecast)
                upper = ops.maximum(ops.cast(quantiles[:, :, upper_column], "float64") + half, forecast)
            if bands:  # nested by level, as `Calibration.bands` makes them: the levels come in ascending order
                lower, upper = ops.minimum(lower, bands[-2]), ops.maximum(upper, bands[-1])
            bands += [lower, upper]
        return [ops.cast(band, "float32") for band in bands]

    def compute_output_shape(self, input_shape: list[Shape]) -> list[Shape]:
        return [input_shape[0]] * (2 * len(self.multipliers))

    def get_config(self) -> JSON:
        return {
            **super().get_config(),
            "multipliers": [m.tolist() for m in self.multipliers],
            "sources": [list(pair) for pair in self.sources],
            "spread": self.spread,
            "season": self.season,
            "factors": self.factors.tolist(),
        }

    def window_spread(self, target: Tensor, length: Tensor) -> Tensor:
        """(batch, 1) spreads of the valid points of right-padded windows, in scaled units, as
        `forecaster.scoring.calibration.window_spreads` measures them (`spread`: step or seasonal)."""

        def mean_change(lag: int) -> tuple[Tensor, Tensor]:
            pairs = valid_steps(length - lag, ops.shape(target)[1] - lag, "float64")
            change = ops.sum(ops.abs(target[:, lag:] - target[:, :-lag]) * pairs, axis=1, keepdims=True)
            count = ops.sum(pairs, axis=1, keepdims=True)
            return change / ops.maximum(count, 1.0), count

        step = mean_change(1)[0]
        if self.spread == "step" or self.season < 2 or self.season >= target.shape[1]:
            return step
        seasonal, count = mean_change(self.season)
        return ops.where(count > 0, seasonal, step)  # a window that spans no season: its step change


def output_name(level: float) -> str:
    """The output of a quantile level: the forecast CSV's column name with "." as "_" (q_10, q_97_5)."""
    return quantile_column(level).replace(".", "_")


def serving_model(run: Run, scaler_inputs: bool = False, levels: tuple[float, ...] = ()) -> keras.Model:
    """The run's network, rebuilt with the generic LSTM kernel, between raw-unit inputs and outputs.

    Inputs: series_id string (batch,); values float32 (batch, lookback, features), raw, right-padded;
    length int32 (batch,); with calendar features, time int64 (batch,), the Unix seconds (wall clock)
    of the last valid row of `values`; with `--future` covariates, future float32 (batch, horizon,
    n_future), their raw known values at the forecast steps. Outputs: {"forecast": (batch, horizon)}
    plus one (batch, horizon) output per quantile level ("q_10", ...) for quantile runs; "forecast" is
    then the median.

    With `scaler_inputs`, `series_id` is replaced by `center` and `scale` float64 (batch, features),
    the series' scaler parameters (and, with a series embedding, `series` int32 (batch,), its row),
    for runtimes without string lookup tables (ONNX).

    With `levels`, also outputs `lo_80`, `hi_80`, ... (float32 (batch, horizon)): the conformal bands
    of the run's calibration.json (one table pooled over the series, each series' difficulty factor:
    with `scaler_inputs` the `series` row is then an input). Bands that scale with the series' history
    (the `history` spread) take it as `history_mae` float64 (batch,): seasonal naive's in-sample mean
    absolute error over the series' whole history before the origin (`history_spreads`).
    """

    cfg = run.config
    network = build_model(replace(cfg.model, use_cudnn=False))
    network.set_weights(run.load_model().get_weights())

    values = keras.Input((cfg.window.lookback, cfg.model.n_features), name="values")
    length = keras.Input((), dtype="int32", name="length")
    inputs: dict[str, Tensor] = {"values": values, "length": length}
    if scaler_inputs:
        center = inputs["center"] = keras.Input((cfg.model.n_features,), dtype="float64", name="center")
        scale = inputs["scale"] = keras.Input((cfg.model.n_features,), dtype="float64", name="scale")
        row = inputs["series"] = keras.Input((), dtype="int32", name="series")
    else:
        ids = list(run.series)
        centers = np.stack([run.series[sid].scaler.center for sid in ids])
        scales = np.stack([run.series[sid].scaler.scale for sid in ids])
        series_id = inputs["series_id"] = keras.Input((), dtype="string", name="series_id")
        center, scale, row = SeriesLookup(ids, centers, scales, name="series_scaler", dtype="float64")(series_id)
    log = cfg.window.transform == "log"
    scaled, n_valid = ScaleWindow(cfg.window.lookback, cfg.window.patch, log, name="scale_window", dtype="float64")(
        [values, length, center, scale]
    )
    network_inputs = {"values": scaled, "length": n_valid}
    if cfg.model.calendar:
        network_inputs["time"] = inputs["time"] = keras.Input((), dtype="int64", name="time")
    if cfg.model.n_future:
        known = inputs["future"] = keras.Input((cfg.window.horizon, cfg.model.n_future), name="future")
        network_inputs["future"] = ScaleFuture(cfg.model.n_future, name="scale_future", dtype="float64")(
            [known, center, scale]
        )
    if cfg.model.static_encoding:
        width = static_width(cfg.model.static_encoding)
        if scaler_inputs:
            network_inputs["static"] = inputs["static"] = keras.Input((width,), name="static")
        else:
            table = np.array([run.series[sid].static for sid in run.series], dtype="float32").reshape(-1, width)
            network_inputs["static"] = SeriesStatic(table, name="series_static")(row)
    if cfg.model.series_embedding:
        network_inputs["series"] = row
    elif scaler_inputs:
        del inputs["series"]
    forecast = UnscaleForecast(log, name="unscale", dtype="float64")([network(network_inputs), center, scale])
    floor = None
    if cfg.model.floor:  # as `forecast` serves it: never below the floor the window sits on
        floor = WindowFloor(log, name="window_floor", dtype="float64")([scaled, n_valid, center, scale])
        forecast = RaiseToFloor(name="floored", dtype="float64")([forecast, floor])
    quantiles = cfg.model.quantiles
    horizon = (cfg.window.horizon,)
    if not quantiles:
        outputs = {"forecast": keras.layers.Reshape(horizon, name="forecast")(forecast)}
    else:
        outputs = {"forecast": keras.layers.Reshape(horizon, name="forecast")(forecast[:, :, len(quantiles) // 2])}
        for i, level in enumerate(quantiles):
            name = output_name(level)
            outputs[name] = keras.layers.Reshape(horizon, name=name)(forecast[:, :, i])
    if levels:
        levels = tuple(sorted(levels))  # ascending: IntervalBands nests each band around the one before
        calibration = run.calibration()
        tables, sources = [], []
        for level in levels:
            lower, upper, correction = calibration.plan(level, quantiles)
            if correction is not None:
                tables.append(correction)
            else:
                tables.append(calibration.multiplier(level))
            sources.append((lower, upper))
        factors = [calibration.factors.get(sid, 1.0) for sid in run.series]
        given = []
        if calibration.spread == "history":
            given = [inputs.setdefault("history_mae", keras.Input((), dtype="float64", name="history_mae"))]
        if scaler_inputs:
            inputs["series"] = row  # the factors are looked up by the series' row
        spread_window, spread_scale = scaled, scale  # the band's spreads in original units: these x |scale|
        if log:
            spread_window, spread_scale = LoggedSpread(name="logged_spread", dtype="float64")([scaled, center, scale])
        bands = IntervalBands(
            tables, sources, calibration.spread, calibration.season, factors, name="interval_bands", dtype="float64"
        )([outputs["forecast"], forecast, spread_window, n_valid, spread_scale, row, *given])
        for k, level in enumerate(levels):
            for side, band in zip(("lo", "hi"), bands[2 * k : 2 * k + 2]):
                name = f"{side}_{level:g}".replace(".", "_")
                if side == "lo" and floor is not None:
                    band = RaiseToFloor(name=f"{name}_floored", dtype="float64")([band, floor])
                outputs[name] = keras.layers.Identity(name=name)(band)
    return keras.Model(inputs, outputs, name="serving")
