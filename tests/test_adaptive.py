"""Bands that learn from realised errors (forecaster.scoring.adaptive): under a shift, in time order only."""

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, SINE, invoke, train

from forecaster.errors import DamagedRunError
from forecaster.scoring.adaptive import Realised, Windows, adapted_multipliers, band_factors
from forecaster.scoring.calibration import Calibration

HORIZON = 4


def static_table(rng, windows=2000):
    """A table calibrated on unit-scale Gaussian errors (spreads 1)."""
    noise = rng.normal(0, 1, (windows, HORIZON))
    return Calibration.fit(noise, np.zeros_like(noise), np.ones(windows))


def backtest(rng, windows, sd, step=HORIZON):
    """One series' windows `step` apart: actuals with noise `sd` around a zero forecast, spreads 1."""
    actual = rng.normal(0, 1, (windows, HORIZON)) * sd
    return actual, np.zeros_like(actual), np.ones(windows), np.zeros(windows, dtype=int), np.arange(windows) * step


def test_a_series_whose_noise_doubles_gets_bands_that_widen_to_nominal_coverage():
    rng = np.random.default_rng(0)
    calibration = static_table(rng)
    actual, forecast, spreads, series, origins = backtest(rng, 600, sd=2.0)
    static = calibration.bands(forecast, spreads, (90.0,))
    half = adapted_multipliers(calibration, Windows(actual, forecast, spreads, series, origins), (90.0,))[90.0]
    adapted = calibration.bands(forecast, spreads, (90.0,), multipliers={90.0: half})
    inside = lambda b: (actual >= b["lo_90"]) & (actual <= b["hi_90"])  # noqa: E731
    assert inside(static).mean() < 0.65  # the static band promised 90% and covers about 59%
    assert half[0] == pytest.approx(calibration.multiplier(90.0))  # nothing known yet: the static band
    assert half[-1].mean() > 1.8 * calibration.multiplier(90.0).mean()  # widened to the doubled noise
    assert inside(adapted)[100:].mean() == pytest.approx(0.90, abs=0.025)
    steady = backtest(rng, 600, sd=1.0)  # and a series that behaves as calibrated keeps about its band
    kept = adapted_multipliers(calibration, Windows(*steady), (90.0,))[90.0]
    assert np.abs(kept[100:].mean() / calibration.multiplier(90.0).mean() - 1) < 0.1


@pytest.mark.parametrize("step", [1, HORIZON])
def test_no_window_s_band_uses_its_own_or_later_actuals(step):
    rng = np.random.default_rng(1)
    calibration = static_table(rng)
    actual, forecast, spreads, series, origins = backtest(rng, 60, sd=1.5, step=step)
    before = adapted_multipliers(calibration, Windows(actual, forecast, spreads, series, origins), (80.0, 95.0))
    at = 40
    unknown = origins + HORIZON > origins[at]  # windows whose actuals were not all known at window 40's cutoff
    changed = actual.copy()
    changed[unknown] *= 50.0  # its own, the overlapping earlier ones, and every later one
    after = adapted_multipliers(calibration, Windows(changed, forecast, spreads, series, origins), (80.0, 95.0))
    for level in (80.0, 95.0):
        np.testing.assert_array_equal(before[level][: at + 1], after[level][: at + 1])
        assert not np.allclose(before[level][at + 1 :], after[level][at + 1 :])
    known = actual.copy()
    known[np.flatnonzero(~unknown)[-1]] *= 50.0  # the latest window known by then does count
    moved = adapted_multipliers(calibration, Windows(known, forecast, spreads, series, origins), (95.0,))
    assert not np.allclose(before[95.0][at], moved[95.0][at])


def test_series_learn_each_from_their_own_windows_in_time_order():
    rng = np.random.default_rng(2)
    calibration = static_table(rng)
    calm = backtest(rng, 200, sd=1.0)
    wild = backtest(rng, 200, sd=3.0)
    actual = np.concatenate([wild[0][::-1], calm[0]])  # given newest first for one series: sorted by origin
    origins = np.concatenate([wild[4][::-1], calm[4]])
    series = np.repeat([0, 1], 200)
    half = adapted_multipliers(
        calibration, Windows(actual, np.zeros_like(actual), np.ones(400), series, origins), (90.0,)
    )
    newest_wild, newest_calm = half[90.0][0].mean(), half[90.0][-1].mean()
    assert newest_wild > 2.5 * newest_calm


def test_carried_windows_are_learnt_first_in_their_order_as_if_each_series_had_them_before():
    rng = np.random.default_rng(4)
    calibration = static_table(rng)
    wild = backtest(rng, 40, sd=3.0)  # what an updated run's parent served: errors three times the table's
    calm = backtest(rng, 10, sd=1.0)
    now = Windows(calm[0], calm[1], calm[2], np.full(10, 1), calm[4] + 1000)  # series 1, after training
    carried = Realised(np.array(["b"] * 40), wild[0], wild[1], wild[2])
    joined, first = carried.before(now, ["a", "b"])
    assert first == 40 and (joined.series[:40] == 1).all() and joined.origins[39] + HORIZON == 1000
    learnt = adapted_multipliers(calibration, joined, (95.0,))[95.0][first:]
    whole = Windows(*(np.concatenate([w, c]) for w, c in zip(wild[:3], calm[:3])), np.full(50, 1),
                    np.arange(50) * HORIZON)  # fmt: skip
    np.testing.assert_array_equal(learnt, adapted_multipliers(calibration, whole, (95.0,))[95.0][40:])
    alone = adapted_multipliers(calibration, now, (95.0,))[95.0]
    assert learnt[0].mean() > 2 * alone[0].mean()  # the first window after training already knows the wild ones
    other = Realised(np.array(["c"] * 40), wild[0], wild[1], wild[2])  # another series': not this one's to learn
    assert other.before(now, ["a", "b"]) == (now, 0)


def test_carried_windows_keep_each_series_newest_and_read_back_checked(tmp_path):
    rng = np.random.default_rng(6)
    actual = rng.normal(size=(6, HORIZON))
    carried = Realised(np.array(["a", "a", "b", "a", "b", "b"]), actual, actual * 0, np.ones(6))
    newest = carried.newest(2)
    assert newest.series.tolist() == ["a", "a", "b", "b"]  # in the order they were carried
    np.testing.assert_array_equal(newest.actual, actual[[1, 3, 4, 5]])
    carried.save(tmp_path / "realised.npz")
    back = Realised.load(tmp_path / "realised.npz", HORIZON, 0)
    assert back.series.tolist() == carried.series.tolist()
    np.testing.assert_array_equal(back.actual, actual)
    with pytest.raises(DamagedRunError, match="wrong shape"):
        Realised.load(tmp_path / "realised.npz", HORIZON + 1, 0)
    with pytest.raises(DamagedRunError, match="wrong shape"):  # a quantile run's need their quantiles
        Realised.load(tmp_path / "realised.npz", HORIZON, 3)
    np.savez(tmp_path / "bad.npz", series=np.array(["a"]), actual=actual[:1], forecast=actual[:1] * np.inf,
             spreads=np.ones(1))  # fmt: skip
    with pytest.raises(DamagedRunError, match="wrong shape or values"):
        Realised.load(tmp_path / "bad.npz", HORIZON, 0)
    np.savez(tmp_path / "pickled.npz", series=np.array([{"a": 1}], dtype=object), actual=actual[:1],
             forecast=actual[:1], spreads=np.ones(1))  # fmt: skip
    (tmp_path / "text.npz").write_text("not a zip")
    for name in ("pickled.npz", "text.npz"):
        with pytest.raises(DamagedRunError, match="corrupt"):
            Realised.load(tmp_path / name, HORIZON, 0)


def test_a_quantile_run_s_cqr_correction_adapts_too():
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 1, (1000, HORIZON))
    quantiles = np.stack([np.full_like(noise, -1.2816), np.zeros_like(noise), np.full_like(noise, 1.2816)], axis=-1)
    calibration = Calibration.fit(noise, np.zeros_like(noise), np.ones(1000), quantiles, (0.1, 0.5, 0.9))
    actual, forecast, spreads, series, origins = backtest(rng, 400, sd=2.0)
    drifted = np.stack([np.full_like(actual, -1.2816), np.zeros_like(actual), np.full_like(actual, 1.2816)], axis=-1)
    levels = (0.1, 0.5, 0.9)
    correction = adapted_multipliers(
        calibration, Windows(actual, forecast, spreads, series, origins, drifted, levels), (80.0,)
    )
    bands = calibration.bands(forecast, spreads, (80.0,), drifted, levels, multipliers=correction)
    covered = (actual >= bands["lo_80"]) & (actual <= bands["hi_80"])
    assert correction[80.0][-1].mean() > 1.0  # the quantiles' own interval widened by over a spread
    assert covered[100:].mean() == pytest.approx(0.80, abs=0.03)


def test_evaluate_reports_coverage_by_period_and_adapts_unless_told_not_to(sine_csv, tmp_path):
    run = tmp_path / "run"
    assert train(sine_csv, SINE, run, "--holdout", "60").exit_code == 0
    frame = pd.read_csv(sine_csv)
    rng = np.random.default_rng(4)
    frame.loc[len(frame) - 60 :, "y"] += rng.normal(0, 1.5, 60)  # the tail after training turns noisy
    noisy = tmp_path / "noisy.csv"
    frame.to_csv(noisy, index=False)
    reports = {}
    for adapt in ("on", "off"):
        out = tmp_path / f"ev-{adapt}"
        result = invoke("evaluate", run, "--data", noisy, "--folds", "55", "--step", "1", "--level", "90",
                        "--adapt", adapt, "--out", out)  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "coverage by quarter of the backtest's span, oldest first:" in result.output
        reports[adapt] = json.loads((out / "metrics.json").read_text())
    adaptive, static = reports["on"]["conformal"]["90"], reports["off"]["conformal"]["90"]
    assert reports["on"]["bands"] == "adaptive" and reports["off"]["bands"] == "static"
    assert len(adaptive["coverage_by_period"]) == 4
    windows = {adapt: pd.read_csv(tmp_path / f"ev-{adapt}" / "forecasts.csv") for adapt in ("on", "off")}
    first = windows["on"]["cutoff"] == windows["on"]["cutoff"].min()  # nothing known yet there: the static band
    pd.testing.assert_frame_equal(windows["on"][first], windows["off"][first])
    assert not np.allclose(windows["on"]["hi_90"], windows["off"]["hi_90"])
    assert adaptive["coverage"] > static["coverage"] + 0.05


def folder_digest(folder):
    """Every file under `folder` with its bytes: what a command must leave alone."""
    return {path.relative_to(folder): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("tail", ["noisier", "calmer"])
def test_forecast_bands_learn_from_newer_actuals_and_leave_the_run_alone(tmp_path, tail):
    n = 400
    t = np.arange(n)
    rng = np.random.default_rng(5)
    noise = rng.normal(0, 0.5, n)
    noise[-120:] *= 4.0 if tail == "noisier" else 0.1  # after training the noise grows fourfold (or shrinks)
    frame = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"),
                          "y": 10 + np.sin(2 * np.pi * t / 24) + noise})  # fmt: skip
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    run = tmp_path / "run"
    fitted = [*FAST[FAST.index("--layers") :], "--epochs", "20"]  # FAST, but enough epochs to learn the sine
    assert invoke("train", data, *SINE, "--holdout", "120", *fitted, "--out", run).exit_code == 0
    before = folder_digest(run)
    widths = {}
    for adapt in ("on", "off"):
        out = tmp_path / f"forecast-{adapt}.csv"
        result = invoke("forecast", run, "--data", data, "--out", out, "--level", "90", "--adapt", adapt)
        assert result.exit_code == 0, result.output
        said = "--level bands learnt from the realised errors of 20 windows after training (1 series"
        assert (said in result.output) == (adapt == "on")
        made = pd.read_csv(out)
        widths[adapt] = float((made["hi_90"] - made["lo_90"]).mean())
    ratio = widths["on"] / widths["off"]
    assert ratio > 1.3 if tail == "noisier" else ratio < 0.9
    assert folder_digest(run) == before  # the run stays as trained: the update is a function of the data
    trained_part = tmp_path / "trained_part.csv"  # no actuals after training: the static bands, said nothing
    frame.iloc[:-120].to_csv(trained_part, index=False)
    made = {}
    for adapt in ("on", "off"):
        result = invoke("forecast", run, "--data", trained_part, "--out", tmp_path / f"same-{adapt}.csv",
                        "--level", "90", "--adapt", adapt)  # fmt: skip
        assert result.exit_code == 0 and "learnt from" not in result.output
        made[adapt] = pd.read_csv(tmp_path / f"same-{adapt}.csv")
    pd.testing.assert_frame_equal(made["on"], made["off"])


def test_an_exported_band_adapts_by_the_factors_the_library_gives():
    rng = np.random.default_rng(6)
    calibration = static_table(rng)
    actual, forecast, spreads, _, _ = backtest(rng, 300, sd=2.0)
    factors = band_factors(calibration, actual, forecast, spreads, (80.0, 95.0))
    for level in (80.0, 95.0):
        assert factors[level].shape == (HORIZON,)
        assert np.all((factors[level] > 1.5) & (factors[level] < 3.0))  # the noise doubled
    calm = band_factors(calibration, *backtest(rng, 300, sd=1.0)[:3], (95.0,))[95.0]
    assert abs(calm.mean() - 1) < 0.25  # about the static band (ACI moves it window by window)
