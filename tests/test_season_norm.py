"""The network's deseasonaliser (`--season-norm`): what it takes out of a window it gives back exactly."""

import keras
import numpy as np
import pytest

from forecaster.config import ModelConfig
from forecaster.models.network import build_model
from forecaster.models.season import AddSeason, SeasonNorm

PERIOD = 4


def windows(lengths, lookback=12, features=2, seed=0):
    values = np.random.default_rng(seed).normal(size=(len(lengths), lookback, features)).astype("float32")
    for row, length in enumerate(lengths):
        values[row, length:] = 0.0
    return values, np.asarray(lengths, dtype="int32")


def test_the_deseasonaliser_inverts_exactly_on_windows_of_every_length():
    values, length = windows([12, 11, 9, 8, 7, 3])
    out, profile = (np.asarray(t) for t in SeasonNorm(PERIOD)([values, length]))
    for row, n in enumerate(length):
        phase = (np.arange(n) - n) % PERIOD  # the last point is phase PERIOD - 1
        np.testing.assert_allclose(out[row, :n, 0] + profile[row, phase], values[row, :n, 0], atol=1e-6)
        np.testing.assert_array_equal(out[row, :, 1], values[row, :, 1])  # other channels untouched
        assert not out[row, n:].any()  # padding stays zero
    np.testing.assert_allclose(profile.mean(axis=1), 0.0, atol=1e-6)  # the level is left to the instance norm
    assert not profile[length < 2 * PERIOD].any()  # under two seasons: no profile


def test_the_profile_is_each_phases_mean_counted_back_from_the_last_point():
    values, length = windows([10])
    profile = np.asarray(SeasonNorm(PERIOD)([values, length])[1])[0]
    target = values[0, :10, 0]
    phase = (np.arange(10) - 10) % PERIOD
    means = np.array([target[phase == p].mean() for p in range(PERIOD)])
    np.testing.assert_allclose(profile, means - means.mean(), atol=1e-6)


def test_the_horizon_gets_the_profile_from_phase_zero_on_to_every_quantile():
    profile = np.arange(PERIOD, dtype="float32")[None, :]
    flat = np.asarray(AddSeason(6)([np.zeros((1, 6), "float32"), profile]))
    np.testing.assert_array_equal(flat, [[0, 1, 2, 3, 0, 1]])
    quantiles = np.asarray(AddSeason(6)([np.zeros((1, 6, 3), "float32"), profile]))
    np.testing.assert_array_equal(quantiles[0, :, 2], [0, 1, 2, 3, 0, 1])


@pytest.mark.parametrize("quantiles", [(), (0.1, 0.5, 0.9)])
def test_a_network_that_forecasts_nothing_continues_a_seasonal_window_exactly(quantiles):
    """With every weight zero the network's own forecast is zero, so what comes out is the window's mean plus its
    shape continued: a purely seasonal window is forecast as its season goes on, with or without quantiles."""
    cfg = ModelConfig(lookback=12, horizon=6, layers=(8,), patch=PERIOD, instance_norm="mean", season_norm=True,
                      season_steps=PERIOD, linear_skip=True, quantiles=quantiles)  # fmt: skip
    model = build_model(cfg)
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    shape = np.array([5.0, 1.0, -2.0, 4.0])
    window = np.tile(shape, 3)[None, :, None].astype("float32")
    forecast = model.predict({"values": window, "length": np.array([12], "int32")}, verbose=0)
    expected = np.tile(shape, 2)[:6]
    got = forecast[0] if not quantiles else forecast[0, :, 1]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_without_a_season_the_option_changes_nothing():
    """`season_norm` on a series with no season found (season 1) builds the network it would without it."""
    plain = build_model(ModelConfig(lookback=8, horizon=2, layers=(8,)))
    asked = build_model(ModelConfig(lookback=8, horizon=2, layers=(8,), season_norm=True, season_steps=1))
    assert [layer.name for layer in asked.layers] == [layer.name for layer in plain.layers]


def test_a_deseasonalising_network_saves_and_loads_with_the_same_forecast(tmp_path):
    model = build_model(ModelConfig(lookback=8, horizon=3, layers=(8,), patch=2, season_norm=True, season_steps=2))
    values, length = windows([8, 6, 4], lookback=8, features=1, seed=1)
    batch = {"values": values, "length": length}
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded.predict(batch, verbose=0), model.predict(batch, verbose=0))
