"""Hostile and odd inputs: config files, huge headers and steps, tampered runs, formula-like ids, killed and
interrupted commands, full disks, bounded resources. Every case ends in one line, exit code 2, no traceback,
and nothing written."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, SINE, dead_pid, invoke, train
from test_outputs import rehash


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    """A 200-point hourly sine with noise (so its calibration table is not all zeros) and a run on it."""
    root = tmp_path_factory.mktemp("noisy")
    n = 200
    t = np.arange(n)
    values = 10 + np.sin(2 * np.pi * t / 24) + 0.3 * np.random.default_rng(0).standard_normal(n)
    data = root / "sine.csv"
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"), "y": values}).to_csv(data, index=False)
    assert train(data, SINE, root / "run").exit_code == 0
    return data, root / "run"


def _one_line_refusal(result, message):
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output, result.output


# item 17: --config must be a regular file of bounded size
def test_config_must_be_a_regular_file_of_bounded_size(sine_csv, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * (2 << 20) + b"\n")
    for config, message in (("/dev/zero", "not a regular file"), (fifo, "not a regular file"), (big, "over 1 MiB")):
        result = invoke("train", sine_csv, *SINE, *FAST, "--config", config, "--out", tmp_path / "run")
        _one_line_refusal(result, message)
    assert not (tmp_path / "run").exists()


# item 19: tracebacks on odd settings
@pytest.mark.parametrize(
    "content,message",
    [
        (b"data = 5\n", "data must be a table of settings"),
        (b"[model]\ncalendar = 5\n", "--calendar must be"),
        (b'[model]\nuse_cudnn = "maybe"\n', "[model] use_cudnn: not a setting a config can give"),
        (b'[data]\ntarget = "\xff"\n', "not UTF-8 text"),
    ],
)
def test_odd_config_files_are_one_line(sine_csv, tmp_path, content, message):
    config = tmp_path / "bad.toml"
    config.write_bytes(content)
    result = invoke("train", sine_csv, *SINE, *FAST, "--config", config, "--out", tmp_path / "run")
    _one_line_refusal(result, message)
    assert not (tmp_path / "run").exists()


def test_a_seed_past_2_to_the_32_is_refused_before_work(sine_csv, tmp_path):
    result = invoke("train", sine_csv, *SINE, *FAST, "--seed", 2**32, "--out", tmp_path / "run")
    _one_line_refusal(result, "--seed must be a whole number from 0 to 4294967295")


def test_a_file_with_cr_only_line_endings_is_read(sine_csv, tmp_path):
    old_mac = tmp_path / "cr.csv"
    old_mac.write_bytes(sine_csv.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    result = invoke("doctor", old_mac, "--target", "y", "--time-col", "time")
    assert result.exit_code == 0 and "1 series, 200 points, frequency h" in result.output, result.output


# item 16: a grid far larger than the rows is refused before it is allocated, naming the row
def test_one_huge_step_is_refused_before_allocating_the_grid(tmp_path):
    steps = tmp_path / "steps.csv"
    steps.write_text("time,y\n" + "".join(f"{t},{t % 7}\n" for t in range(1, 40)) + "1000000000000,3\n")
    result = invoke("doctor", steps, "--target", "y", "--time-col", "time")
    _one_line_refusal(result, "row 41: series 'series' jumps from 39 to 1000000000000")
    typo = tmp_path / "typo.csv"
    hours = pd.date_range("2026-01-01", periods=300, freq="h").astype(str).tolist()
    hours[-1] = hours[-1].replace("2026", "2260")
    typo.write_text("time,y\n" + "".join(f"{h},{i % 5}\n" for i, h in enumerate(hours)))
    result = invoke("doctor", typo, "--target", "y", "--time-col", "time", "--fill", "interpolate")
    _one_line_refusal(result, "row 301: series 'series' jumps from 2026-01-13 10:00:00 to 2260-01-13 11:00:00")


# item 17's regression: a header with one enormous name
def test_a_header_with_a_two_million_character_name_is_one_line(tmp_path):
    data = tmp_path / "long.csv"
    data.write_text("time," + "x" * 2_000_000 + "\n")
    result = invoke("doctor", data, "--target", "y", "--time-col", "time")
    _one_line_refusal(result, "a column name over 131,072 characters")


def test_a_large_file_without_line_breaks_is_refused_after_one_block(tmp_path):
    sparse = tmp_path / "sparse.csv"
    with open(sparse, "wb") as handle:  # 5 GB of zeros, sparse: refused at the first block, not read whole
        handle.truncate(5 << 30)
    result = invoke("doctor", sparse, "--target", "y")
    _one_line_refusal(result, "not a text CSV file")


# item 13: tampered runs
def _tampered(noisy, tmp_path, damage, level):
    data, good = noisy
    run = tmp_path / "run"
    shutil.copytree(good, run)
    damage(run)
    return invoke("forecast", run, "--data", data, "--out", tmp_path / "fc.csv", *(["--level", "95"] if level else []))


def _edit(run, name, change, unlist=False):
    content = json.loads((run / name).read_text())
    change(content)
    (run / name).write_text(json.dumps(content))
    manifest = rehash(run)
    if unlist:
        manifest["files"].pop(name)
        (run / "manifest.json").write_text(json.dumps(manifest))


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def change(content):
        for key in keys[:-1]:
            content = content[key]
        content[keys[-1]] = value

    return change


TAMPERED = {
    "calibration zeroed and unlisted": (
        lambda run: _edit(
            run, "calibration.json", lambda c: c.update(pooled=np.zeros_like(c["pooled"]).tolist()), True
        ),
        "its manifest does not list calibration.json",
    ),
    "calibration reversed and rehashed": (
        lambda run: _edit(run, "calibration.json", lambda c: c.update(pooled=[r[::-1] for r in c["pooled"]])),
        "a higher level with a narrower band",
    ),
    "selection removed with its entry": (
        lambda run: (
            (run / "selection.json").unlink(),
            _edit(run, "manifest.json", lambda m: m["files"].pop("selection.json")),
        ),
        "its manifest does not list selection.json",
    ),
    "model a symlink out of the run": (
        lambda run: (
            shutil.move(run / "model.keras", run.parent / "elsewhere.keras"),
            (run / "model.keras").symlink_to(run.parent / "elsewhere.keras"),
        ),
        "a symbolic link, not a file of the run",
    ),
    "manifest a list": (lambda run: (run / "manifest.json").write_text("[1,2,3]"), "must be objects"),
    "scalers n_fit text": (lambda run: _edit(run, "scalers.json", _set("series", "n_fit", "abc")), "whole numbers"),
    "scaler with two centers": (
        lambda run: _edit(
            run, "scalers.json", lambda s: s["series"].update(center=[1.0, 2.0], scale=[1.0, 1.0])
        ),  # fmt: skip
        "2 scaler columns, the model 1",
    ),
    "season 0": (lambda run: _edit(run, "config.json", _set("season", 0)), "season '0' is not a whole number"),
    "season -3": (lambda run: _edit(run, "config.json", _set("season", -3)), "season '-3'"),
    "season 1e12": (lambda run: _edit(run, "config.json", _set("season", 10**12)), "season '1000000000000'"),
    "season text": (lambda run: _edit(run, "config.json", _set("season", "x")), "season 'x'"),
    "horizon 9": (
        lambda run: _edit(run, "config.json", _set("run", "window", "horizon", 9)),
        "a horizon of 9, the model takes 24 and forecasts 6",
    ),
    "horizon 14 in both": (
        lambda run: _edit(run, "config.json", lambda c: [c["run"][s].update(horizon=14) for s in ("window", "model")]),
        "a horizon of 14, the model takes 24 and forecasts 6",
    ),
    "lookback 56": (
        lambda run: _edit(run, "config.json", _set("run", "window", "lookback", 56)),
        "windows of 56 steps",
    ),
}


@pytest.mark.parametrize("name", list(TAMPERED))
def test_a_tampered_run_is_a_damaged_run(noisy, tmp_path, name):
    damage, message = TAMPERED[name]
    result = _tampered(noisy, tmp_path, damage, level="calibration" in name)
    _one_line_refusal(result, message)
    assert not (tmp_path / "fc.csv").exists() and not (tmp_path / "fc.png").exists()


# item 15: formula injection in every CSV we write
FORMULAS = ["=HYPERLINK(1)", "+1+1", "-2+3", "@SUM(1)"]


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    """A panel whose ids look like spreadsheet formulas (and one negative number), trained with a tail kept
    out for evaluate."""
    root = tmp_path_factory.mktemp("injected")
    rng = np.random.default_rng(2)
    times = pd.date_range("2024-01-01", periods=80, freq="D")
    frames = [
        pd.DataFrame({"id": sid, "time": times, "y": 5 + np.sin(np.arange(80) / 3) + 0.2 * rng.standard_normal(80)})
        for sid in [*FORMULAS, "-5"]
    ]
    data = root / "panel.csv"
    pd.concat(frames).to_csv(data, index=False)
    options = ["--target", "y", "--time-col", "time", "--id-col", "id", "--horizon", "6", "--lookback", "14"]
    assert train(data, options, root / "run", "--holdout", "12").exit_code == 0
    return data, root / "run"


def _first_cells(path):
    return {line.split(",")[0] for line in path.read_text().splitlines()[1:]}


def test_ids_that_look_like_formulas_are_written_as_text(injected, tmp_path):
    data, run = injected
    assert invoke("forecast", run, "--data", data, "--out", tmp_path / "fc.csv").exit_code == 0
    result = invoke("evaluate", run, "--data", data, "--folds", "3", "--out", tmp_path / "eval")
    assert result.exit_code == 0, result.output
    for written in (tmp_path / "fc.csv", tmp_path / "eval" / "forecasts.csv", tmp_path / "eval" / "per_series.csv"):
        cells = _first_cells(written)
        assert {"'" + formula for formula in FORMULAS} | {"-5"} <= cells, (written, cells)
        assert not cells & set(FORMULAS), written
    # item 21: per_series.csv names the series by the data's id column, as forecasts.csv and the forecast do
    assert (tmp_path / "eval" / "per_series.csv").read_text().startswith("id,method,windows,")
    # item 21: --folds 3 where the kept tail holds 2 windows a series is said, not silently 2
    assert "--folds 3: 5 of 5 series have fewer windows" in result.output and "as few as 2" in result.output


def test_csv_safe_leaves_numbers_and_plain_text_alone():
    from forecaster.io.files import csv_safe

    frame = pd.DataFrame(
        {"id": pd.Categorical(["=A1", "b", "-1.5"]), "note": ["@x", "ok", "\tcmd"], "forecast": [-1.0, 2.0, 3.0]}
    )
    safe = csv_safe(frame)
    assert list(safe["id"]) == ["'=A1", "b", "-1.5"] and list(safe["note"]) == ["'@x", "ok", "'\tcmd"]
    assert list(safe["forecast"]) == [-1.0, 2.0, 3.0] and list(frame["id"]) == ["=A1", "b", "-1.5"]


# a run folder is never the output of another command (issue 30, data loss)
def test_a_run_directory_is_never_an_evaluation_or_export_target(noisy, tmp_path):
    data, good = noisy
    run, other = tmp_path / "run", tmp_path / "other"
    shutil.copytree(good, run)
    shutil.copytree(good, other)
    before = sorted(p.name for p in run.iterdir())
    for args in (
        ("evaluate", run, "--data", data, "--folds", "1", "--out", run),
        ("export", run, "--out", run),
        ("evaluate", run, "--data", data, "--out", other),
    ):
        _one_line_refusal(invoke(*args), "holds a forecaster run directory")
    assert sorted(p.name for p in run.iterdir()) == before and (other / "model.keras").is_file()


# item 19: the Python API's odd arguments
def test_the_api_refuses_odd_arguments_in_one_line(noisy, tmp_path):
    from forecaster import Forecaster
    from forecaster.errors import ForecasterError

    data, run = noisy
    model = Forecaster.load(run)
    (tmp_path / "adir").mkdir()
    cases = [
        (lambda: model.backtest(data, folds=1.5), "--folds and --step must be whole numbers"),
        (lambda: model.predict(data, out=tmp_path / "adir"), "is a directory"),
        (lambda: model.predict(data, out=""), "out '': give a file path"),
        (lambda: model.predict(data, level=None), "not None"),
    ]
    for call, message in cases:
        with pytest.raises(ForecasterError, match=message):
            call()
    assert list(model.predict(data, level=80).columns)[3:5] == ["lo_80", "hi_80"]


def test_a_plot_path_that_is_not_png_is_refused_before_the_forecast_is_written(noisy, tmp_path):
    data, run = noisy
    result = invoke("forecast", run, "--data", data, "--out", tmp_path / "fc.csv", "--plot", tmp_path / "x.txt")
    _one_line_refusal(result, "plots are PNG images")
    assert not list(tmp_path.iterdir())


# item 20: an all-empty column cannot be filled, and says so
def test_a_series_with_no_values_is_refused_by_doctor_and_train_alike(tmp_path):
    rows = [
        (sid, t, np.nan if sid == "b" else i % 7)
        for sid in "ab"
        for i, t in enumerate(pd.date_range("2024-01-01", periods=60))
    ]
    data = tmp_path / "empty.csv"
    pd.DataFrame(rows, columns=["id", "time", "y"]).to_csv(data, index=False)
    options = ["--target", "y", "--time-col", "time", "--id-col", "id", "--fill", "interpolate"]
    said = "row 62, column 'y': series 'b' has no value in that column at all"
    _one_line_refusal(invoke("train", data, *options, "--horizon", "3", *FAST), said)
    doctor = invoke("doctor", data, *options)  # doctor reports the series it can read and lists the problem
    assert doctor.exit_code == 2 and f"problem: {data}: {said}" in doctor.output, doctor.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv"]


def test_doctor_names_the_fill_policy_given(tmp_path):
    data = tmp_path / "gaps.csv"
    data.write_text("time,y\n" + "".join(f"2024-01-{d:02d},{'' if d == 9 else d}\n" for d in range(1, 29)))
    result = invoke("doctor", data, "--target", "y", "--time-col", "time", "--fill", "ffill")
    assert result.exit_code == 0 and "filled 1 missing value(s) by ffill" in result.output, result.output


def test_a_killed_fit_leaves_nothing_the_next_start_does_not_clean(noisy, tmp_path):
    """A fit without `out` trains into a temporary run named by its process; what a kill -9 left is removed by
    the next one. A DataFrame is never copied to a file, so forecasting one leaves nothing behind."""
    import subprocess
    import sys
    import tempfile

    from forecaster import Forecaster

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    debris = Path(tempfile.gettempdir()) / f"forecaster-run-{int(gone.stdout)}-x"
    debris.mkdir(exist_ok=True)
    (debris / "model.keras").write_text("half a run\n")
    data, run = noisy
    frame = pd.read_csv(data)
    ours = lambda: sorted(Path(tempfile.gettempdir()).glob("forecaster-*"))  # noqa: E731
    before = ours()
    Forecaster.load(run).predict(frame)
    assert ours() == before  # nothing written for the frame
    fitted = Forecaster(target="y", time_col="time", horizon=6, lookback=24, epochs=1, layers=(8,), ensemble=1,
                        select="model").fit(frame)  # fmt: skip
    assert not debris.exists()
    fitted._discard()


# item 21: smaller confusions
def test_a_five_thousand_character_id_gives_a_short_error(tmp_path):
    long_id = "s" * 5000
    data = tmp_path / "long.csv"
    data.write_text("id,time,y\n" + "".join(f"{long_id},2024-01-{min(d, 27):02d},{d}\n" for d in range(1, 29)))
    result = invoke("train", data, "--target", "y", "--time-col", "time", "--id-col", "id", "--horizon", "3")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.output.strip()) < 300 and "..." in result.output, result.output[:400]
    doctor = invoke("doctor", data, "--target", "y", "--time-col", "time", "--id-col", "id")  # a report
    assert doctor.exit_code == 2 and max(len(line) for line in doctor.output.splitlines()) < 300, doctor.output[:400]


def test_dataframe_errors_name_the_frame_and_a_datetime_index_is_the_time(noisy, tmp_path):
    from forecaster import Forecaster
    from forecaster.errors import ForecasterError

    data, run = noisy
    frame = pd.read_csv(data, parse_dates=["time"])
    model = Forecaster.load(run)
    with pytest.raises(ForecasterError) as refused:
        model.predict(frame.rename(columns={"y": "SST"}))
    assert str(refused.value).startswith("DataFrame: no target column 'y'"), str(refused.value)
    assert "forecaster-data" not in str(refused.value)
    indexed = frame.set_index("time")
    np.testing.assert_allclose(model.predict(indexed)["forecast"], model.predict(frame)["forecast"])
    indexed.index.name = None
    np.testing.assert_allclose(model.predict(indexed)["forecast"], model.predict(frame)["forecast"])


def test_a_config_list_given_as_text_is_one_name(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[data]\nfeatures = "date"\n')
    data = tmp_path / "d.csv"
    data.write_text("time,y\n" + "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, 29)))
    result = invoke("doctor", data, "--target", "y", "--time-col", "time", "--config", config)
    _one_line_refusal(result, "'date'")
    assert "'d'" not in result.output


def test_counts_of_zero_are_refused_by_the_option_itself(noisy, tmp_path):
    data, run = noisy
    for args in (
        ("evaluate", run, "--data", data, "--folds", "0"),
        ("evaluate", run, "--data", data, "--step", "0"),
        ("tune", data, *SINE, "--max-trials", "0", "--out", tmp_path / "t"),
    ):
        result = invoke(*args)
        assert result.exit_code == 2 and "0 is not in the range x>=1" in result.output, result.output
    assert not (tmp_path / "t").exists()


def test_duplicate_times_in_a_file_read_as_one_series_hint_at_id_col(tmp_path):
    data = tmp_path / "two.csv"
    data.write_text("store,time,y\n" + "".join(f"{s},2024-01-{d:02d},{d}\n" for s in "ab" for d in range(1, 29)))
    result = invoke("doctor", data, "--target", "y", "--time-col", "time")
    _one_line_refusal(result, "name their id column with --id-col")


def test_target_help_says_wide_files_need_none():
    result = invoke("train", "--help")
    assert "[required, except with --wide]" in " ".join(result.output.split())


def test_the_python_api_prints_no_tensorflow_start_up_lines(noisy):
    import subprocess
    import sys

    data, run = noisy
    script = f"from forecaster import Forecaster; Forecaster.load({str(run)!r}).predict({str(data)!r})"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not [line for line in done.stderr.splitlines() if line[:5] in ("E0000", "W0000", "I0000")], done.stderr


# issue 30, outputs: SIGTERM and a second command on the same --out
def test_sigterm_ends_a_command_cleanly_and_leaves_no_staging(sine_csv, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    command = [sys.executable, "-m", "forecaster.cli", "train", str(sine_csv), *SINE, "--epochs", "500",
               "--patience", "500", "--ensemble", "1", "--select", "model", "--out", str(tmp_path / "run")]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        if line.startswith("training on"):
            break
    time.sleep(2)
    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate(timeout=120)
    assert process.returncode == 143, rest
    assert "terminated: nothing was written over earlier results" in rest and "Traceback" not in rest, rest
    assert not list(tmp_path.glob(".run.tmp-*")) and not (tmp_path / "run").exists()


def test_a_sigterm_a_library_reports_as_its_own_error_still_ends_the_command_cleanly(capsys):
    """A SIGTERM that lands while TensorFlow traces a graph comes out of its C++ as a RuntimeError ("... REPLACED BY
    Terminated"), not as the command's Terminated: it still exits 143 with the one line, no traceback."""
    import signal
    import threading
    import time

    from forecaster.cli import Terminated, user_errors

    assert threading.current_thread() is threading.main_thread()  # else no handler: the signal would end pytest

    def probe() -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises here
        except Terminated:
            raise RuntimeError("MISMATCH of exception types: REPLACED BY Terminated") from None

    with pytest.raises(SystemExit) as ended:
        user_errors(probe)()
    assert ended.value.code == 143
    assert "terminated: nothing was written over earlier results" in capsys.readouterr().err

    def broken() -> None:
        raise RuntimeError("a library's own error, no signal")

    with pytest.raises(RuntimeError, match="no signal"):  # without a SIGTERM an error stays what it is
        user_errors(broken)()


def test_another_commands_live_staging_is_not_taken_for_debris(noisy, tmp_path):
    data, run = noisy
    live = tmp_path / f".fc.tmp-{os.getpid()}-live.csv"  # a forecast writing now (this process is alive)
    live.write_text("being written")
    dead = tmp_path / f".fc.tmp-{dead_pid()}-gone.csv"
    dead.write_text("left by a killed forecast")
    assert invoke("forecast", run, "--data", data, "--out", tmp_path / "fc.csv").exit_code == 0
    assert live.exists() and not dead.exists()


def test_an_exactly_periodic_series_says_mase_is_undefined_instead_of_printing_10_to_the_14(tmp_path):
    n = 200
    data = tmp_path / "periodic.csv"
    values = 10 + np.sin(2 * np.pi * np.arange(n) / 24)  # seasonal naive's in-sample error: rounding only
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"), "y": values}).to_csv(data, index=False)
    result = train(data, SINE, tmp_path / "run", "--holdout", "12")
    assert result.exit_code == 0, result.output
    assert "MASE and MSIS are undefined for 1 series" in result.output
    assert (
        max(float(word) for word in result.output.replace(",", " ").split() if word[:1].isdigit() and "." in word) < 1e6
    )
    result = invoke(
        "evaluate", tmp_path / "run", "--data", data, "--folds", "2", "--level", "95", "--out", tmp_path / "e"
    )
    assert result.exit_code == 0 and "MASE and MSIS are undefined for 1 series" in result.output, result.output
    report = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert report["zero_scale_series"] == 1 and report["conformal"]["95"]["msis"] < 1e6


def test_times_out_of_the_timestamp_range_and_decimal_years_are_one_line(tmp_path):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    late = pa.array([dt.datetime(2300, 1, 1) + dt.timedelta(days=i) for i in range(60)], pa.timestamp("us"))
    pq.write_table(pa.table({"time": late, "y": [float(i % 7) for i in range(60)]}), tmp_path / "y2300.parquet")
    result = invoke("doctor", tmp_path / "y2300.parquet", "--target", "y", "--time-col", "time")
    _one_line_refusal(result, "row 2, column 'time': 2300-01-01 00:00:00 is outside the dates timestamps can hold")
    far = tmp_path / "far.csv"
    far.write_text("time,y\n" + "".join(f"9999-12-{d:02d},{d}\n" for d in range(1, 29)))
    result = invoke("doctor", far, "--target", "y", "--time-col", "time")
    _one_line_refusal(result, "cannot read '9999-12-01' as a date or time; dates must lie between 1677-09-21 and")
    years = tmp_path / "years.csv"
    years.write_text("id,time,y\n" + "".join(f"a,{1700 + k}.5,{k}\n" for k in range(30)))
    result = invoke("doctor", years, "--target", "y", "--time-col", "time", "--id-col", "id")
    _one_line_refusal(result, "row 2, column 'time': '1700.5' is not a whole time step")


def test_a_disk_that_fills_while_plotting_leaves_the_previous_csv_and_plot(noisy, tmp_path, monkeypatch):
    import errno

    import forecaster.serving.predict as predict
    from forecaster import Forecaster

    data, run = noisy
    model = Forecaster.load(run)
    model.predict(data, out=tmp_path / "fc.csv", level=80)
    before = {name: (tmp_path / name).read_bytes() for name in ("fc.csv", "fc.png")}

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(predict, "plot_forecasts", full)
    with pytest.raises(OSError):
        model.predict(data, out=tmp_path / "fc.csv")  # without --level: a different CSV, had it been written
    assert {name: (tmp_path / name).read_bytes() for name in ("fc.csv", "fc.png")} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fc.csv", "fc.png"]


def test_ids_na_and_null_are_ids_and_an_empty_one_is_still_refused(tmp_path):
    rows = "".join(f"{sid},2024-01-{d:02d},{'NA' if (sid, d) == ('a', 15) else d}\n" for sid in ("NA", "null", "a")
                   for d in range(1, 29))  # fmt: skip
    data = tmp_path / "ids.csv"
    data.write_text("id,time,y\n" + rows)
    options = ["--target", "y", "--time-col", "time", "--id-col", "id", "--fill", "interpolate"]
    result = invoke("doctor", data, *options)
    assert result.exit_code == 0 and "3 series" in result.output, result.output  # NA in y is still missing:
    assert "series 'a': filled 1 missing value(s)" in result.output  # filled
    data.write_text("id,time,y\n" + rows + ",2024-01-29,3\n")
    _one_line_refusal(invoke("doctor", data, *options), "row 86, column 'id': empty series id")


def test_an_export_onto_a_full_disk_is_one_line(noisy, tmp_path):
    from test_faults import small_disk

    _, run = noisy
    with small_disk(tmp_path / "disk", "64k") as disk:
        result = invoke("export", run, "--out", disk / "export")
        assert result.exit_code in (1, 2) and "Traceback" not in result.output, result.output
        assert "No space left on device" in result.output and result.output.count("error:") == 1, result.output
        assert not (disk / "export").exists() and not list(disk.glob(".export.tmp-*"))


def test_train_refuses_bad_data_before_tensorflow_loads(tmp_path):
    import subprocess
    import sys

    data = tmp_path / "bad.csv"
    data.write_text("time,y\n2024-01-01,1\n2024-01-02,abc\n")
    script = (
        "import sys\nfrom forecaster.cli import main\ntry:\n"
        f"    main(['train', {str(data)!r}, '--target', 'y', '--time-col', 'time', '--horizon', '3', '--out', "
        f"{str(tmp_path / 'run')!r}])\nexcept SystemExit as exc:\n    print('tensorflow' in sys.modules, exc.code)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False", "2"], done.stdout + done.stderr
    assert "row 3, column 'y': 'abc' is not a number" in done.stderr


def test_an_id_with_a_leading_space_is_its_own_series_as_in_parquet(tmp_path):
    rows = "".join(f"{sid},2024-01-{d:02d}, {d}\n" for sid in ("a", " a") for d in range(1, 29))
    data = tmp_path / "spaced.csv"
    data.write_text("id,time,y\n" + rows)
    result = invoke("doctor", data, "--target", "y", "--time-col", "time", "--id-col", "id")
    assert result.exit_code == 0 and "2 series, 56 points" in result.output, result.output
    frame = pd.read_csv(data, skipinitialspace=False, dtype={"id": str})
    frame.to_parquet(tmp_path / "spaced.parquet", index=False)
    result = invoke("doctor", tmp_path / "spaced.parquet", "--target", "y", "--time-col", "time", "--id-col", "id")
    assert result.exit_code == 0 and "2 series, 56 points" in result.output, result.output


def test_the_python_api_refuses_a_search_budget_below_zero(sine_csv, tmp_path):
    from forecaster import Forecaster
    from forecaster.errors import ForecasterError

    model = Forecaster(target="y", time_col="time", horizon=6, lookback=24)
    for budget, message in (({"max_minutes": -1}, "--max-minutes must be a finite number above 0"),
                            ({"max_trials": 0}, "--max-trials must be a whole number")):  # fmt: skip
        with pytest.raises(ForecasterError, match=message):
            model.tune(sine_csv, out=tmp_path / "t", **budget)
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize(
    "option,value,message",
    [
        ("--ensemble", "1000000", "--ensemble must be a whole number from 1 to 100"),
        ("--layers", "100000000", "at most 32 layers of at most 4096 units"),
        ("--series-embedding", "1000000000", "--series-embedding must be a whole number from 0 to 1024"),
        ("--quantiles", ",,,", "(none)"),
    ],
)
def test_resources_are_bounded_before_any_work(sine_csv, tmp_path, option, value, message):
    result = invoke("train", sine_csv, *SINE, *FAST, option, value, "--out", tmp_path / "run")
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output, result.output
    assert not (tmp_path / "run").exists()


def test_a_patch_longer_than_the_lookback_is_refused_before_the_lookback_is_rounded_to_it(sine_csv, tmp_path):
    result = invoke("train", sine_csv, *SINE[:6], *FAST, "--patch", "1000000000", "--out", tmp_path / "run")
    _one_line_refusal(result, "--patch 1000000000 is longer than the lookback")
    assert not (tmp_path / "run").exists()


STOPPED_FITS = """
import multiprocessing, signal, threading, time
import numpy as np
from forecaster.scoring import statistical

class Stop(BaseException):
    pass

def stop(signum, frame):
    raise Stop

def say_the_workers():
    while len(multiprocessing.active_children()) < 2:
        time.sleep(0.2)
    time.sleep(2)  # fitting by now
    print("workers", *[child.pid for child in multiprocessing.active_children()], flush=True)

signal.signal(signal.SIGTERM, stop)
rng = np.random.default_rng(0)
jobs = [("auto_arima", 50 + rng.normal(size=600).cumsum(), None) for _ in range(400)]
threading.Thread(target=say_the_workers, daemon=True).start()
with statistical.fit_processes(2):
    try:
        statistical.fit_each(jobs, 24, 24)
    except Stop:
        print("stopped", flush=True)
"""


def test_a_sigterm_during_statistical_fits_ends_their_workers_without_waiting_out_their_work(tmp_path):
    """A command stopped while its statistical fits run in worker processes (a wide panel's guard or
    combination) exits at once: what the workers had not begun is cancelled and the fits they were making end
    with them, rather than being waited out (400 AutoARIMA fits on 600 hourly points: many minutes)."""
    import signal
    import subprocess
    import sys

    script = tmp_path / "fits.py"
    script.write_text(STOPPED_FITS)
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    workers = [int(pid) for pid in process.stdout.readline().split()[1:]]
    assert len(workers) == 2
    process.send_signal(signal.SIGTERM)
    try:
        rest, _ = process.communicate(timeout=120)
    finally:
        process.kill()
    assert "stopped" in rest and process.returncode == 0
    for pid in workers:  # ended, not left fitting
        assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()
