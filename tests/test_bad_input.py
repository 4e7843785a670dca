"""Every bad input gives exit code 2, one line naming what is wrong, no traceback and no output."""

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import python_warnings
from click.testing import CliRunner

from forecaster.cli import main

GOOD_ROWS = "".join(f"2024-01-{d:02d},{d}.5\n" for d in range(1, 29))
TRAIN = ["--target", "y", "--time-col", "time", "--horizon", "3", "--epochs", "1", "--layers", "4", "--quiet"]

# name -> (file bytes, extra options, expected message part)
CASES = {
    "empty file": (b"", [], "file is empty"),
    "header only": (b"time,y\n", [], "header but no rows"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", [], "binary"),
    "missing target": (("time,z\n" + GOOD_ROWS).encode(), [], "no target column 'y'"),
    "missing time column": (("when,y\n" + GOOD_ROWS).encode(), [], "no time column 'time'"),
    "missing id column": (("time,y\n" + GOOD_ROWS).encode(), ["--id-col", "store"], "no id column 'store'"),
    "text in target": (("time,y\n" + GOOD_ROWS + "2024-01-29,abc\n").encode(), [], "row 30, column 'y'"),
    "empty cell": (("time,y\n" + GOOD_ROWS + "2024-01-29,\n2024-01-30,1\n").encode(), [], "--fill interpolate"),
    "NaN cell": (("time,y\n" + GOOD_ROWS + "2024-01-29,NaN\n2024-01-30,1\n").encode(), [], "missing or empty"),
    "inf": (("time,y\n" + GOOD_ROWS + "2024-01-29,inf\n").encode(), [], "row 30, column 'y': infinite"),
    "1e308": (("time,y\n" + GOOD_ROWS + "2024-01-29,1e308\n").encode(), [], "row 30, column 'y': infinite"),
    "duplicate timestamps": (("time,y\n" + GOOD_ROWS + "2024-01-28,3\n").encode(), [], "duplicate timestamp"),
    "unparseable date": (("time,y\n" + GOOD_ROWS + "not a date,3\n").encode(), [], "row 30, column 'time'"),
    "mixed time zones": (
        ("time,y\n" + "".join(f"2024-01-{d:02d}T00:00+0{d % 2}:00,{d}\n" for d in range(1, 29))).encode(),
        [],
        "time zones",
    ),
    "irregular steps": (("time,y\n" + GOOD_ROWS + "2024-01-29 06:00,3\n").encode(), [], "irregular step"),
    "one row": (b"time,y\n2024-01-01,1\n", [], "too few rows"),
    "shorter than horizon": (
        ("time,y\n" + "".join(GOOD_ROWS.splitlines(keepends=True)[:5])).encode(),
        [],
        "every series is too short",
    ),
    "empty series id": (
        ("id,time,y\n" + "".join(f"a,{r}" for r in GOOD_ROWS.splitlines(keepends=True)) + ",2024-01-29,3\n").encode(),
        ["--id-col", "id"],
        "row 30, column 'id': empty series id",
    ),
    "unknown calendar cycle": (("time,y\n" + GOOD_ROWS).encode(), ["--calendar", "month"], "unknown cycle 'month'"),
    "calendar on integer steps": (
        ("time,y\n" + "".join(f"{d},{d}.5\n" for d in range(1, 29))).encode(),
        ["--calendar", "week"],
        "use --calendar none",
    ),
    "crossing quantiles": (("time,y\n" + GOOD_ROWS).encode(), ["--quantiles", "0.5,0.1,0.9"], "ascending levels"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(name, tmp_path):
    content, extra, message = CASES[name]
    data = tmp_path / "data.csv"
    data.write_bytes(content)
    out = tmp_path / "run"
    with python_warnings() as shown:
        result = CliRunner().invoke(main, ["train", str(data), *TRAIN, *extra, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    # nothing printed beside the line, as a library's warning would be (pandas' of mixed time zones was)
    assert not shown, [message[:80] for message in shown]
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("error:")]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]  # nothing written, no temp dirs left


def test_missing_file():
    result = CliRunner().invoke(main, ["doctor", "/nonexistent/data.csv", "--target", "y"])
    assert result.exit_code == 2 and "file not found" in result.output


@pytest.mark.parametrize(
    "name,content,note",
    [
        ("semicolons", "time;y\n" + GOOD_ROWS.replace(",", ";"), None),
        ("tabs", "time\ty\n" + GOOD_ROWS.replace(",", "\t"), None),
        ("BOM", "\ufefftime,y\n" + GOOD_ROWS, None),
        ("thousands", "time,y\n" + "".join(f'2024-01-{d:02d},"1,{d:03d}.5"\n' for d in range(1, 29)), None),
        ("unsorted", "time,y\n" + "".join(reversed(GOOD_ROWS.splitlines(keepends=True))), "sorted"),
        ("constant", "time,y\n" + "".join(f"2024-01-{d:02d},5\n" for d in range(1, 29)), None),
    ],
)
def test_documented_behaviour_for_odd_but_valid_files(name, content, note, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["doctor", str(data), "--target", "y", "--time-col", "time", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert report["series"][0]["length"] == 28 and report["frequency"] == "D"
    if note:
        assert any(note in n for n in report["notes"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    base = tmp_path_factory.mktemp("trained")
    data = base / "data.csv"
    data.write_text("id,time,y\n" + "".join(f"a,{line}" for line in GOOD_ROWS.splitlines(keepends=True)))
    run = base / "run"
    result = CliRunner().invoke(main, ["train", str(data), *TRAIN, "--id-col", "id", "--out", str(run)])
    assert result.exit_code == 0, result.output
    return data, run


def _forecast(run, data, out):
    return CliRunner().invoke(
        main, ["forecast", str(run), "--data", str(data), "--out", str(out), "--plot", str(out.with_suffix(".png"))]
    )


def test_forecast_with_unknown_series_or_columns(trained, tmp_path):
    data, run = trained
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(data.read_text().replace("\na,", "\nb,"))
    result = _forecast(run, unknown, tmp_path / "fc.csv")  # a new series is forecast, and said
    assert result.exit_code == 0 and "1 series not trained on, forecast by the model" in result.output
    assert set(pd.read_csv(tmp_path / "fc.csv")["id"]) == {"b"}
    for made in ("fc.csv", "fc.png"):
        (tmp_path / made).unlink()
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(data.read_text().replace("id,time,y", "id,time,value"))
    result = _forecast(run, renamed, tmp_path / "fc.csv")
    assert result.exit_code == 2 and "no target column 'y'" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["renamed.csv", "unknown.csv"]


@pytest.mark.parametrize(
    "damage,message",
    [
        (lambda run: (run / "scalers.json").unlink(), "missing scalers.json"),
        (lambda run: (run / "model.keras").write_bytes(b"garbage"), "checksum mismatch"),
        (lambda run: (run / "config.json").write_text("{not json"), "corrupt run directory"),
        (
            lambda run: (run / "manifest.json").write_text(json.dumps({"format": 99, "versions": {"forecaster": "9"}})),
            "run format 99",
        ),
    ],
)
def test_damaged_run_directory(trained, tmp_path, damage, message):
    import shutil

    data, run = trained
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    damage(copy)
    result = _forecast(copy, data, tmp_path / "fc.csv")
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "fc.csv").exists()


def test_unwritable_output(trained, tmp_path):
    data, run = trained
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    result = _forecast(run, data, blocker / "fc.csv")
    assert result.exit_code == 2 and "cannot write in" in result.output


# the cases about the data file itself, which every command that reads data must refuse the same way
DATA_CASES = [name for name in CASES if not CASES[name][1] and name not in ("shorter than horizon",)]


@pytest.fixture(scope="module")
def single_run(tmp_path_factory):
    """A run trained on the good rows, no id column: the columns every CASES file uses."""
    base = tmp_path_factory.mktemp("single")
    data = base / "data.csv"
    data.write_text("time,y\n" + GOOD_ROWS)
    run = base / "run"
    result = CliRunner().invoke(main, ["train", str(data), *TRAIN, "--holdout", "3", "--out", str(run)])
    assert result.exit_code == 0, result.output
    return run


@pytest.mark.parametrize(
    "command,name",
    # a run forecasts from as little history as it trained on (min_context), so one row is not an error there
    [(c, n) for c in ("doctor", "forecast", "evaluate") for n in DATA_CASES if c == "doctor" or n != "one row"],
)
def test_every_command_refuses_bad_data_the_same_way(single_run, tmp_path, command, name):
    content, _, message = CASES[name]
    data = tmp_path / "data.csv"
    data.write_bytes(content)
    before = sorted(p.name for p in single_run.iterdir())
    args = {
        "doctor": ["doctor", str(data), "--target", "y", "--time-col", "time"],
        "forecast": ["forecast", str(single_run), "--data", str(data)],
        "evaluate": ["evaluate", str(single_run), "--data", str(data), "--out", str(tmp_path / "eval")],
    }[command]
    result = CliRunner().invoke(main, args)
    if command == "doctor" and name in ("empty cell", "NaN cell"):  # doctor reports them, with the fix,
        assert result.exit_code == 2 and "problem: 1 series have gaps or empty cells" in result.output
        assert "filled" not in result.output  # and, like train under --fill error, fills nothing
        return
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in single_run.iterdir()) == before  # no forecast.csv, no plot
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--val-fraction", "1.5"], "--val-fraction must be a fraction strictly between 0 and 1"),
        (["--val-fraction", "1.0"], "--val-fraction must be a fraction strictly between 0 and 1"),
        (["--max-windows-per-epoch", "0"], "--max-windows-per-epoch must be a whole number of at least 1"),
        (["--batch-size", "0"], "--batch-size must be"),
        (["--lookback", "-5"], "--lookback must be"),
        (["--patch", "-1"], "--patch must be"),
        (["--holdout", "-10"], "--holdout must be a whole number of at least 0"),
        (["--season", "-3"], "--season must be"),
        (["--learning-rate", "-1"], "--learning-rate must be a number above 0"),
        (["--series-embedding", "-1"], "--series-embedding must be"),
        (["--quantiles", "0.1,0.5,0.5"], "--quantiles must be an odd number (at most 19) of distinct"),
        (["--ensemble", "0"], "--ensemble must be"),
        (["--instance-norm", "mean_std,bogus"], "--instance-norm must be one of"),
        (["--lookback", "100000"], "is longer than the longest series (50 points): choose --lookback 47 or less"),
        (["--freq", "xyz"], "--freq must be a pandas frequency such as h, D, W-SUN, MS (or int:N), got 'xyz'"),
        (["--freq", "h"], "--freq h does not fit the time column, which holds step numbers"),
    ],
)
def test_bad_option_values_are_one_line_before_any_work(tmp_path, option, message):
    data = tmp_path / "d.csv"
    data.write_text("y\n" + "\n".join(str(i) for i in range(50)) + "\n")
    result = CliRunner().invoke(main, ["train", str(data), "--target", "y", "--horizon", "3", *option,
                                       "--out", str(tmp_path / "run")])  # fmt: skip
    assert result.exit_code == 2 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[window]\nhorizon = "7"\n', "--horizon must be a whole number of at least 1, got '7'"),
        ("[window]\nhorizon = 7.9\n", "--horizon must be a whole number of at least 1, got 7.9"),
        (
            "[window]\nhorizon = 3\n[model]\nlayers = 64\n",
            "--layers must be sizes such as 64,64: at most 32 layers of at most 4096 units, got 64",
        ),
        ('[window]\nhorizon = 3\n[data]\nfill = "bogus"\n', "--fill must be one of error, interpolate, ffill"),
    ],
)
def test_config_file_values_of_the_wrong_type_are_one_line(tmp_path, toml, message):
    data = tmp_path / "d.csv"
    data.write_text("y\n" + "\n".join(str(i) for i in range(50)) + "\n")
    config = tmp_path / "run.toml"
    config.write_text(toml)
    result = CliRunner().invoke(main, ["train", str(data), "--target", "y", "--config", str(config)])
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_doctor_gives_trains_verdict_on_a_lookback_longer_than_the_data(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("y\n" + "\n".join(str(i) for i in range(50)) + "\n")
    args = [str(data), "--target", "y", "--horizon", "3", "--lookback", "100000"]
    for command in ("doctor", "train"):
        result = CliRunner().invoke(main, [command, *args])
        assert result.exit_code == 2 and "longer than the longest series (50 points)" in result.output, command


@pytest.mark.parametrize(
    "text,message",
    [
        ("0.95", "levels are percentages, so this asks for a 0.95% interval; for 95% write 95"),
        ("99.9", "keeps levels up to 99.5%"),
        ("99.99", "keeps levels up to 99.5%"),
    ],
)
def test_levels_that_cannot_mean_what_they_say_are_refused(text, message):
    from forecaster.errors import ForecasterError
    from forecaster.serving.checks import parse_levels

    with pytest.raises(ForecasterError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_levels(text)


@pytest.mark.parametrize(
    "args",
    [
        ["tune", "d.csv", "--target", "y", "--horizon", "3", "--max-minutes", "nan"],
        ["tune", "d.csv", "--target", "y", "--horizon", "3", "--worker-timeout", "nan"],
        ["tune", "d.csv", "--target", "y", "--horizon", "3", "--max-minutes", "inf"],
        ["evaluate", "run", "--data", "d.csv", "--fail-if-coverage-below", "nan"],
    ],
)
def test_nan_and_inf_are_refused_wherever_a_number_is_taken(args):
    from cli_helpers import invoke

    result = invoke(*args)
    assert result.exit_code == 2 and "give a finite number" in result.output


def test_quantile_levels_whose_columns_would_collide_are_refused():
    from forecaster.config import check_setting
    from forecaster.errors import ForecasterError

    with pytest.raises(ForecasterError, match="differ in their first six digits"):
        check_setting("quantiles", (0.1, 0.1000001, 0.5))


def test_a_backtest_season_must_be_a_season_the_data_covers(tmp_path):
    from cli_helpers import SINE, train

    from forecaster import Forecaster
    from forecaster.errors import ForecasterError

    data = tmp_path / "sine.csv"
    t = np.arange(200)
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=200, freq="h"), "y": np.sin(t / 4)}).to_csv(
        data, index=False
    )
    assert train(data, SINE, tmp_path / "run", "--holdout", "12").exit_code == 0
    model = Forecaster.load(tmp_path / "run")
    for season in (-2, 0, 100000):
        with pytest.raises(ForecasterError, match="--season"):
            model.backtest(data, season=season)
