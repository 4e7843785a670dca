"""Conformal intervals: calibrated on validation windows, scaled by each window's spread."""

import numpy as np
import pandas as pd
import pytest
from cli_helpers import PANEL, invoke, train
from conftest import write_panel

from forecaster.scoring.calibration import Calibration, window_spreads
from forecaster.scoring.metrics import msis
from forecaster.serving.checks import parse_levels


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


def test_a_level_finer_than_the_calibration_windows_is_said():
    from forecaster.scoring.calibration import thin_levels_note, windows_needed

    assert [windows_needed(level) for level in (50, 80, 95, 99, 99.5)] == [1, 4, 19, 99, 199]
    assert thin_levels_note(19, (80.0, 95.0)) is None
    note = thin_levels_note(9, (80.0, 95.0))
    assert "95%" in note and "80%" not in note and "at least 19" in note and "90.0%" in note
    # the band it makes is then the widest score: ceil((n + 1) L) > n
    calibration = Calibration.fit(np.zeros((9, 1)), np.arange(1.0, 10.0)[:, None], np.ones(9))
    assert calibration.multiplier(95.0)[0] == 9.0


def test_levels_any_order_and_bad_levels():
    assert parse_levels("95,80,80") == (80.0, 95.0)
    for bad in ("0", "100", "120", "abc", "-5"):
        with pytest.raises(Exception, match="--level"):
            parse_levels(bad)


def test_window_spread_uses_the_windows_own_history():
    values = np.array([1.0, 1.0, 1.0, 10.0, 20.0, 30.0])
    spreads = window_spreads([values, values], np.array([3, 6]), lookback=3, patch=1, scales=np.array([1.0, 1.0]))
    np.testing.assert_allclose(spreads, [1e-3, 10.0])  # flat -> the floor; 10, 20, 30 -> steps of 10


def test_seasonal_spread_measures_forecast_difficulty_not_amplitude():
    """A smooth daily curve moves a lot from hour to hour but repeats itself: its seasonal spread is its
    noise; a flat noisy series moves as much either way."""
    rng = np.random.default_rng(0)
    t = np.arange(24 * 20)
    smooth = 100 + 10 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.05, len(t))
    noisy = 100 + rng.normal(0, 1.0, len(t))
    origins, scales = np.array([len(t), len(t)]), np.ones(2)

    def spreads(kind):
        return window_spreads([smooth, noisy], origins, 96, 1, scales, kind, season=24)

    step, seasonal, history = spreads("step"), spreads("seasonal"), spreads("history")
    assert step[0] > step[1]  # the sine's step changes (~1.7) exceed the noise's (~1.1)
    assert seasonal[0] < 0.1 < 0.5 < seasonal[1]  # the sine repeats to within its noise
    assert history[0] < 0.1 < 0.5 < history[1]  # the same measure over all 480 points: MASE's scale
    for k, y in enumerate((smooth, noisy)):
        assert history[k] == pytest.approx(np.abs(y[24:] - y[:-24]).mean())
    few = window_spreads([noisy], np.array([20]), 96, 1, np.ones(1), "history", season=24)  # no season yet
    assert few[0] == pytest.approx(np.abs(np.diff(noisy[:20])).mean())
    short = window_spreads([noisy], np.array([20]), 96, 1, np.ones(1), "seasonal", season=24)
    np.testing.assert_allclose(short, window_spreads([noisy], np.array([20]), 96, 1, np.ones(1), "step"))


def test_a_smooth_seasonal_series_gets_a_narrower_band_than_a_noisy_flat_one(tmp_path):
    """End to end through train and forecast: the band follows how hard each series is to forecast."""
    rng = np.random.default_rng(3)
    t = np.arange(24 * 40)
    series = {"smooth": 50 + 10 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.05, len(t)),
              "noisy": 50 + rng.normal(0, 1.0, len(t))}  # fmt: skip
    frame = pd.concat(
        pd.DataFrame({"id": sid, "time": pd.date_range("2024-01-01", periods=len(t), freq="h"), "y": y})
        for sid, y in series.items()
    )
    data = tmp_path / "two.csv"
    frame.to_csv(data, index=False)
    run = tmp_path / "run"
    options = ["--target", "y", "--time-col", "time", "--id-col", "id", "--horizon", "12", "--lookback", "48",
               "--epochs", "3", "--ensemble", "1", "--layers", "16", "--select", "model"]  # fmt: skip
    assert invoke("train", data, *options, "--out", run, "--quiet").exit_code == 0
    out = tmp_path / "fc.csv"
    assert invoke("forecast", run, "--data", data, "--out", out, "--level", "95").exit_code == 0
    bands = pd.read_csv(out).assign(width=lambda f: f["hi_95"] - f["lo_95"]).groupby("id")["width"].mean()
    assert bands["smooth"] < bands["noisy"] / 2, bands


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
    result = invoke("forecast", run, "--data", data, "--out", tmp_path / "fine.csv", "--level", "99.5")
    assert result.exit_code == 0 and "a 99.5% band needs at least 199" in result.output, result.output
    assert "needs at least" not in invoke("forecast", run, "--data", data, "--out", out, "--level", "80").output
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


@pytest.mark.parametrize(
    "options",
    [[], ["--quantiles", "0.1,0.5,0.9"], ["--interval-spread", "seasonal"]],
    ids=["history", "cqr", "seasonal"],
)
@pytest.mark.slow
def test_exported_saved_model_gives_the_forecast_level_bands(tmp_path, options):
    """The 80% band of a 0.1/0.9 quantile run is its CQR band; the 95% one (no such pair) a residual band.
    Bands scaled by the history (the default) take seasonal naive's error on it as `history_mae`; those
    scaled by the lookback (`seasonal`) take nothing more."""
    import json

    import tensorflow as tf

    from forecaster.scoring.calibration import history_spreads

    data = write_panel(tmp_path / "panel.csv")
    run = tmp_path / "run"
    assert train(data, PANEL, run, *options).exit_code == 0
    calibration = json.loads((run / "calibration.json").read_text())
    assert calibration["spread"] == ("seasonal" if "seasonal" in options else "history")
    assert calibration["factors"] == {}  # so few windows that all calibrate: none older to measure them on
    out = tmp_path / "fc.csv"
    assert invoke("forecast", run, "--data", data, "--out", out, "--level", "80,95").exit_code == 0
    result = invoke("export", run, "--out", tmp_path / "export", "--level", "80,95")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert manifest["bands"].startswith("static:") and "band_factors" in manifest["bands"]
    served = tf.saved_model.load(str(tmp_path / "export" / "saved_model")).signatures["serving_default"]
    frame = pd.read_csv(data)
    expected = pd.read_csv(out)
    lookback = 56
    for sid, group in frame.groupby("id"):
        tail = group["y"].to_numpy("float32")[-lookback:]
        values = np.pad(tail, (0, lookback - len(tail)))[None, :, None]
        given = (
            {}
            if "seasonal" in options
            else {
                "history_mae": tf.constant(
                    history_spreads([group["y"].to_numpy("float64")], np.array([len(group)]), calibration["season"])
                )
            }
        )
        got = served(series_id=tf.constant([sid]), values=tf.constant(values), length=tf.constant([len(tail)]),
                     **given)  # fmt: skip
        rows = expected[expected["id"] == sid]
        for name in ("forecast", "lo_80", "hi_80", "lo_95", "hi_95"):
            np.testing.assert_allclose(got[name].numpy()[0], rows[name], rtol=1e-5, atol=1e-5 * np.abs(tail).max())


def test_difficulty_factors_shrink_towards_one_and_the_export_layer_applies_them():
    from forecaster.scoring.calibration import difficulty_factors
    from forecaster.serving.graph import IntervalBands

    errors = np.array([[1.0, 1.0]] * 4 + [[3.0, 3.0]] * 4)  # series b's errors are 3x a's, in spreads of 1
    factors = difficulty_factors(errors, np.ones(8), ["a"] * 4 + ["b"] * 4, horizon=2, shrink=2.0)
    # a: 0.5 of the mean score 2, with 2 horizons of windows against a prior of 2: (2 * 0.5 + 2) / 4
    assert factors == {"a": pytest.approx(0.75), "b": pytest.approx(1.25)}
    calibration = Calibration.fit(np.zeros((50, 2)), np.linspace(-1, 1, 100).reshape(50, 2), np.ones(50),
                                  spread="history", season=4, factors=factors)  # fmt: skip
    history_mae, scale = np.array([2.0, 2.0, 2.0]), np.ones((3, 1))
    expected = calibration.bands(np.zeros((3, 2)), history_mae * np.array([0.75, 1.25, 1.0]), (80.0,))
    layer = IntervalBands([calibration.multiplier(80.0)], None, "history", 4, [0.75, 1.25], dtype="float64")
    lower, upper = layer([np.zeros((3, 2), "float32"), np.zeros((3, 2, 1), "float32"), np.zeros((3, 8, 1), "float32"),
                          np.full(3, 8, "int32"), scale, np.array([0, 1, 5], "int32"), history_mae])  # fmt: skip
    np.testing.assert_allclose(np.asarray(lower)[:2], expected["lo_80"][:2], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(upper)[:2], expected["hi_80"][:2], rtol=1e-6)


@pytest.mark.parametrize("level", [80.0, 95.0])
@pytest.mark.slow
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
