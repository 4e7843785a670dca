import numpy as np
import pytest

from forecaster.scoring.baselines import baseline_forecast
from forecaster.scoring.metrics import coverage, mae, mape, mase, pinball, rmse, seasonal_naive_scale, smape

ACTUAL = np.array([1.0, 2.0, 0.0, 4.0])
FORECAST = np.array([2.0, 2.0, 1.0, 2.0])


def test_point_metrics_by_hand():
    assert mae(ACTUAL, FORECAST) == pytest.approx((1 + 0 + 1 + 2) / 4)
    assert rmse(ACTUAL, FORECAST) == pytest.approx(np.sqrt((1 + 0 + 1 + 4) / 4))
    # the zero actual is left out of MAPE: (100% + 0% + 50%) / 3
    assert mape(ACTUAL, FORECAST) == pytest.approx(50.0)
    assert smape(ACTUAL, FORECAST) == pytest.approx(100 * (2 / 3 + 0 + 2 + 2 / 3) / 4)
    assert mase(ACTUAL, FORECAST, scale=2.0) == pytest.approx(0.5)


def test_seasonal_naive_scale_and_interval_metrics():
    history = np.array([1.0, 2.0, 3.0, 2.0, 4.0, 3.0])
    assert seasonal_naive_scale(history, 2) == pytest.approx((2 + 0 + 1 + 1) / 4)
    assert pinball(np.array([1.0]), np.array([0.0]), 0.9) == pytest.approx(0.9)
    assert pinball(np.array([0.0]), np.array([1.0]), 0.9) == pytest.approx(0.1)
    assert coverage(ACTUAL, ACTUAL - 0.5, ACTUAL + np.array([1, 1, -1, 1])) == 0.75


def test_baselines_by_hand():
    history = np.array([1.0, 2.0, 3.0, 10.0, 20.0, 30.0])
    np.testing.assert_array_equal(baseline_forecast("naive", history, 2), [30, 30])
    np.testing.assert_array_equal(baseline_forecast("seasonal_naive", history, 4, season=3), [10, 20, 30, 10])
    np.testing.assert_allclose(baseline_forecast("drift", history, 2), [35.8, 41.6])
    np.testing.assert_array_equal(baseline_forecast("seasonal_naive", history[:2], 2, season=3), [2, 2])


def test_mase_scales_each_window_by_its_own_series():
    actual = np.array([[1.0, 1.0], [10.0, 10.0]])
    forecast = np.array([[2.0, 2.0], [20.0, 20.0]])
    # errors 1 and 10, scales 1 and 10: both windows have MASE 1
    assert mase(actual, forecast, np.array([1.0, 10.0])) == pytest.approx(1.0)
    # an undefined (constant-history) denominator falls back to MAE for that window
    assert mase(actual, forecast, np.array([0.0, np.nan])) == pytest.approx((1 + 10) / 2)
