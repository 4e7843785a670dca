"""Where a series begins and ends, and its step: empty cells before a series' first value and after its last
are cut, never filled (no forecast starts from invented values, no backtest scores against them), and a file
with missing rows keeps the frequency and season of its commonest step. Each on a CSV, a Parquet file and a
DataFrame."""

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, invoke, train

from forecaster.config import DataConfig
from forecaster.data.panel import read_panel

SOURCES = ["csv", "parquet", "frame"]


def as_source(frame, source, tmp_path):
    """`frame` as the data a user would give: a CSV or Parquet path, or the DataFrame itself."""
    if source == "frame":
        return frame
    path = tmp_path / f"data.{source}"
    frame.to_csv(path, index=False) if source == "csv" else frame.to_parquet(path, index=False)
    return path


def monthly_panel(n=120, empty_tail=9, empty_head=0):
    """Two monthly series; 'short' has empty target cells in its first `empty_head` and last `empty_tail` rows."""
    rng = np.random.default_rng(3)
    t = np.arange(n)
    frames = []
    for sid in ("long", "short"):
        y = 100 + 10 * np.sin(2 * np.pi * t / 12) + rng.standard_normal(n)
        if sid == "short":
            y[n - empty_tail :] = np.nan
            y[:empty_head] = np.nan
        frames.append(pd.DataFrame({"id": sid, "month": pd.date_range("2010-01-01", periods=n, freq="MS"), "y": y}))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("fill", ["interpolate", "ffill", "error"])
def test_empty_cells_at_a_series_ends_are_cut_not_filled(source, fill, tmp_path):
    data = as_source(monthly_panel(empty_tail=9, empty_head=4), source, tmp_path)
    panel = read_panel(data, DataConfig(target="y", id_col="id", time_col="month", fill=fill))
    short = {s.series_id: s for s in panel.series}["short"]
    assert len(short) == 120 - 9 - 4 and short.n_filled == 0 and not np.isnan(short.values).any()
    assert short.start == pd.Timestamp("2010-05-01") and short.time_at(-1) == pd.Timestamp("2019-03-01")
    cut = [note for note in panel.notes if "'short'" in note]
    assert len(cut) == 1 and "cut 4 row(s) before its first value (2010-05-01)" in cut[0]
    assert "9 row(s) after its last value (2019-03-01)" in cut[0] and "filled" not in cut[0].split(":")[1]
    assert not [note for note in panel.notes if "'long'" in note]


def test_a_series_without_any_target_value_is_refused_naming_it(tmp_path):
    frame = monthly_panel(empty_tail=120)
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    result = invoke("train", path, "--target", "y", "--id-col", "id", "--time-col", "month", "--horizon", "3")
    assert result.exit_code == 2 and "column 'y': series 'short' has no value in that column at all" in result.output
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def ended_series_run(tmp_path_factory):
    """A run trained on the panel whose 'short' series ends 9 months before the other."""
    base = tmp_path_factory.mktemp("edges")
    data = base / "panel.csv"
    monthly_panel(empty_tail=9).to_csv(data, index=False)
    options = ["--target", "y", "--id-col", "id", "--time-col", "month", "--horizon", "6", "--lookback", "24"]
    result = train(data, options, base / "run", "--fill", "interpolate", "--holdout", "24")
    assert result.exit_code == 0, result.output
    return base, data, options


def test_a_series_that_ended_is_forecast_from_its_last_value(ended_series_run):
    base, data, _ = ended_series_run
    out = base / "forecast.csv"
    result = invoke("forecast", base / "run", "--data", data, "--out", out)
    assert result.exit_code == 0, result.output
    assert "'short': cut 9 row(s) after its last value (2019-03-01)" in result.output
    assert "filled 9" not in result.output and "missing value" not in result.output
    forecast = pd.read_csv(out, parse_dates=["month"])
    first = forecast.groupby("id")["month"].min()
    assert first["short"] == pd.Timestamp("2019-04-01") and first["long"] == pd.Timestamp("2020-01-01")


def test_evaluate_never_scores_against_filled_actuals(ended_series_run):
    base, data, _ = ended_series_run
    frame = pd.read_csv(data)
    gap = frame.index[(frame["id"] == "long") & (frame["month"] == "2019-10-01")]
    frame.loc[gap, "y"] = np.nan  # one empty cell inside the long series' unseen tail
    gappy = base / "gappy.csv"
    frame.to_csv(gappy, index=False)
    out = base / "evaluation"
    result = invoke("evaluate", base / "run", "--data", gappy, "--folds", "4", "--step", "3", "--out", out)
    assert result.exit_code == 0, result.output
    assert "'short': cut 9 row(s) after its last value" in result.output
    windows = pd.read_csv(out / "forecasts.csv", parse_dates=["month"])
    assert not windows["actual"].isna().any()
    observed = frame.dropna(subset=["y"]).assign(month=lambda f: pd.to_datetime(f["month"]))
    scored = windows.merge(observed, on=["id", "month"], how="left")
    assert scored["y"].notna().all()  # every actual scored is a value the file holds, none a filled one
    assert np.allclose(scored["actual"], scored["y"])
    assert pd.Timestamp("2019-10-01") not in set(windows.loc[windows["id"] == "long", "month"])
    assert "left out 1 backtest window(s) whose actuals include values the --fill policy filled" in result.output
    report = json.loads((out / "metrics.json").read_text())
    assert report["windows"] == len(windows) // 6


def weekly_series(n=300, missing=(20, 50, 51, 100, 200)):
    """Weekly values dated on Mondays, a yearly season, with some weeks' rows missing."""
    t = np.arange(n)
    keep = np.ones(n, bool)
    keep[list(missing)] = False
    y = 50 + 10 * np.sin(2 * np.pi * t / 52.18) + np.random.default_rng(0).standard_normal(n)
    return pd.DataFrame({"week": pd.date_range("2000-01-03", periods=n, freq="W-MON")[keep], "y": y[keep]})


@pytest.mark.parametrize("source", SOURCES)
def test_a_weekly_file_with_missing_rows_keeps_its_frequency(source, tmp_path):
    data = as_source(weekly_series(), source, tmp_path)
    panel = read_panel(data, DataConfig(target="y", time_col="week", fill="interpolate"))
    assert panel.freq == "W-MON" and panel.series[0].n_filled == 5 and len(panel.series[0]) == 300


def test_doctor_gives_a_weekly_file_with_missing_rows_its_yearly_season(tmp_path):
    path = tmp_path / "weekly.csv"
    weekly_series().to_csv(path, index=False)
    result = invoke("doctor", path, "--target", "y", "--time-col", "week", "--fill", "interpolate", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["frequency"] == "W-MON" and report["season"] == 52


def test_a_weekly_run_with_missing_rows_trains_with_its_season(tmp_path):
    path = tmp_path / "weekly.csv"
    weekly_series().to_csv(path, index=False)
    options = ["--target", "y", "--time-col", "week", "--horizon", "8", "--lookback", "104", "--fill", "interpolate"]
    result = invoke("train", path, *options, *FAST, "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["freq"] == "W-MON" and config["season"] == 52
