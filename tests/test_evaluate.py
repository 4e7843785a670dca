import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import SINE, invoke, train


@pytest.fixture(scope="module")
def holdout_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("eval")
    n = 240
    t = np.arange(n)
    data = base / "sine.csv"
    pd.DataFrame(
        {"time": pd.date_range("2024-01-01", periods=n, freq="h"), "y": 10 + np.sin(2 * np.pi * t / 24)}
    ).to_csv(data, index=False)
    run = base / "run"
    result = train(data, SINE, run, "--holdout", "18", "--quantiles", "0.1,0.5,0.9")
    assert result.exit_code == 0, result.output
    return data, run


def test_backtest_scores_only_the_unseen_tail(holdout_run, tmp_path):
    data, run = holdout_run
    out = tmp_path / "ev"
    result = invoke("evaluate", run, "--data", data, "--folds", "5", "--step", "6", "--out", out)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "metrics.json").read_text())
    # 18 held-out points, horizon 6, step 6: origins 234, 228, 222 fit; 216 and 210 would overlap training
    assert report["windows"] == 3
    assert set(report["overall"]) == {"model", "naive", "seasonal_naive", "drift"}
    assert len(report["mae_by_step"]["model"]) == 6
    assert report["intervals"]["nominal_0.1_0.9"] == pytest.approx(0.8)
    assert 0.0 <= report["intervals"]["coverage_0.1_0.9"] <= 1.0
    per_series = pd.read_csv(out / "per_series.csv")
    assert set(per_series["method"]) == {"model", "naive", "seasonal_naive", "drift"}
    # a pure sine with season 24: seasonal naive is exact
    assert report["overall"]["seasonal_naive"]["mae"] == pytest.approx(0.0, abs=1e-9)
    for name in ("errors_by_step.png", "backtest.png"):
        assert (out / name).stat().st_size > 1000


def test_quality_gate_exits_1_when_the_model_loses(holdout_run, tmp_path):
    data, run = holdout_run
    result = invoke("evaluate", run, "--data", data, "--out", tmp_path / "ev", "--fail-if-worse-than", "seasonal_naive")
    assert result.exit_code == 1  # nothing beats a perfect seasonal naive on a pure sine
    assert "quality gate failed" in result.output


def test_refuses_when_there_is_no_unseen_data(sine_csv, tmp_path):
    run = tmp_path / "run"
    assert train(sine_csv, SINE, run).exit_code == 0
    result = invoke("evaluate", run, "--data", sine_csv, "--out", tmp_path / "ev")
    assert result.exit_code == 2 and "--holdout" in result.output
    assert not (tmp_path / "ev").exists()


def test_plots_show_distinct_series_in_their_own_time_with_every_baseline():
    from forecaster.data.series import Panel, Series
    from forecaster.scoring.validation import example_rows
    from forecaster.serving.backtest import plot_panels
    from forecaster.serving.requests import Backtest

    # validation windows: series 0 has many, series 2 none, series 1 and 3 a few -> one window each, the last
    series_idx = np.array([0, 0, 0, 0, 0, 1, 1, 3, 3])
    assert example_rows(series_idx) == [4, 6, 8]
    assert len(example_rows(np.repeat(np.arange(10), 3))) == 4  # 4 series of 10, never one twice

    start = pd.Timestamp("2024-01-01")
    panel = Panel([Series("a", start, "D", np.arange(40.0).reshape(-1, 1))], "D", "data.csv", [])
    forecasts = {name: np.ones((2, 5)) for name in ("model", "naive", "seasonal_naive", "drift")}
    bt = Backtest(np.array([0, 0]), np.array([30, 35]), np.ones((2, 5)), forecasts, np.ones(2), None)
    [drawn] = plot_panels(bt, panel, horizon=5, target="sales")
    assert drawn["target"] == "sales" and str(drawn["time"][0]).startswith("2024-01-21")
    window = drawn["windows"][1]
    assert set(window["forecasts"]) == {"model", "naive", "seasonal_naive", "drift"}
    assert str(window["time"][0]).startswith("2024-02-05")


def test_the_unseen_tail_is_found_by_time_when_older_rows_are_prepended(holdout_run, tmp_path):
    data, run = holdout_run
    frame = pd.read_csv(data)
    older = pd.DataFrame({"time": pd.date_range(end="2023-12-31 23:00", periods=100, freq="h"), "y": 10.0})
    longer = tmp_path / "longer.csv"
    pd.concat([older.astype({"time": str}), frame]).to_csv(longer, index=False)
    reports = []
    for given in (data, longer):
        out = tmp_path / given.stem
        assert invoke("evaluate", run, "--data", given, "--folds", "5", "--step", "6", "--out", out).exit_code == 0
        reports.append(json.loads((out / "metrics.json").read_text()))
    assert reports[0]["windows"] == reports[1]["windows"] == 3  # the same three windows after training's end
    assert reports[0]["overall"]["model"]["mae"] == pytest.approx(reports[1]["overall"]["model"]["mae"])
