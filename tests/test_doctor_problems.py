"""`doctor` lists every kind of problem a file has (a few rows of each) before it exits 2, and a file that mixes
frequencies is told so, naming a series of each."""

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import invoke

from forecaster.config import DataConfig
from forecaster.data.panel import read_panel
from forecaster.errors import DataError

COLUMNS = ["--target", "y", "--id-col", "id", "--time-col", "date"]


def troubled_file(path):
    """Four daily series: 'a' with two duplicate rows, 'b' with a two-day gap and an empty cell, 'c' with a cell
    that is not a number, 'd' with a time off the daily grid."""
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    parts = {
        sid: pd.DataFrame({"id": sid, "date": days.astype(str), "y": np.arange(60.0).astype(str)}) for sid in "abcd"
    }
    parts["a"] = pd.concat([parts["a"], parts["a"].iloc[[10, 20]]])
    parts["b"] = parts["b"].drop(index=[30, 31])
    parts["b"].loc[40, "y"] = ""
    parts["c"].loc[5, "y"] = "twelve"
    parts["d"].loc[45, "date"] = "2024-02-14 12:00:00"
    pd.concat(parts.values()).to_csv(path, index=False)
    return path


def test_doctor_lists_every_kind_of_problem_then_exits_2(tmp_path):
    path = troubled_file(tmp_path / "troubled.csv")
    result = invoke("doctor", path, *COLUMNS)
    assert result.exit_code == 2 and "Traceback" not in result.output
    problems = [line for line in result.output.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 4, result.output
    duplicates, not_a_number, irregular, gaps = (
        next(p for p in problems if words in p)
        for words in ("duplicate timestamp", "is not a number", "irregular step", "gaps or empty cells")
    )
    assert "row 62: duplicate timestamp 2024-01-11 in series 'a'" in duplicates
    assert "2 duplicate rows in all, e.g. rows 62, 63" in duplicates
    assert "column 'y': 'twelve' is not a number" in not_a_number
    assert "series 'd' has an irregular step at 2024-02-14 12:00:00" in irregular
    assert "left out of this report" in irregular
    assert "2 series have gaps or empty cells (b, c)" in gaps  # 'c''s cell that is not a number counts as empty
    report = json.loads(invoke("doctor", path, *COLUMNS, "--json").output)
    assert len(report["problems"]) == 4 and [s["series_id"] for s in report["series"]] == ["a", "b", "c"]


def test_training_still_refuses_the_first_problem(tmp_path):
    path = troubled_file(tmp_path / "troubled.csv")
    result = invoke("train", path, *COLUMNS, "--horizon", "5", "--out", tmp_path / "run")
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "is not a number" in result.output
    assert not (tmp_path / "run").exists()


def test_a_file_that_mixes_frequencies_is_told_so_naming_a_series_of_each(tmp_path):
    monthly = pd.DataFrame({"id": "usmelec", "date": pd.date_range("1973-01-01", periods=100, freq="MS"), "y": 1.0})
    weekly = pd.DataFrame({"id": "gas", "date": pd.date_range("1991-02-04", periods=400, freq="W-MON"), "y": 2.0})
    path = tmp_path / "mixed.csv"
    pd.concat([monthly, weekly]).to_csv(path, index=False)
    for command in (["doctor", path, *COLUMNS], ["train", path, *COLUMNS, "--horizon", "4", "--out", tmp_path / "r"]):
        result = invoke(*command)
        assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
        assert "the file mixes frequencies: series 'usmelec' steps MS (monthly, month starts), series 'gas' W-MON " in (
            result.output
        )
        assert "split the file by frequency" in result.output


@pytest.mark.parametrize("start", ["2020-01-01", "2020-04-01", "2020-10-01"])
def test_quarters_anchored_in_other_months_are_one_frequency(start):
    quarterly = [
        pd.DataFrame({"id": sid, "date": pd.date_range(first, periods=30, freq="QS"), "y": np.arange(30.0)})
        for sid, first in (("a", "2019-01-01"), ("b", start))
    ]
    panel = read_panel(pd.concat(quarterly), DataConfig(target="y", id_col="id", time_col="date"))
    assert len(panel.series) == 2 and panel.freq.startswith("QS")


def test_series_of_one_kind_on_two_weekdays_are_refused_as_before():
    weekly = [
        pd.DataFrame({"id": sid, "date": pd.date_range("2020-01-01", periods=60, freq=f"W-{day}"), "y": 1.0})
        for sid, day in (("a", "MON"), ("b", "TUE"))
    ]
    with pytest.raises(DataError, match="irregular step"):
        read_panel(pd.concat(weekly), DataConfig(target="y", id_col="id", time_col="date"))
