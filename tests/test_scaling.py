import numpy as np
import pytest

from forecaster.config import DataConfig, ModelConfig, RunConfig, WindowConfig
from forecaster.data.scaling import AffineScaler, fit_scaler
from forecaster.data.series import Panel, Series
from forecaster.training.train import prepare


@pytest.mark.parametrize("kind", ["standard", "minmax", "robust", "none"])
def test_inverse_recovers_the_input(kind):
    raw = np.random.default_rng(0).normal(5, 3, size=(50, 2))
    scaler = fit_scaler(kind, raw)
    np.testing.assert_allclose(scaler.inverse(scaler.transform(raw)[:, 0]), raw[:, 0])
    again = AffineScaler.from_json(scaler.to_json())
    np.testing.assert_array_equal(again.center, scaler.center)


def test_standard_scaler_matches_sklearn_definition():
    raw = np.arange(10, dtype=float)[:, None]
    scaler = fit_scaler("standard", raw)
    assert scaler.center[0] == pytest.approx(4.5) and scaler.scale[0] == pytest.approx(np.std(raw))


def test_constant_series_stays_finite():
    scaler = fit_scaler("standard", np.full((30, 1), 7.0))
    assert np.isfinite(scaler.transform(np.full((3, 1), 7.0))).all()


def _panel(values):
    return Panel([Series("s", 0, "int:1", values[:, None])], freq="int:1", path="x.csv")


def test_changing_validation_values_does_not_change_the_scaler():
    cfg = RunConfig(DataConfig(target="y"), WindowConfig(horizon=5, lookback=10), ModelConfig(lookback=10, horizon=5))
    values = np.random.default_rng(0).normal(size=100)
    first = prepare(_panel(values), cfg).states["s"]
    changed = values.copy()
    changed[first.n_train :] += 1000.0  # validation part only
    second = prepare(_panel(changed), cfg).states["s"]
    assert first.n_train == second.n_train == 80
    np.testing.assert_array_equal(first.scaler.center, second.scaler.center)
    np.testing.assert_array_equal(first.scaler.scale, second.scaler.scale)
    changed[first.n_train - 1] += 1000.0  # a training value: now it must change
    third = prepare(_panel(changed), cfg).states["s"]
    assert third.scaler.center[0] != first.scaler.center[0]
