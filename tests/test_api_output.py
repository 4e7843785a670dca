"""What the Python API says while it works: the lines the CLI prints (notes, progress, the validation guard's
decision), through the `forecaster` logger or the user's `log`, and no Keras progress bar unless asked."""

import logging
import re

import numpy as np
import pandas as pd
from cli_helpers import FAST, PANEL, invoke
from conftest import write_panel

from forecaster import Forecaster
from forecaster.io import progress

OPTIONS = {"target": "y", "time_col": "time", "id_col": "id", "horizon": 5, "lookback": 56}
GUARDED = {"epochs": 1, "layers": (8,), "batch_size": 32, "ensemble": 1}  # FAST with the guard left on


def ended_panel(path):
    """The three-series daily panel, series 'a' ending four days before its last row (empty cells)."""
    frame = pd.read_csv(write_panel(path))
    frame.loc[frame.index[frame["id"] == "a"][-4:], "y"] = np.nan
    frame.to_csv(path, index=False)
    return path


def shape(line):
    """A line with its figures taken out: timings differ from one fit to the next, words do not."""
    return re.sub(r"\d[\d.,]*", "#", line.strip())


def test_fit_logs_every_line_the_cli_prints_and_draws_no_progress_bar(tmp_path, capsys, caplog, monkeypatch):
    monkeypatch.setattr(progress, "EVERY_SECONDS", 1e9)  # lines that depend on how long a step takes: none
    data = ended_panel(tmp_path / "panel.csv")
    fast_guarded = [option for option in FAST if option not in ("--select", "model")]
    result = invoke("train", data, *PANEL, *fast_guarded, "--out", tmp_path / "cli_run")
    assert result.exit_code == 0, result.output
    cli_lines = [line for line in result.output.splitlines() if line.strip() and not line.startswith("run written")]
    capsys.readouterr()

    caplog.set_level(logging.INFO, logger="forecaster")
    Forecaster(**OPTIONS, **GUARDED).fit(data, out=tmp_path / "api_run")
    printed = capsys.readouterr()
    assert printed.out == ""  # no progress bar, no colour codes
    logged = [record for record in caplog.records if record.name == "forecaster"]
    assert [shape(r.getMessage()) for r in logged] == [shape(line) for line in cli_lines]
    notes = [r.getMessage() for r in logged if r.levelno == logging.WARNING]
    assert any("series 'a': cut 4 row(s) after its last value" in note for note in notes)
    assert all(note.lstrip().startswith("note:") for note in notes)
    assert any(r.getMessage().startswith("method: ") and r.levelno == logging.INFO for r in logged)


def test_a_log_callback_gets_the_lines_instead_and_verbose_asks_for_keras_lines(tmp_path, capsys, caplog):
    data = ended_panel(tmp_path / "panel.csv")
    heard = []
    caplog.set_level(logging.INFO, logger="forecaster")
    Forecaster(**OPTIONS, **GUARDED, select="model", verbose=2, log=heard.append).fit(data)
    assert not [record for record in caplog.records if record.name == "forecaster"]
    assert any("cut 4 row(s)" in line for line in heard) and any(line.startswith("validation (") for line in heard)
    assert "val_loss:" in capsys.readouterr().out  # asked for: one line an epoch
