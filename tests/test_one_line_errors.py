"""Odd input that ended in a traceback or a misleading message: each is one line, exit code 2 (a
ForecasterError from the API), naming what is wrong and what to do, before any work."""

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, SINE, invoke

from forecaster.api import Forecaster
from forecaster.errors import DataError, SettingsError


def refused(result, message):
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


@pytest.mark.parametrize("option", ["--target", "--time-col", "--id-col"])
def test_an_empty_column_name_is_refused_as_an_option_and_in_a_config(sine_csv, tmp_path, option):
    base = [a for a in SINE if a != option]
    given = SINE[SINE.index(option) + 1] if option in SINE else None
    if given is not None:
        base.remove(given)
    refused(invoke("train", sine_csv, *base, option, "", *FAST, "--out", tmp_path / "run"), "must be a column's name")
    config = tmp_path / "config.toml"
    config.write_text(f'[data]\n{option[2:].replace("-", "_")} = ""\n')
    refused(invoke("train", sine_csv, *base, "--config", config, *FAST, "--out", tmp_path / "run"), "not empty")
    assert not (tmp_path / "run").exists()


def test_an_infinite_time_step_is_one_line(tmp_path):
    data = tmp_path / "steps.csv"
    pd.DataFrame({"time": np.r_[np.arange(59.0), np.inf], "y": np.arange(60.0)}).to_csv(data, index=False)
    refused(invoke("doctor", data, "--target", "y", "--time-col", "time"), "row 61, column 'time': 'inf' is not a time")


def series_frame():
    return pd.DataFrame({"id": "a", "time": pd.date_range("2024-01-01", periods=60, freq="D"), "y": np.arange(60.0)})


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda f: pd.concat([f, f[["id"]]], axis=1), "column 'id' appears twice"),
        (lambda f: f.set_axis(pd.MultiIndex.from_product([["x"], f.columns]), axis=1), "a MultiIndex"),
        (lambda f: f.iloc[:0], "DataFrame: the frame has no rows"),
        (lambda f: __import__("pyarrow").Table.from_pandas(f), "got a pyarrow.Table; make it one with .to_pandas()"),
    ],
)
def test_odd_frames_are_one_line_from_the_api(make, message):
    model = Forecaster(horizon=5, target="y", time_col="time", id_col="id", epochs=1)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        model.fit(make(series_frame()))


def test_an_empty_frame_given_to_predict_is_called_empty(sine_csv, tmp_path):
    assert invoke("train", sine_csv, *SINE, *FAST, "--out", tmp_path / "run").exit_code == 0
    frame = pd.read_csv(sine_csv)
    with pytest.raises(DataError, match="the frame has no rows") as caught:
        Forecaster.load(tmp_path / "run").predict(frame.iloc[:0])
    assert "--freq" not in str(caught.value)


def test_an_empty_statistical_list_is_refused_and_the_network_alone_named(sine_csv, tmp_path):
    result = invoke("train", sine_csv, *SINE, *FAST[:-2], "--statistical", "", "--out", tmp_path / "run")
    refused(result, "--statistical must be one or more distinct names")
    assert "--select model" in result.output
    with pytest.raises(SettingsError, match="one or more"):
        Forecaster(horizon=5, target="y", statistical=())


def test_an_all_empty_future_column_is_named_whatever_fill_says(tmp_path):
    data = tmp_path / "future.csv"
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=60, freq="D"), "y": np.arange(60.0), "k": np.nan}).to_csv(
        data, index=False
    )
    for fill in ("error", "interpolate"):
        result = invoke("doctor", data, "--target", "y", "--time-col", "time", "--future", "k", "--fill", fill)
        refused(result, "column 'k': series 'series' has no value in that column at all")


def test_a_gap_names_its_column(tmp_path):
    data = tmp_path / "gap.csv"
    frame = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=60, freq="D"), "y": np.arange(60.0), "x": 1.0})
    frame.loc[7, "x"] = np.nan
    frame.to_csv(data, index=False)
    result = invoke("train", data, "--target", "y", "--time-col", "time", "--features", "x", "--horizon", "5", *FAST,
                    "--out", tmp_path / "run")  # fmt: skip
    refused(result, "(gaps or NaN cells, column 'x')")


def test_a_path_holding_a_newline_stays_one_line(tmp_path):
    data = tmp_path / "two\nlines.csv"
    data.write_text("time,y\n2024-01-01,1\n2024-01-02,oops\n")
    result = invoke("doctor", data, "--target", "y", "--time-col", "time")
    refused(result, "two\\nlines.csv: row 3, column 'y'")
