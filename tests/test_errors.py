"""Errors come in kinds under ForecasterError (data, settings, a damaged run, an output, training), so a Python
caller can tell them apart; every raise site raises its kind; the CLI prints each as one line and exits 2, and
an engine's worker's error keeps its kind and its one line."""

import ast
from pathlib import Path

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


def test_every_raise_site_raises_its_kind():
    """The base class is for catching: each of the package's raise sites names what went wrong."""
    package = Path(__file__).parent.parent / "forecaster"
    base = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                if isinstance(node.exc.func, ast.Name) and node.exc.func.id == "ForecasterError":
                    base.append(f"{path.relative_to(package)}:{node.lineno}")
    assert base == []


class RayTaskError(Exception):
    """As Ray wraps a worker's error: a class made on the fly that is both its own and the error's, whose text
    is the worker's traceback, with the original kept as `cause`."""


@pytest.mark.parametrize("kind", [DataError, SettingsError, DamagedRunError])
def test_a_worker_s_error_keeps_its_kind_and_its_one_line(kind):
    from forecaster.serving.engines import user_error

    original = kind("data.csv: row 3, column 'y': 'oops' is not a number")
    wrapped = type(f"RayTaskError({kind.__name__})", (RayTaskError, kind), {})(
        "Traceback (most recent call last):\n ..."
    )
    wrapped.cause = original
    found = user_error(wrapped)
    assert found is original and type(found) is kind
    chained = RuntimeError("the engine's own wrapping")
    chained.__cause__ = original
    assert user_error(chained) is original
    assert user_error(RuntimeError("not the user's")) is None
