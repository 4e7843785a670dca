"""Outputs at several rates (`--output-knots`): heads that forecast a few knots, drawn out to every step."""

import keras
import numpy as np
import pytest

from forecaster.config import ModelConfig
from forecaster.errors import SettingsError
from forecaster.models.knots import KnotInterpolation, interpolation_matrix
from forecaster.models.network import build_model


def batch(rows=4, lookback=8, seed=0):
    values = np.random.default_rng(seed).normal(size=(rows, lookback, 1)).astype("float32")
    return {"values": values, "length": np.full(rows, lookback, dtype="int32")}


def test_the_knots_are_kept_and_drawn_out_straight_between_them():
    matrix = interpolation_matrix(horizon=7, knots=3)  # knots at steps 0, 3 and 6
    knots = np.array([1.0, 4.0, -2.0])
    np.testing.assert_allclose(matrix @ knots, [1, 2, 3, 4, 2, 0, -2], atol=1e-6)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(interpolation_matrix(5, 5), np.eye(5))  # a knot at every step: as they are


def test_each_quantile_is_drawn_out_on_its_own():
    raw = np.array([[0.0, 10.0, 2.0, 20.0]], dtype="float32")  # knot-major: (knot 0: q0, q1), (knot 1: q0, q1)
    steps = np.asarray(KnotInterpolation(horizon=3, knots=2, n_quantiles=2)(raw)).reshape(3, 2)
    np.testing.assert_allclose(steps[:, 0], [0, 1, 2], atol=1e-6)
    np.testing.assert_allclose(steps[:, 1], [10, 15, 20], atol=1e-6)


def test_a_network_of_coarse_heads_forecasts_a_line_between_its_knots():
    """With one head of 4 knots over 10 steps (and no other path to the output), every forecast is straight
    between steps 0, 3, 6 and 9: its second differences vanish everywhere else."""
    model = build_model(ModelConfig(lookback=8, horizon=10, layers=(8,), patch=2, output_knots=(4,), ensemble=2))
    forecast = model.predict(batch(), verbose=0)
    bends = np.abs(np.diff(forecast, n=2, axis=1))  # at steps 1..8
    straight = [step - 1 for step in range(1, 9) if step % 3]
    assert bends[:, straight].max() < 1e-4
    assert bends.max() > 1e-3  # it does bend at the knots: not a constant


def test_heads_at_several_rates_are_summed_and_named_by_their_knots():
    model = build_model(
        ModelConfig(lookback=8, horizon=6, layers=(8,), output_knots=(2, 6), quantiles=(0.1, 0.5, 0.9), ensemble=1)
    )
    names = [layer.name for layer in model.layers]
    assert {"head_2_knots", "head_6_knots", "drawn_out_2", "drawn_out_6", "head_rates"} <= set(names)
    assert "head" not in names
    assert model.predict(batch(), verbose=0).shape == (4, 6, 3)


def test_more_knots_than_steps_are_refused():
    with pytest.raises(SettingsError, match="at most the horizon"):
        build_model(ModelConfig(lookback=8, horizon=6, layers=(8,), output_knots=(2, 12)))


def test_a_network_of_coarse_heads_saves_and_loads_with_the_same_forecast(tmp_path):
    model = build_model(ModelConfig(lookback=8, horizon=6, layers=(8,), output_knots=(3, 6), linear_skip=True))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded.predict(batch(), verbose=0), model.predict(batch(), verbose=0))
