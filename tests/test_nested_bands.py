"""Bands nested by level and in proportion to the data, whatever the realised errors do: in the library (a
property test over ramps, errors between two levels' bands, spikes, constant and huge errors), and through
forecast, evaluate and the export's adaptive factors."""

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, invoke
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster.scoring.adaptive import Windows, adapted_multipliers, band_factors
from forecaster.scoring.calibration import MAX_SCORE, Calibration

HORIZON = 5
LEVELS = (50.0, 80.0, 90.0, 95.0, 99.0)


def errors_of(kind, windows, size, rng):
    """(windows, HORIZON) realised errors of one kind: each ramps, spikes or sits still in its own way."""
    noise = rng.normal(0, 1, (windows, HORIZON))
    if kind == "ramp":  # from their usual size to many times it
        return noise * np.linspace(1.0, size, windows)[:, None]
    if kind == "spike":  # usual, with one window far out
        noise[windows // 2] *= size * 1000
        return noise
    if kind == "between":  # every error just outside the lower level's band and inside the higher one's: the
        return np.sign(noise) * size / 4  # lower level's working level climbs past the higher one's
    if kind == "constant":  # no error at all, then one step
        return np.where(np.arange(windows)[:, None] < windows - 3, 0.0, size) + np.zeros((1, HORIZON))
    return noise * 10.0**size  # huge


def assert_nested(bands, forecast, levels):
    for level in levels:
        lo, hi = bands[f"lo_{level:g}"], bands[f"hi_{level:g}"]
        assert np.isfinite(lo).all() and np.isfinite(hi).all()
        assert (lo <= forecast + 1e-9).all() and (hi >= forecast - 1e-9).all()  # the band holds the forecast
    for lower, higher in zip(levels, levels[1:]):
        assert (bands[f"lo_{higher:g}"] <= bands[f"lo_{lower:g}"]).all()
        assert (bands[f"hi_{higher:g}"] >= bands[f"hi_{lower:g}"]).all()


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["ramp", "between", "spike", "constant", "huge"]),
    size=st.floats(1.0, 12.0),
    windows=st.integers(2, 120),
    levels=st.lists(st.sampled_from(LEVELS), min_size=2, max_size=5, unique=True),
    seed=st.integers(0, 2**16),
    quantile_run=st.booleans(),
)
def test_adaptive_bands_are_nested_finite_and_hold_the_forecast(kind, size, windows, levels, seed, quantile_run):
    rng = np.random.default_rng(seed)
    levels = tuple(sorted(levels))
    table = rng.normal(0, 1, (300, HORIZON))
    q = (0.05, 0.1, 0.5, 0.9, 0.95)
    offsets = np.array([-1.64, -1.28, 0.0, 1.28, 1.64])
    own = (lambda n: np.zeros((n, HORIZON, 1)) + offsets) if quantile_run else (lambda n: None)
    calibration = Calibration.fit(table, np.zeros_like(table), np.ones(300), own(300), q if quantile_run else ())
    actual = errors_of(kind, windows, size, rng)
    forecast, spreads = np.zeros_like(actual), np.ones(windows)
    series, origins = np.zeros(windows, dtype=int), np.arange(windows) * HORIZON
    quantile_levels = q if quantile_run else ()
    realised = Windows(actual, forecast, spreads, series, origins, own(windows), quantile_levels)
    multipliers = adapted_multipliers(calibration, realised, levels)
    bands = calibration.bands(forecast, spreads, levels, own(windows), quantile_levels, multipliers)
    assert_nested(bands, forecast, levels)
    for level in levels:  # bounded: no half-width past the largest score a window counts with
        assert (bands[f"hi_{level:g}"] - forecast <= MAX_SCORE * spreads[:, None] + 2).all()
    factors = band_factors(calibration, actual, forecast, spreads, levels)  # the export's residual band
    halves = {level: calibration.multiplier(level) * factors[level] for level in levels}
    for lower, higher in zip(levels, levels[1:]):
        assert np.isfinite(halves[higher]).all() and (halves[higher] >= halves[lower] - 1e-12).all()


def test_one_spike_after_a_flat_history_keeps_the_band_in_proportion():
    """200 points of 1.0 with one 1000: its score was 999,000 (a flat history's spread is at its floor)."""
    flat = np.zeros((40, HORIZON))
    flat[20, 2] = 999.0
    calibration = Calibration.fit(flat, np.zeros_like(flat), np.full(40, 1e-3))
    assert calibration.pooled.max() <= MAX_SCORE


@pytest.fixture(scope="module")
def ramp(tmp_path_factory):
    """A run on three daily series of 200 points, and the same series with 700 newer points whose noise
    ramps from 1x to 4.5x its usual size."""
    root = tmp_path_factory.mktemp("ramp")
    rng = np.random.default_rng(0)
    frames, newer = [], []
    for sid, level in [("a", 5.0), ("b", 50.0), ("c", 20.0)]:
        t = np.arange(900)
        noise = 0.3 * rng.standard_normal(900) * np.r_[np.ones(200), np.linspace(1, 4.5, 700)]
        frame = pd.DataFrame({"id": sid, "time": pd.date_range("2024-01-01", periods=900, freq="D"),
                              "y": level + np.sin(2 * np.pi * t / 7) + noise})  # fmt: skip
        frames.append(frame.iloc[:200])
        newer.append(frame)
    pd.concat(frames).to_csv(root / "train.csv", index=False)
    pd.concat(newer).to_csv(root / "ramp.csv", index=False)
    options = ["--target", "y", "--time-col", "time", "--id-col", "id", "--horizon", "7", "--lookback", "28"]
    assert invoke("train", root / "train.csv", *options, *FAST, "--out", root / "run").exit_code == 0
    return root


def crossing(frame):
    return int(((frame["lo_80"] < frame["lo_95"]) | (frame["hi_80"] > frame["hi_95"])).sum())


def test_forecast_and_evaluate_bands_are_nested_under_ramping_errors(ramp):
    out = ramp / "fc.csv"
    result = invoke("forecast", ramp / "run", "--data", ramp / "ramp.csv", "--level", "80,95", "--out", out)
    assert result.exit_code == 0, result.output
    assert "learnt from the realised errors" in result.output
    made = pd.read_csv(out)
    assert crossing(made) == 0 and made[["forecast", "lo_80", "hi_80", "lo_95", "hi_95"]].notna().all().all()
    result = invoke("evaluate", ramp / "run", "--data", ramp / "ramp.csv", "--folds", "100", "--step", "7",
                    "--level", "80,95", "--out", ramp / "ev")  # fmt: skip
    assert result.exit_code == 0, result.output
    windows = pd.read_csv(ramp / "ev" / "forecasts.csv")
    assert len(windows) == 2100 and crossing(windows) == 0


def test_a_spike_after_a_flat_history_gives_a_band_in_proportion_to_the_data(tmp_path):
    values = np.ones(200)
    values[185] = 1000.0
    data = tmp_path / "spike.csv"
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=200, freq="D"), "y": values}).to_csv(data, index=False)
    options = ["--target", "y", "--time-col", "time", "--horizon", "7", "--lookback", "28"]
    assert invoke("train", data, *options, *FAST, "--out", tmp_path / "run").exit_code == 0
    result = invoke("forecast", tmp_path / "run", "--data", data, "--level", "95", "--out", tmp_path / "fc.csv")
    assert result.exit_code == 0, result.output
    made = pd.read_csv(tmp_path / "fc.csv")
    assert (made["hi_95"] - made["lo_95"]).max() < 4 * (values.max() - values.min())  # it was +-5 million
