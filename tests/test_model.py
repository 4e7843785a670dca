from pathlib import Path

import keras
import numpy as np
import pytest

from forecaster.config import CELLS, ModelConfig
from forecaster.models.layers import AttentionPooling, InstanceNorm, LengthMask, MonotoneQuantiles
from forecaster.models.network import build_model


def _inputs(values, length):
    return {"values": np.asarray(values, dtype="float32")[:, :, None], "length": np.asarray(length, dtype="int32")}


def _predict(model, values, length):
    return model.predict(_inputs(values, length), verbose=0)


@pytest.mark.parametrize("bidirectional,cell", [(False, cell) for cell in CELLS] + [(True, "lstm")])  # every encoder
def test_padded_short_series_equals_the_same_series_unpadded(bidirectional, cell):
    """A series of 7 points right-padded to 12 gives the forecast of a lookback-7 model with the same weights."""
    kwargs = dict(horizon=3, layers=(8, 8), linear_skip=False, bidirectional=bidirectional, cell=cell)
    long_model = build_model(ModelConfig(lookback=12, **kwargs))
    short_model = build_model(ModelConfig(lookback=7, **kwargs))
    short_model.set_weights(long_model.get_weights())
    series = np.linspace(-1, 1, 7)
    padded = np.concatenate([series, np.zeros(5)])
    np.testing.assert_allclose(
        _predict(long_model, [padded], [7]), _predict(short_model, [series], [7]), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("kwargs", [{}, {"patch": 4}, {"pooling": "attention"}, {"instance_norm": "mean"}])
def test_padding_content_never_reaches_the_forecast(kwargs):
    model = build_model(ModelConfig(lookback=12, horizon=3, layers=(8,), **kwargs))
    series = np.linspace(-1, 1, 8)
    zeros = np.concatenate([series, np.zeros(4)])
    junk = np.concatenate([series, np.full(4, 123.0)])
    np.testing.assert_allclose(_predict(model, [zeros], [8]), _predict(model, [junk], [8]), rtol=1e-5, atol=1e-6)


def test_a_real_zero_is_not_masked():
    """The mask comes from the length, not from the values: a real 0.0 is data."""
    model = build_model(ModelConfig(lookback=6, horizon=2, layers=(8,), linear_skip=False, instance_norm="none"))
    with_zero = [[0.5, 0.0, 0.0, 0.7, 0.0, 0.2]]
    with_one = [[0.5, 1.0, 1.0, 0.7, 1.0, 0.2]]
    assert not np.allclose(_predict(model, with_zero, [6]), _predict(model, with_one, [6]))
    mask = LengthMask(6)(np.array([6, 3], dtype="int32"))
    np.testing.assert_array_equal(np.asarray(mask), [[True] * 6, [True] * 3 + [False] * 3])


def test_keras_save_and_load_give_identical_predictions(tmp_path):
    cfg = ModelConfig(lookback=8, horizon=2, layers=(8,), pooling="attention", quantiles=(0.1, 0.5, 0.9), patch=2)
    model = build_model(cfg)
    batch = _inputs(np.random.default_rng(0).normal(size=(4, 8)), [8, 5, 2, 8])
    before = model.predict(batch, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded.predict(batch, verbose=0), before)


def test_quantiles_never_cross():
    raw = np.random.default_rng(0).normal(scale=5, size=(16, 4 * 5)).astype("float32")
    quantiles = np.asarray(MonotoneQuantiles(5)(raw))
    assert quantiles.shape == (16, 4, 5)
    assert (np.diff(quantiles, axis=-1) >= 0).all()


@pytest.mark.parametrize("layer", [LengthMask(5, 2), InstanceNorm("mean"), AttentionPooling(7), MonotoneQuantiles(3)])
def test_custom_layer_config_round_trip(layer):
    again = type(layer).from_config(layer.get_config())
    assert again.get_config() == layer.get_config()


def test_recurrent_layers_stay_cudnn_eligible():
    model = build_model(ModelConfig(lookback=8, horizon=2, layers=(8, 8), bidirectional=True, dropout=0.1))
    for layer in model.layers:
        cell_layer = getattr(layer, "forward_layer", layer)
        if isinstance(cell_layer, keras.layers.LSTM):
            assert cell_layer.cell.activation is keras.activations.tanh
            assert cell_layer.cell.recurrent_activation is keras.activations.sigmoid
            assert cell_layer.cell.recurrent_dropout == 0 and not cell_layer.unroll and cell_layer.cell.use_bias


@pytest.mark.parametrize("mode", ["last", "mean", "last_std", "mean_std", "none"])
def test_instance_norm_is_undone_exactly_and_ignores_padding(mode):
    from forecaster.models.layers import AddReference

    values = np.array([[[1.0], [3.0], [8.0], [0.0]], [[5.0], [5.0], [-7.0], [2.0]]], dtype="float32")
    length = np.array([3, 4], dtype="int32")
    normed, reference, spread = InstanceNorm(mode)([values, length])
    restored = np.asarray(AddReference()([np.asarray(normed)[:, :, 0], reference, spread]))
    np.testing.assert_allclose(restored[0, :3], [1, 3, 8], rtol=1e-5)
    np.testing.assert_allclose(restored[1], [5, 5, -7, 2], rtol=1e-5)
    assert np.asarray(normed)[0, 3, 0] == 0  # padding stays 0
    if mode.endswith("_std"):
        np.testing.assert_allclose(np.asarray(spread)[:, 0], [np.std([1, 3, 8]), np.std([5, 5, -7, 2])], rtol=1e-5)


def test_ensemble_forecast_is_the_median_of_its_members_and_round_trips(tmp_path):
    cfg = ModelConfig(lookback=8, horizon=3, layers=(4,), ensemble=3)
    model = build_model(cfg)
    inputs = {"values": np.random.default_rng(0).normal(size=(5, 8, 1)).astype("float32"), "length": np.full(5, 8)}
    members = [np.asarray(model.get_layer(f"member_{k}")(inputs)) for k in range(3)]
    np.testing.assert_allclose(np.asarray(model(inputs)), np.median(np.stack(members), axis=0), rtol=1e-6)
    model.save(tmp_path / "ensemble.keras")
    again = keras.saving.load_model(tmp_path / "ensemble.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(again(inputs)), np.asarray(model(inputs)), rtol=1e-6)


def test_the_encoders_are_the_modules_of_their_folder():
    import forecaster.models.encoders as encoders
    from forecaster.config import CELLS
    from forecaster.models.encoders import encoder

    folder = Path(encoders.__file__).parent
    assert set(CELLS) == {path.stem for path in folder.glob("*.py") if not path.stem.startswith("_")}
    assert CELLS[0] == "lstm"  # the default first, as the mission's network
    for name in CELLS:
        assert encoder(name).__module__ == f"forecaster.models.encoders.{name}"
