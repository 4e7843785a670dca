"""Season detection from the data: the panel's autocorrelation of differenced series."""

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import invoke

from forecaster.data.season import detect_season, resolve_season


def hourly_panel(n_series=40, length=900, seed=0, weekly=1.0):
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return [
        50
        + rng.uniform(1, 5) * np.sin(2 * np.pi * t / 24 + rng.uniform(0, 6))
        + weekly * np.sin(2 * np.pi * t / 168)
        + np.cumsum(rng.normal(size=length)) * 0.1
        + rng.normal(size=length)
        for _ in range(n_series)
    ]


@pytest.mark.parametrize("weekly", [0.0, 1.0, 3.0])
def test_daily_cycle_in_hourly_steps_is_found_as_24(weekly):
    assert detect_season(hourly_panel(weekly=weekly)).period == 24


# differencing damps a cycle of period P by 2 sin(pi / P) (0.12 at 52) while it doubles white noise,
# so long periods are found only when the noise is smaller than the cycle's step-to-step change
@pytest.mark.parametrize(("period", "noise"), [(7, 0.3), (12, 0.3), (52, 0.05)])
def test_other_periods(period, noise):
    rng = np.random.default_rng(period)
    t = np.arange(20 * period)
    panel = [np.sin(2 * np.pi * t / period + rng.uniform(0, 6)) + noise * rng.normal(size=len(t)) for _ in range(5)]
    assert detect_season(panel).period == period


def test_random_walks_and_noise_have_no_season():
    rng = np.random.default_rng(0)
    assert detect_season([rng.normal(size=600).cumsum() for _ in range(30)]).period == 1
    assert detect_season([rng.normal(size=600) for _ in range(30)]).period == 1
    assert detect_season([np.ones(100), np.arange(5.0)]).period == 1  # flat and too short


def test_given_season_wins_and_a_frequency_season_is_checked():
    panel = hourly_panel(n_series=5)
    assert resolve_season(12, "int:1", panel).period == 12
    checked = resolve_season(None, "h", panel)
    assert checked.period == 24 and checked.source == "frequency" and "confirmed" in checked.note
    rng = np.random.default_rng(0)
    unseen = resolve_season(None, "h", [rng.normal(size=500).cumsum() for _ in range(5)])
    assert unseen.period == 24 and "does not show it" in unseen.note
    found = resolve_season(None, "int:1", panel)
    assert found.period == 24 and found.source == "data"


def test_integer_step_hourly_panel_reports_season_24_in_doctor_and_train(tmp_path):
    frames = [
        pd.DataFrame({"id": f"s{i}", "step": np.arange(len(v)), "y": v}) for i, v in enumerate(hourly_panel(8, 400))
    ]
    data = tmp_path / "panel.csv"
    pd.concat(frames).to_csv(data, index=False)
    options = ["--target", "y", "--time-col", "step", "--id-col", "id", "--horizon", "24"]
    report = json.loads(invoke("doctor", data, *options, "--json").output)
    assert report["frequency"] == "int:1" and report["season"] == 24
    run = tmp_path / "run"
    result = invoke(
        "train", data, *options, "--epochs", "1", "--layers", "8", "--quiet", "--select", "model", "--out", run
    )
    assert result.exit_code == 0, result.output
    assert "season 24" in result.output
    config = json.loads((run / "config.json").read_text())
    assert config["season"] == 24 and config["season_found"]["source"] == "data"
    assert config["run"]["window"]["patch"] == 24  # one season per LSTM step (lookback 96 = 4 horizons)
