"""Conformal intervals: calibrated on validation windows, scaled by each window's spread."""

import numpy as np
import pandas as pd
import pytest
from cli_helpers import PANEL, invoke, train
from conftest import write_panel

from forecaster.scoring.calibration import Calibration, parse_levels, window_spreads
from forecaster.scoring.metrics import msis


@pytest.mark.parametrize("level", [50.0, 80.0, 95.0])
def test_gaussian_errors_get_nominal_coverage_on_fresh_draws(level):
    rng = np.random.default_rng(0)
    n, horizon = 4000, 3
    sigma = np.array([1.0, 2.0, 3.0])  # errors that grow with the step
    spreads = rng.uniform(0.5, 5.0, n)  # windows of different scales: errors scale with them
    calibration = Calibration.fit(np.zeros((n, horizon)), rng.normal(size=(n, horizon)) * sigma * spreads[:, None],
                                  spreads)  # fmt: skip
    fresh_spreads = rng.uniform(0.5, 5.0, n)
    actual = rng.normal(size=(n, horizon)) * sigma * fresh_spreads[:, None]
    bands = calibration.bands(np.zeros((n, horizon)), fresh_spreads, (level,))
    inside = (actual >= bands[f"lo_{level:g}"]) & (actual <= bands[f"hi_{level:g}"])
    p = level / 100
    tolerance = 4 * np.sqrt(p * (1 - p) / n) + 1 / 200  # sampling error of both sets + the 0.5% grid
    assert abs(inside.mean() - p) < tolerance, inside.mean()
    widths = (bands[f"hi_{level:g}"] - bands[f"lo_{level:g}"]) / fresh_spreads[:, None]
    assert (np.diff(widths.mean(axis=0)) > 0).all()  # wider where the errors are


def test_cqr_widens_quantiles_that_are_too_narrow_to_nominal_coverage():
    rng = np.random.default_rng(1)
    n, horizon = 4000, 2
    spreads = rng.uniform(0.5, 2.0, n)

    def draws(size):
        return rng.normal(size=(size, horizon)) * 2.0 * spreads[:size, None]  # true sd 2 x spread

    narrow = np.stack([-1.0 * spreads, np.zeros(n), 1.0 * spreads], axis=-1)[:, None, :].repeat(horizon, axis=1)
    calibration = Calibration.fit(draws(n), np.zeros((n, horizon)), spreads, narrow, (0.1, 0.5, 0.9))
    assert set(calibration.pairs) == {"80"}
    bands = calibration.bands(np.zeros((n, horizon)), spreads, (80.0,), narrow, (0.1, 0.5, 0.9))
    actual = draws(n)
    inside = ((actual >= bands["lo_80"]) & (actual <= bands["hi_80"])).mean()
    assert abs(inside - 0.8) < 4 * np.sqrt(0.8 * 0.2 / n) + 0.005, inside
    assert (bands["hi_80"] - bands["lo_80"] > 2 * spreads[:, None]).all()  # widened beyond +-1 spread


def test_levels_any_order_and_bad_levels():
    assert parse_levels("95,80,80") == (80.0, 95.0)
    for bad in ("0", "100", "120", "abc", "-5"):
        with pytest.raises(Exception, match="--level"):
            parse_levels(bad)


def test_window_spread_uses_the_windows_own_history():
    values = np.array([1.0, 1.0, 1.0, 10.0, 20.0, 30.0])
    spreads = window_spreads([values, values], np.array([3, 6]), lookback=3, patch=1, scales=np.array([1.0, 1.0]))
    np.testing.assert_allclose(spreads, [1e-3, 10.0])  # flat -> the floor; 10, 20, 30 -> steps of 10


def test_msis_counts_width_and_misses():
    actual = np.array([[0.0, 5.0]])
    lower, upper = np.array([[-1.0, -1.0]]), np.array([[1.0, 1.0]])
    # step 1 inside (width 2); step 2 misses by 4: 2 + 2/0.05 * 4 = 162
    assert msis(actual, lower, upper, np.array([2.0]), 0.05) == pytest.approx((2 + 162) / 2 / 2)


def test_forecast_and_evaluate_with_levels(tmp_path):
    data = write_panel(tmp_path / "panel.csv")
    run = tmp_path / "run"
    assert train(data, PANEL, run, "--holdout", "10").exit_code == 0
    assert (run / "calibration.json").is_file()
    out = tmp_path / "fc.csv"
    result = invoke("forecast", run, "--data", data, "--out", out, "--level", "95,80")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["id", "time", "forecast", "lo_80", "hi_80", "lo_95", "hi_95", "method"]
    assert (frame["lo_95"] <= frame["lo_80"]).all() and (frame["lo_80"] <= frame["forecast"]).all()
    assert (frame["forecast"] <= frame["hi_80"]).all() and (frame["hi_80"] <= frame["hi_95"]).all()
    for bad in ("0", "100", "120", "abc"):
        result = invoke("forecast", run, "--data", data, "--out", tmp_path / "bad.csv", "--level", bad)
        assert result.exit_code == 2 and "--level" in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "bad.csv").exists()
    result = invoke("evaluate", run, "--data", data, "--folds", "2", "--out", tmp_path / "ev")
    assert result.exit_code == 0, result.output
    assert "95% interval: coverage" in result.output and "MSIS" in result.output
    result = invoke("evaluate", run, "--data", data, "--folds", "2", "--out", tmp_path / "ev2",
                    "--fail-if-coverage-below", "-100")  # fmt: skip
    assert result.exit_code == 1 and "quality gate failed" in result.output


@pytest.mark.parametrize("quantiles", [[], ["--quantiles", "0.1,0.5,0.9"]])
def test_exported_saved_model_gives_the_forecast_level_bands(tmp_path, quantiles):
    """The 80% band of a 0.1/0.9 quantile run is its CQR band; the 95% one (no such pair) a residual band."""
    import tensorflow as tf

    data = write_panel(tmp_path / "panel.csv")
    run = tmp_path / "run"
    assert train(data, PANEL, run, *quantiles).exit_code == 0
    out = tmp_path / "fc.csv"
    assert invoke("forecast", run, "--data", data, "--out", out, "--level", "80,95").exit_code == 0
    result = invoke("export", run, "--out", tmp_path / "export", "--level", "80,95")
    assert result.exit_code == 0, result.output
    served = tf.saved_model.load(str(tmp_path / "export" / "saved_model")).signatures["serving_default"]
    frame = pd.read_csv(data)
    expected = pd.read_csv(out)
    lookback = 56
    for sid, group in frame.groupby("id"):
        tail = group["y"].to_numpy("float32")[-lookback:]
        values = np.pad(tail, (0, lookback - len(tail)))[None, :, None]
        got = served(series_id=tf.constant([sid]), values=tf.constant(values), length=tf.constant([len(tail)]))
        rows = expected[expected["id"] == sid]
        for name in ("forecast", "lo_80", "hi_80", "lo_95", "hi_95"):
            np.testing.assert_allclose(got[name].numpy()[0], rows[name], rtol=1e-5, atol=1e-5 * np.abs(tail).max())


@pytest.mark.parametrize("level", [80.0, 95.0])
def test_a_trained_run_covers_fresh_gaussian_draws_at_the_nominal_rate(tmp_path, level):
    """End to end: a daily-cycle series plus Gaussian noise is trained on; its continuation with fresh
    noise (never seen) is backtested at 240 origins. The noise is independent from point to point and
    dominates the model's error, so the coverage of n forecast points has standard error
    sqrt(p (1 - p) / n): it must lie within 4 of them of the level."""
    from forecaster import Forecaster

    rng = np.random.default_rng(7)
    n_train, fresh, horizon = 1200, 240 * 6, 6
    t = np.arange(n_train + fresh)
    y = 10 + 2 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.5, len(t))
    frame = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=len(t), freq="h"), "y": y})
    model = Forecaster(horizon=horizon, target="y", time_col="t", lookback=48, layers=(16,), epochs=8,
                       batch_size=128, ensemble=1, holdout=fresh, select="model")  # fmt: skip
    model.fit(frame)
    report, _ = model.backtest(frame, folds=fresh // horizon, level=(level,))
    measured = report["conformal"][f"{level:g}"]
    p, n = level / 100, report["windows"] * horizon
    assert report["windows"] == 240
    print(f"coverage {measured['coverage']:.3f} of {p}, tolerance {4 * np.sqrt(p * (1 - p) / n):.3f}")
    assert abs(measured["coverage"] - p) <= 4 * np.sqrt(p * (1 - p) / n), measured
