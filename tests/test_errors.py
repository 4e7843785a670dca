"""Errors come in three kinds under ForecasterError (data, settings, a damaged run), so a Python caller can
tell them apart; the CLI prints each as one line and exits 2, as before."""

import pytest
from cli_helpers import SINE, invoke

from forecaster import Forecaster
from forecaster.config import DataConfig
from forecaster.data.panel import load_panel
from forecaster.errors import DamagedRunError, DataError, ForecasterError, SettingsError
from forecaster.training.runs import REQUIRED, load_run


def test_bad_data_is_a_data_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("time,y\n2024-01-01,1\n2024-01-02,inf\n")
    with pytest.raises(DataError, match="row 3, column 'y'"):
        load_panel(path, DataConfig(target="y", time_col="time"))
    with pytest.raises(DataError, match="no target column|no column"):
        load_panel(path, DataConfig(target="sst", time_col="time"))


def test_bad_settings_are_settings_errors():
    with pytest.raises(SettingsError, match="unknown option"):
        Forecaster(horizon=3, target="y", lookbak=10)
    with pytest.raises(SettingsError, match="horizon"):
        Forecaster(horizon=0, target="y")


def test_a_damaged_run_is_a_damaged_run_error(tmp_path):
    for name in REQUIRED:
        (tmp_path / name).write_text("[]")
    with pytest.raises(DamagedRunError, match="must be objects"):
        load_run(tmp_path)
    assert issubclass(DamagedRunError, ForecasterError) and issubclass(DataError, ValueError)


def test_each_kind_is_still_one_line_and_exit_2_from_the_cli(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("time,y\n2024-01-01,1\n2024-01-02,inf\n")
    for args in (
        ["doctor", bad, *SINE],
        ["doctor", bad, *SINE, "--horizon", "0"],
        ["forecast", tmp_path, "--data", bad],
    ):
        result = invoke(*args)
        assert result.exit_code == 2 and result.output.count("\n") == 1 and "Traceback" not in result.output, (
            result.output
        )
