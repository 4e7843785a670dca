"""One set of refusals before any work (`forecaster.serving.checks`): the same mistake made through the CLI and
the Python API is refused by the same check, with the same words, and nothing is written."""

import pytest
from cli_helpers import FAST, SINE, invoke, train

from forecaster import Forecaster
from forecaster.errors import ForecasterError


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    import numpy as np
    import pandas as pd

    folder = tmp_path_factory.mktemp("checks")
    data = folder / "sine.csv"
    time = pd.date_range("2024-01-01", periods=200, freq="h")
    pd.DataFrame({"time": time, "y": np.sin(np.arange(200) * 2 * np.pi / 24)}).to_csv(data, index=False)
    result = train(data, SINE, folder / "run")
    assert result.exit_code == 0, result.output
    return folder / "run", data


def mistakes(run_dir, data, tmp_path):
    """(name, CLI arguments, the same request through the API)."""
    mine = tmp_path / "mine.csv"
    mine.write_text("the user's own file\n")
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("the user's own folder\n")
    missing, plot = tmp_path / "missing.csv", tmp_path / "p.png"
    model = Forecaster.load(run_dir)
    no_target = [a for a in SINE if a not in ("--target", "y")]
    no_horizon = ["--target", "y", "--time-col", "time"]
    return [
        ("no target", ["train", data, *no_target], lambda: Forecaster(time_col="time", horizon=6).fit(data)),
        ("no horizon", ["train", data, *no_horizon], lambda: Forecaster(target="y", time_col="time").fit(data)),
        ("no data file", ["train", missing, *SINE], lambda: Forecaster(target="y", horizon=6).fit(missing)),
        ("forecast over a user's file", ["forecast", run_dir, "--data", data, "--out", mine],
         lambda: model.predict(data, out=mine)),
        ("a plot asked of an engine", ["forecast", run_dir, "--data", data, "--engine", "dask", "--plot", plot],
         lambda: model.predict(data, engine="dask", plot=plot)),
        ("an address without an engine", ["evaluate", run_dir, "--data", data, "--address", "tcp://127.0.0.1:1"],
         lambda: model.evaluate(data, address="tcp://127.0.0.1:1")),
        ("a level over 100", ["evaluate", run_dir, "--data", data, "--level", "120"],
         lambda: model.backtest(data, level=120)),
        ("an evaluation over a user's folder", ["evaluate", run_dir, "--data", data, "--out", theirs],
         lambda: model.evaluate(data, out=theirs)),
    ]  # fmt: skip


def test_the_cli_and_the_api_refuse_the_same_mistakes_with_the_same_words(run, tmp_path):
    run_dir, data = run
    cases = mistakes(run_dir, data, tmp_path)
    before = sorted(tmp_path.rglob("*")), sorted(run_dir.iterdir())
    for name, arguments, call in cases:
        result = invoke(*arguments, *([] if arguments[0] != "train" else FAST))
        with pytest.raises(ForecasterError) as refused:
            call()
        assert result.exit_code == 2, (name, result.output)
        assert result.output.strip() == f"error: {refused.value}", name
    assert (sorted(tmp_path.rglob("*")), sorted(run_dir.iterdir())) == before  # nothing written
    assert (tmp_path / "mine.csv").read_text() == "the user's own file\n"


def test_one_rule_names_a_wide_files_target_value_for_the_cli_and_the_api():
    from forecaster.serving.checks import WIDE_TARGET, with_target
    from forecaster.settings import Settings

    assert with_target(Settings.given({"wide": True})).data["target"] == WIDE_TARGET
    with pytest.raises(ForecasterError, match="--target is required"):
        with_target(Settings.given({"horizon": 3}))
