"""The Python API: one Forecaster over the CLI's pipeline and run directory."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, PANEL, invoke
from conftest import write_panel

from forecaster import Forecaster
from forecaster.errors import ForecasterError

README = Path(__file__).resolve().parent.parent / "README.md"
OPTIONS = {"target": "y", "time_col": "time", "id_col": "id", "horizon": 5, "lookback": 56}
FAST_OPTIONS = {"epochs": 1, "layers": (8,), "batch_size": 32, "ensemble": 1, "select": "model"}


def test_python_api_and_cli_give_byte_identical_forecasts(tmp_path):
    data = write_panel(tmp_path / "panel.csv")
    assert invoke("train", data, *PANEL, *FAST, "--out", tmp_path / "cli_run").exit_code == 0
    assert invoke("forecast", tmp_path / "cli_run", "--data", data, "--out", tmp_path / "cli.csv").exit_code == 0

    frame = pd.read_csv(data, parse_dates=["time"], float_precision="round_trip").sample(frac=1.0, random_state=0)
    model = Forecaster(**OPTIONS, **FAST_OPTIONS).fit(frame)  # a DataFrame: typed times, rows shuffled
    model.predict(data).to_csv(tmp_path / "api.csv", index=False)
    assert (tmp_path / "api.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
    model.predict(frame, out=tmp_path / "from_frame.csv")  # the frame straight in, no file (tests/test_frames.py)
    assert (tmp_path / "from_frame.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
    assert model.run.manifest["data"]["path"] == "DataFrame"


def test_save_load_backtest_and_export(tmp_path):
    data = write_panel(tmp_path / "panel.csv")
    model = Forecaster(**OPTIONS, **FAST_OPTIONS, holdout=10).fit(data)
    assert set(model.validation) >= {"model", "seasonal_naive"}
    saved = model.save(tmp_path / "saved")
    again = Forecaster.load(saved)
    pd.testing.assert_frame_equal(again.predict(data), model.predict(data))
    report, per_series = again.backtest(data, folds=2)
    assert report["windows"] > 0 and set(per_series["method"]) == {"model", "naive", "seasonal_naive", "drift"}
    path = again.export(tmp_path / "export")
    assert path.name == "saved_model" and path.is_dir()


def test_unknown_options_and_unfitted_use_are_refused():
    with pytest.raises(ForecasterError, match="unknown option"):
        Forecaster(horizon=3, target="y", lookbak=10)
    with pytest.raises(ForecasterError, match="not fitted"):
        Forecaster(horizon=3, target="y").predict(pd.DataFrame({"y": [1.0, 2.0]}))


@pytest.mark.slow
def test_readme_python_session_runs_as_written(tmp_path, monkeypatch):
    """The README's Python session, executed from the repository root (it uses the bundled data)."""
    text = README.read_text()
    session = re.search(r"<!-- python-session -->\s*```python\n(.*?)```", text, re.S)
    assert session, "README lost its Python session"
    monkeypatch.chdir(README.parent)
    code = session.group(1).replace('"models/macro_py"', repr(str(tmp_path / "macro_py")))
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    forecast = namespace["forecast"]
    assert set(forecast["id"]) == {"cpi", "infl", "m1", "realgdp", "tbilrate", "unemp"}
    assert np.isfinite(forecast["forecast"]).all()
