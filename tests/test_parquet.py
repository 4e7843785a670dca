"""Parquet in and out: a file or a directory of shards reads as the same CSV would; forecasts written as
Parquet are marked as ours, and a user's Parquet file is never replaced."""

import shutil

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from cli_helpers import PANEL, invoke, train
from conftest import write_panel


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("parquet")
    data = write_panel(root / "panel.csv")
    frame = pd.read_csv(data, float_precision="round_trip", dtype={"id": str}, parse_dates=["time"])
    frame.to_parquet(root / "panel.parquet", index=False)  # real timestamps, not text
    shards = root / "shards"
    shards.mkdir()
    for k, (_, group) in enumerate(frame.groupby("id")):
        group.to_parquet(shards / f"part-{k:05d}.parquet", index=False)
    (shards / "_SUCCESS").write_text("")  # what Spark leaves beside its shards
    assert train(data, PANEL, root / "run").exit_code == 0
    return root


def forecast(root, data, out, *extra):
    result = invoke("forecast", root / "run", "--data", data, "--out", out, *extra)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("source", ["panel.parquet", "shards"])
def test_a_parquet_file_or_directory_forecasts_as_the_csv_does(trained, source):
    forecast(trained, trained / "panel.csv", trained / "from_csv.csv", "--level", "80")
    forecast(trained, trained / source, trained / f"from_{source}.csv", "--level", "80")
    expected = pd.read_csv(trained / "from_csv.csv", float_precision="round_trip")
    got = pd.read_csv(trained / f"from_{source}.csv", float_precision="round_trip")
    pd.testing.assert_frame_equal(got, expected)


def test_training_and_doctor_read_a_directory_of_shards(trained):
    result = invoke("doctor", trained / "shards", *PANEL)
    assert result.exit_code == 0 and "3 series" in result.output, result.output
    assert train(trained / "shards", PANEL, trained / "run_from_shards").exit_code == 0


def test_a_parquet_forecast_is_marked_ours_and_a_users_parquet_is_never_replaced(trained):
    out = trained / "forecast.parquet"
    forecast(trained, trained / "panel.csv", out)
    forecast(trained, trained / "panel.csv", trained / "same.csv")
    table = pq.read_table(out)
    assert b"forecaster" in table.schema.metadata
    frame, expected = table.to_pandas(), pd.read_csv(trained / "same.csv", float_precision="round_trip")
    assert list(frame.columns) == list(expected.columns) and len(frame) == 15
    np.testing.assert_array_equal(frame["forecast"], expected["forecast"])
    assert (trained / "forecast.png").is_file()  # the plot beside it, as for a CSV
    forecast(trained, trained / "panel.csv", out)  # our own file: replaced
    users = trained / "users.parquet"
    pd.DataFrame({"forecast": [1.0], "method": ["x"]}).to_parquet(users)  # looks like ours, is not marked
    before = users.read_bytes()
    result = invoke("forecast", trained / "run", "--data", trained / "panel.csv", "--out", users)
    assert result.exit_code == 2 and "was not written by forecaster" in result.output
    assert users.read_bytes() == before


def test_a_damaged_parquet_file_is_one_line(trained):
    bad = trained / "bad.parquet"
    bad.write_bytes(b"PAR1 not really parquet")
    result = invoke("forecast", trained / "run", "--data", bad, "--out", trained / "never.csv")
    assert result.exit_code == 2 and "cannot read as Parquet" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (trained / "never.csv").exists()
    empty = trained / "empty_dir"
    empty.mkdir()
    result = invoke("forecast", trained / "run", "--data", empty)
    assert result.exit_code == 2 and "not a file" in result.output


def test_a_bad_row_in_a_later_shard_is_named_by_its_place_there_and_nothing_is_written(trained, tmp_path):
    """Shards are read and forecast a block at a time, the rows written as they come: an error in the last
    shard names that shard and the row within it, and no forecast (or staging debris) is left."""
    import shutil

    shards = tmp_path / "shards"
    shutil.copytree(trained / "shards", shards)
    last = sorted(shards.glob("*.parquet"))[-1]
    frame = pd.read_parquet(last)
    frame["y"] = frame["y"].astype(str)
    frame.loc[7, "y"] = "n/a"
    frame.to_parquet(last, index=False)
    out = tmp_path / "forecast.parquet"
    result = invoke("forecast", trained / "run", "--data", shards, "--out", out)
    assert result.exit_code == 2, result.output
    error = result.output.strip().splitlines()[-1]
    assert error.startswith(f"error: {last}: row 9") and "'y'" in error, error  # row 9 as a CSV's line: row 7 + 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shards"]


@pytest.mark.parametrize("unlike", ["renamed target", "other zone", "number ids"])
def test_shards_unlike_the_first_are_named_not_merged(trained, tmp_path, unlike):
    """Issue 30: a shard whose target column is named differently was read as empty and "filled"; shards
    in different zones were merged into one."""
    shards = tmp_path / "shards"
    shutil.copytree(trained / "shards", shards)
    last = sorted(shards.glob("*.parquet"))[-1]
    frame = pd.read_parquet(last)
    if unlike == "renamed target":
        frame = frame.rename(columns={"y": "value"})
    elif unlike == "number ids":
        frame["id"] = 7
    else:
        frame["time"] = frame["time"].dt.tz_localize("Europe/Paris")
        first = pd.read_parquet(sorted(shards.glob("*.parquet"))[0])
        first["time"] = first["time"].dt.tz_localize("UTC")
        first.to_parquet(sorted(shards.glob("*.parquet"))[0], index=False)
    frame.to_parquet(last, index=False)
    message = {"renamed target": "no column 'y', which part-00000.parquet has", "other zone": "in time zone none",
               "number ids": "column 'id' holds int64, part-00000.parquet's holds string"}[unlike]  # fmt: skip
    named = sorted(shards.glob("*.parquet"))[1] if unlike == "other zone" else last  # the first unlike shard
    for args in (
        ("doctor", shards, *PANEL[:6], "--fill", "ffill"),
        ("forecast", trained / "run", "--data", shards, "--out", tmp_path / "fc.csv"),
    ):
        result = invoke(*args)
        assert result.exit_code == 2 and message in result.output and str(named) in result.output, result.output
    assert not (tmp_path / "fc.csv").exists()


def test_a_forecast_is_never_written_into_the_shard_directory_it_reads(trained):
    result = invoke(
        "forecast", trained / "run", "--data", trained / "shards", "--out", trained / "shards" / "fc.parquet"
    )
    assert result.exit_code == 2 and "inside the input data's directory" in result.output, result.output
    assert not (trained / "shards" / "fc.parquet").exists()


def test_a_column_of_nested_values_is_one_line(tmp_path):
    import pyarrow as pa

    times = pa.array(pd.date_range("2024-01-01", periods=60, freq="D"))
    ids = pa.array([{"a": 1, "b": "x"}] * 60)
    pq.write_table(pa.table({"id": ids, "time": times, "y": [float(i % 7) for i in range(60)]}), tmp_path / "s.parquet")
    result = invoke("doctor", tmp_path / "s.parquet", "--target", "y", "--time-col", "time", "--id-col", "id")
    assert result.exit_code == 2 and "column 'id' holds nested values (struct<" in result.output, result.output
    assert "Traceback" not in result.output


def test_zoned_timestamps_in_shards_come_back_in_their_zone(tmp_path):
    """Issue 30: a directory of shards with zoned timestamps gave every output's times as naive UTC (one
    file and CSV kept the zone); across a daylight-saving change too."""
    hours = 24 * 70  # February to mid-April: the clocks go forward on 31 March
    times = pd.date_range("2024-02-01", periods=hours, freq="h", tz="Europe/Paris")
    values = 10 + np.sin(2 * np.pi * np.arange(hours) / 24) + 0.1 * np.random.default_rng(3).standard_normal(hours)
    shards = tmp_path / "shards"
    shards.mkdir()
    for sid in ("a", "b"):
        pd.DataFrame({"id": sid, "time": times, "y": values}).to_parquet(shards / f"{sid}.parquet", index=False)
    options = ["--target", "y", "--time-col", "time", "--id-col", "id", "--horizon", "6", "--lookback", "24"]
    assert train(shards, options, tmp_path / "run").exit_code == 0
    result = invoke("forecast", tmp_path / "run", "--data", shards, "--out", tmp_path / "fc.csv")
    assert result.exit_code == 0, result.output
    first = pd.read_csv(tmp_path / "fc.csv")["time"].iloc[0]
    assert first == str(times[-1] + pd.Timedelta(hours=1)), first  # ...+02:00, as the data writes it
