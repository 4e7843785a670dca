"""Forecasts and backtests on Dask and Ray (local clusters) equal `--engine local`'s; a panel in Parquet
shards is forecast shard by shard, and a series split between shards falls back to one read."""

import importlib.util
import json
import shutil

import pandas as pd
import pytest
from cli_helpers import PANEL, invoke, train
from conftest import write_panel

from forecaster.serving.checks import ENGINES, EXTRAS


def on(engine):
    """`engine` as a test parameter, skipped where its package (Spark: and Java) is not installed."""
    missing = importlib.util.find_spec(EXTRAS[engine].split(".")[0]) is None
    missing = missing or (engine == "spark" and shutil.which("java") is None)
    why = f"{engine} is not installed (pip install -e '.[{engine}]'{'; and Java' if engine == 'spark' else ''})"
    return pytest.param(engine, marks=pytest.mark.skipif(missing, reason=why))


EVERY_ENGINE = [on(engine) for engine in ENGINES if engine != "local"]  # a new engine is tested here unasked


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("engines")
    data = write_panel(root / "panel.csv")
    frame = pd.read_csv(data, float_precision="round_trip", dtype={"id": str}, parse_dates=["time"])
    shards = root / "shards"
    shards.mkdir()
    for k, (_, group) in enumerate(frame.groupby("id")):
        group.to_parquet(shards / f"part-{k:05d}.parquet", index=False)
    assert train(data, PANEL, root / "run", "--holdout", "10").exit_code == 0  # a tail for evaluate
    result = invoke("forecast", root / "run", "--data", data, "--out", root / "local.csv", "--level", "80")
    assert result.exit_code == 0, result.output
    result = invoke("evaluate", root / "run", "--data", data, "--out", root / "local_eval", "--folds", "2",
                    "--step", "5")  # fmt: skip
    assert result.exit_code == 0, result.output
    return root


def local_forecast(root):
    frame = pd.read_csv(root / "local.csv", float_precision="round_trip", dtype={"id": str}, parse_dates=["time"])
    return frame.sort_values(["id", "time"]).reset_index(drop=True)


@pytest.mark.parametrize("engine", EVERY_ENGINE)
@pytest.mark.slow
def test_an_engine_forecasts_every_series_as_local_does(trained, engine):
    out = trained / f"{engine}.csv"
    result = invoke("forecast", trained / "run", "--data", trained / "shards", "--out", out, "--level", "80",
                    "--engine", engine)  # fmt: skip
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out, float_precision="round_trip", dtype={"id": str}, parse_dates=["time"])
    expected = local_forecast(trained)
    assert got["id"].value_counts().eq(5).all() and len(got) == len(expected)  # every series once, horizon rows
    pd.testing.assert_frame_equal(got, expected, rtol=1e-5)  # the method column and the bands included


def close(got, expected, path=""):
    """Two metrics.json trees equal to 1e-9 (the engines add the windows up in another order)."""
    if isinstance(expected, dict):
        assert set(got) == set(expected), path
        for key in expected:
            close(got[key], expected[key], f"{path}/{key}")
    elif isinstance(expected, list):
        assert len(got) == len(expected), path
        for a, b in zip(got, expected):
            close(a, b, path)
    elif isinstance(expected, float):
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12, nan_ok=True), path
    else:
        assert got == expected, path


@pytest.mark.parametrize("engine", EVERY_ENGINE)
@pytest.mark.slow
def test_an_engine_backtests_as_local_does(trained, engine):
    out = trained / f"{engine}_eval"
    result = invoke("evaluate", trained / "run", "--data", trained / "shards", "--out", out, "--folds", "2",
                    "--step", "5", "--engine", engine)  # fmt: skip
    assert result.exit_code == 0, result.output
    close(json.loads((out / "metrics.json").read_text()), json.loads((trained / "local_eval/metrics.json").read_text()))
    windows, expected = (
        pd.read_csv(folder / "forecasts.csv", float_precision="round_trip", dtype={"id": str})
        .sort_values(["id", "cutoff", "time"])
        .reset_index(drop=True)
        for folder in (out, trained / "local_eval")
    )
    pd.testing.assert_frame_equal(windows, expected, rtol=1e-5)
    per_series = pd.read_csv(out / "per_series.csv").sort_values(["id", "method"]).reset_index(drop=True)
    local = pd.read_csv(trained / "local_eval/per_series.csv").sort_values(["id", "method"])
    pd.testing.assert_frame_equal(per_series, local.reset_index(drop=True), rtol=1e-9)


@pytest.mark.slow
def test_the_api_takes_a_dask_frame(trained):
    import dask.dataframe as dd

    from forecaster.api import Forecaster

    frame = pd.read_csv(trained / "panel.csv", float_precision="round_trip", dtype={"id": str}, parse_dates=["time"])
    got = Forecaster.load(trained / "run").predict(dd.from_pandas(frame, npartitions=2), level=80)
    pd.testing.assert_frame_equal(got, local_forecast(trained), rtol=1e-5)


def test_a_series_split_between_shards_is_read_whole(trained, tmp_path):
    from forecaster.io.readers.parquet import series_shards

    frame = pd.read_parquet(trained / "shards")
    split = tmp_path / "split"
    split.mkdir()
    frame.iloc[: len(frame) // 2].to_parquet(split / "a.parquet", index=False)  # one series in both halves
    frame.iloc[len(frame) // 2 :].to_parquet(split / "b.parquet", index=False)
    assert series_shards(split, "id") is None
    assert [ids for _, ids in series_shards(trained / "shards", "id")] == [{"a"}, {"b"}, {"c"}]
    out = tmp_path / "split.csv"
    assert invoke("forecast", trained / "run", "--data", split, "--out", out, "--level", "80").exit_code == 0
    got = pd.read_csv(out, float_precision="round_trip", dtype={"id": str}, parse_dates=["time"])
    pd.testing.assert_frame_equal(got.sort_values(["id", "time"]).reset_index(drop=True), local_forecast(trained))


@pytest.mark.parametrize(
    "options, message",
    [
        (["--engine", "hadoop"], "choose one of local, dask, ray, spark"),
        (["--address", "tcp://10.0.0.1:8786"], "give --engine dask, ray or spark too"),
        (["--engine", "dask", "--plot", "p.png"], "--engine local only"),
        # issue 30: malformed addresses ended in tracebacks, and Ray retried an unanswered one for minutes
        (["--engine", "dask", "--address", "bogus::addr"], "is not a dask address"),
        (["--engine", "dask", "--address", "ray://127.0.0.1:1"], "is not a dask address"),
        (["--engine", "ray", "--address", "http://127.0.0.1:1"], "is not a ray address"),
        (["--engine", "ray", "--address", "127.0.0.1:1"], "nothing answers at 127.0.0.1:1"),
        (["--engine", "dask", "--address", "tcp://127.0.0.1:1"], "nothing answers at 127.0.0.1:1"),
    ],
)
def test_engine_options_are_checked_before_any_work(trained, options, message):
    result = invoke("forecast", trained / "run", "--data", trained / "shards", *options)
    assert result.exit_code == 2 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_shard_is_read_a_block_of_whole_series_at_a_time(tmp_path):
    from forecaster.io.readers.parquet import series_blocks, series_shards

    frame = pd.DataFrame({"id": ["a"] * 3 + ["b"] * 7 + ["c"] * 2, "y": range(12)})
    frame.to_parquet(tmp_path / "one.parquet", index=False)
    frame.assign(id=frame["id"] + "2").to_parquet(tmp_path / "two.parquet", index=False)
    shards = [tmp_path / "one.parquet", tmp_path / "two.parquet"]
    blocks = list(series_blocks(shards, {"id", "y"}, "id", ("id",), rows=5))
    # b, longer than 5 rows, whole; a frame's index numbers its rows in their shard (as errors name them)
    assert [sorted(set(block["id"])) for _, block in blocks] == [["a"], ["b"], ["c"], ["a2"], ["b2"], ["c2"]]
    assert [where.name for where, _ in blocks] == ["one.parquet"] * 3 + ["two.parquet"] * 3
    assert [block.index[0] for _, block in blocks] == [0, 3, 10] * 2
    both = pd.concat([frame, frame.assign(id=frame["id"] + "2")], ignore_index=True)
    joined = pd.concat([block for _, block in blocks]).astype({"id": str}).reset_index(drop=True)
    pd.testing.assert_frame_equal(joined, both)
    assert [ids for _, ids in series_shards(tmp_path, "id")] == [{"a", "b", "c"}, {"a2", "b2", "c2"}]
    frame.iloc[[0, 3, 1, 2]].to_parquet(tmp_path / "two.parquet", index=False)  # series a's rows apart (and in both)
    assert series_shards(tmp_path, "id") is None


def test_reading_ahead_keeps_order_raises_in_turn_and_stops_its_thread():
    import threading

    from forecaster.serving.predict import read_ahead

    assert list(read_ahead(iter(range(10)), depth=3)) == list(range(10))

    def failing():
        yield 1
        raise ValueError("bad block")

    got = read_ahead(failing())
    assert next(got) == 1
    with pytest.raises(ValueError, match="bad block"):
        next(got)
    endless = read_ahead(iter(range(10**9)), depth=2)
    assert next(endless) == 0
    endless.close()  # the caller stops early: the thread ends
    assert not any(t.name == "read-ahead" and t.is_alive() for t in threading.enumerate())


@pytest.mark.parametrize("engine", ["dask", "ray"])
@pytest.mark.slow
def test_a_bad_row_on_an_engine_is_one_line_naming_the_files_line(trained, tmp_path, engine):
    """Under Dask a bad row printed a 22-line block, and its row was the partition's; under Ray a DataError
    was not recognised as the user's through Ray's wrapping (a multi-line traceback)."""
    if importlib.util.find_spec(engine) is None:
        pytest.skip(f"the {engine} extra")
    lines = (trained / "panel.csv").read_text().splitlines(keepends=True)
    lines[131] = lines[131].rsplit(",", 1)[0] + ",abc\n"  # file line 132
    bad = tmp_path / "bad.csv"
    bad.write_text("".join(lines))
    result = invoke("forecast", trained / "run", "--data", bad, "--engine", engine, "--out", tmp_path / "fc.csv")
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "row 132, column 'y'" in result.output and result.output.count("error:") == 1, result.output
    assert len(result.output.strip().splitlines()) == 2  # the progress line, and the error
    assert not (tmp_path / "fc.csv").exists()


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the ray extra")
def test_ray_prints_only_the_commands_own_lines(trained, tmp_path):
    """Issue 30: a Ray forecast printed ~50 INFO lines of Ray Data's progress (a process of its own: Ray's
    loggers write to the real stderr). In the slow tier: a Ray start takes most of a minute here."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "forecaster.cli", "forecast", str(trained / "run"), "--data",
               str(trained / "panel.csv"), "--engine", "ray", "--out", str(tmp_path / "fc.csv")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.strip().splitlines() == ["forecasting on ray: whole series a partition"], done.stderr[-3000:]
