import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, PANEL, SINE, invoke, train

RUN_FILES = [
    "model.keras",
    "config.json",
    "scalers.json",
    "history.csv",
    "metrics.json",
    "manifest.json",
    "loss.png",
    "validation.png",
]


@pytest.mark.parametrize("command", [[], ["doctor"], ["train"], ["forecast"], ["evaluate"], ["export"]])
def test_every_command_has_help(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.splitlines()) > 4


def test_help_does_not_import_tensorflow():
    code = (
        "import sys; from forecaster.cli import main; assert 'tensorflow' not in sys.modules; "
        "assert 'pandas' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "nope.csv", "--target", "y", "--horizon", "3"], "nope.csv: file not found"),
        (["train", "{data}", "--target", "y"], "--horizon is required"),
        (["tune", "{data}", "--horizon", "3"], "--target is required"),
        (["forecast", "no_run", "--data", "{data}"], "no_run: no such run directory"),
        (["forecast", "{run}", "--data", "{data}", "--level", "abc"], "--level takes percentages"),
    ],
)
def test_quick_refusals_come_before_tensorflow_loads(tmp_path, args, message):
    data, run = tmp_path / "d.csv", tmp_path / "run"
    data.write_text("y\n1\n")
    run.mkdir()
    args = [a.format(data=data, run=run) for a in args]
    code = (
        "import sys; from forecaster.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit as exit:\n    code = exit.code\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\nsys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_train_forecast_export_end_to_end(sine_csv, tmp_path):
    run = tmp_path / "run"
    result = train(sine_csv, SINE, run)
    assert result.exit_code == 0, result.output
    assert "seasonal naive" in result.output
    for name in RUN_FILES:
        assert (run / name).is_file(), name

    out = tmp_path / "fc.csv"
    result = invoke("forecast", run, "--data", sine_csv, "--out", out, "--plot", tmp_path / "fc.png")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["series", "time", "forecast", "method"] and len(frame) == 6
    assert (frame["series"] == "series").all() and (frame["method"] == "model").all()
    assert frame["time"].iloc[0] == "2024-01-09 08:00:00"  # the hour after the last row
    assert (tmp_path / "fc.png").stat().st_size > 1000

    result = invoke("export", run, "--out", tmp_path / "export")
    assert result.exit_code == 0, result.output
    import tensorflow as tf

    served = tf.saved_model.load(str(tmp_path / "export" / "saved_model"))
    output = served.serve(
        {"series_id": tf.constant(["series"] * 3), "values": tf.zeros((3, 24, 1)), "length": tf.constant([24, 10, 24])}
    )
    assert tuple(output["forecast"].shape) == (3, 6)


def test_panel_with_short_series_and_quantiles(panel_csv, tmp_path):
    run = tmp_path / "run"
    result = train(panel_csv, PANEL, run, "--quantiles", "0.1,0.5,0.9")
    assert result.exit_code == 0, result.output
    out = tmp_path / "fc.csv"
    assert invoke("forecast", run, "--data", panel_csv, "--out", out).exit_code == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["id", "time", "forecast", "q_10", "q_50", "q_90", "method"]
    assert frame.groupby("id").size().to_dict() == {"a": 5, "b": 5, "c": 5}
    assert (frame["q_10"] <= frame["q_50"]).all() and (frame["q_50"] <= frame["q_90"]).all()
    np.testing.assert_array_equal(frame["forecast"], frame["q_50"])


def test_doctor_reports_padding_and_gaps(panel_csv):
    result = invoke("doctor", panel_csv, *PANEL, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    fates = {s["series_id"]: s["fate"] for s in report["series"]}
    assert fates == {"a": "ok", "b": "ok", "c": "padded and masked"}
    assert report["frequency"] == "D" and report["season"] == 7


def test_same_data_config_and_seed_give_identical_forecasts(sine_csv, tmp_path):
    frames = []
    for attempt in ("one", "two"):
        run = tmp_path / attempt
        assert train(sine_csv, SINE, run, "--seed", "3").exit_code == 0
        out = tmp_path / f"{attempt}.csv"
        assert invoke("forecast", run, "--data", sine_csv, "--out", out).exit_code == 0
        frames.append(out.read_bytes())
    assert frames[0] == frames[1]  # byte for byte (op determinism is on)


def test_series_too_short_to_train_on_still_get_a_model_forecast(panel_csv, tmp_path):
    run = tmp_path / "run"
    result = train(panel_csv, PANEL, run, "--holdout", "30")
    assert result.exit_code == 0, result.output
    assert "1 series too short to train on" in result.output and "still forecasts them: c" in result.output
    out = tmp_path / "fc.csv"
    result = invoke("forecast", run, "--data", panel_csv, "--out", out)
    assert result.exit_code == 0, result.output
    assert "1 series not trained on, forecast by the model" in result.output
    frame = pd.read_csv(out)
    assert frame.groupby("id").size().to_dict() == {"a": 5, "b": 5, "c": 5}
    assert (frame["method"] == "model").all() and np.isfinite(frame["forecast"]).all()


def test_a_tune_folder_names_its_run_and_a_wrong_series_lists_the_right_ones(panel_csv, tmp_path):
    tuned = tmp_path / "tuned"
    assert train(panel_csv, PANEL, tuned / "best").exit_code == 0
    result = invoke("forecast", tuned, "--data", panel_csv)
    assert result.exit_code == 2 and f"its run directory is {tuned / 'best'}" in result.output
    result = invoke("forecast", tuned / "best", "--data", panel_csv, "--out", tmp_path / "f.csv", "--series", "zz")
    assert result.exit_code == 2 and "no series 'zz' in the data; it has a, b, c" in result.output


def test_wide_files_need_no_target_and_help_shows_the_defaults(tmp_path):
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=40, freq="D"), "a": range(40), "b": range(40)})
    frame.to_csv(tmp_path / "wide.csv", index=False)
    result = invoke("doctor", tmp_path / "wide.csv", "--time-col", "date", "--wide")
    assert result.exit_code == 0, result.output
    assert "2 series" in result.output
    help_text = " ".join(invoke("train", "--help").output.split())
    for shown in (
        "(default 30, more on few windows",
        "(default 128; on fewer than 1024",
        "(default 0.001; 0.002 from 200 series; 0.004 on a panel of 200 series or more with a lookback of 192 or more)",
        "(default 5)",
        "(default 64,64; 128,128 on a panel of 200 series or more with a lookback of 192 or more)",
        "(default 3; 2 on a panel of 200 series or more with a lookback of 192 or more)",
        "(default 20,000; 40,000 from 200 series; 28,000 on a panel of 200 series or more with a lookback of 192",
        "(default true on a panel of 200 series or more whose lookback holds 6 seasons or more, else false)",
    ):
        assert shown in help_text, shown


@pytest.mark.slow
def test_a_cpu_run_prints_no_error_looking_tensorflow_lines(sine_csv, tmp_path):
    import os

    env = {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}
    command = [
        sys.executable,
        "-m",
        "forecaster.cli",
        "train",
        str(sine_csv),
        *SINE,
        *FAST,
        "--out",
        str(tmp_path / "r"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "E0000" not in done.stderr and "I0000" not in done.stderr and "oneDNN" not in done.stderr, done.stderr


def test_the_option_table_is_the_config_fields():
    """train's options are the config dataclasses' option fields, one for one (and Forecaster's keywords)."""
    from dataclasses import fields

    from forecaster.cli import main as cli
    from forecaster.config import SECTION_CLASSES, SECTIONS

    declared = {f.name for cls in SECTION_CLASSES.values() for f in fields(cls) if "help" in f.metadata}
    options = {p.name for p in cli.commands["train"].params} - {"data", "config_file", "out", "quiet", "fresh"}
    assert options == declared == set(SECTIONS)
    assert "dayfirst" in options and "ensemble" in options and "n_series" not in options
