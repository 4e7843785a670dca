"""No output holds a NaN the user did not give: values the network cannot compute with are refused in one
line, a quality gate on a NaN score fails, and metrics.json is always valid JSON."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, PANEL, invoke
from conftest import write_panel

from forecaster.io.files import write_json
from forecaster.serving.finite import check_finite


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("finite")
    write_panel(root / "panel.csv")
    assert invoke("train", root / "panel.csv", *PANEL, *FAST, "--out", root / "run").exit_code == 0
    frame = pd.read_csv(root / "panel.csv")
    newer = []
    for sid, part in frame.groupby("id"):
        times = pd.date_range(part["time"].iloc[-1], periods=21, freq="D")[1:]
        newer.append(pd.DataFrame({"id": sid, "time": times.strftime("%Y-%m-%d"), "y": 1e149}))
    pd.concat([frame, *newer]).to_csv(root / "huge.csv", index=False)  # accepted: the reader's limit is 1e150
    return root


def strict_json(path):
    def refuse(token):
        raise ValueError(f"{token} is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_values_the_network_cannot_compute_with_are_refused_by_forecast_in_one_line(trained, tmp_path):
    out = tmp_path / "fc.csv"
    result = invoke("forecast", trained / "run", "--data", trained / "huge.csv", "--level", "80,95", "--out", out)
    assert result.exit_code == 2, result.output
    assert "series 'a' at 2024-05-30: a value more than 1e+09 times the series' training scale" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Warning" not in result.output
    assert not out.exists()


def test_evaluate_refuses_them_too_and_writes_nothing(trained, tmp_path):
    out = tmp_path / "ev"
    result = invoke("evaluate", trained / "run", "--data", trained / "huge.csv", "--fail-if-worse-than",
                    "seasonal_naive", "--out", out)  # fmt: skip
    assert result.exit_code == 2 and "training scale" in result.output, result.output
    assert not out.exists()


def test_a_quality_gate_on_a_nan_score_fails(trained, tmp_path, monkeypatch):
    from forecaster.api import Forecaster

    def undefined(self, data, **options):
        return {"overall": {"model": {"mase": math.nan}, "seasonal_naive": {"mase": 1.0}}}, None

    monkeypatch.setattr(Forecaster, "evaluate", undefined)
    monkeypatch.setattr("forecaster.serving.backtest.render_table", lambda report: "table")
    result = invoke("evaluate", trained / "run", "--data", trained / "panel.csv", "--fail-if-worse-than",
                    "seasonal_naive", "--out", tmp_path / "ev")  # fmt: skip
    assert result.exit_code == 1 and "quality gate failed: model MASE nan" in result.output, result.output


def test_metrics_json_is_strict_json_with_null_where_a_score_is_undefined(tmp_path):
    write_json(tmp_path / "m.json", {"mase": float("nan"), "by_step": [np.float32("inf"), 1.5], "n": (3, True)})
    assert strict_json(tmp_path / "m.json") == {"mase": None, "by_step": [None, 1.5], "n": [3, True]}


def test_an_evaluation_of_a_series_that_repeats_itself_writes_valid_json(tmp_path):
    """A series that repeats itself exactly has no MASE scale: its scores are undefined, never bare NaN."""
    t = np.arange(120)
    data = tmp_path / "periodic.csv"
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=120, freq="D"),
                  "y": 3 + np.sin(2 * np.pi * t / 7).round(6)}).to_csv(data, index=False)  # fmt: skip
    options = ["--target", "y", "--time-col", "time", "--horizon", "7", "--lookback", "28", "--holdout", "14"]
    assert invoke("train", data, *options, *FAST, "--out", tmp_path / "run").exit_code == 0
    result = invoke("evaluate", tmp_path / "run", "--data", data, "--folds", "2", "--out", tmp_path / "ev")
    assert result.exit_code == 0, result.output
    strict_json(tmp_path / "ev" / "metrics.json")
    strict_json(tmp_path / "run" / "metrics.json")


def test_a_forecast_that_is_not_finite_names_its_series():
    check_finite({"forecast": np.ones((2, 3))}, ["a", "b"], "data.csv")
    with pytest.raises(ValueError, match=r"data.csv: series 'b': its band is not a finite number"):
        check_finite({"band": np.array([[1.0, 2.0], [np.nan, 1.0]])}, ["a", "b"], "data.csv")
