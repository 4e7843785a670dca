"""A run's manifest names the data it trained on: the digest is of what was read, and data that changed
while it was read (a file still being written, a frame changed meanwhile) is refused."""

import hashlib
import json

import pandas as pd
import pytest
from cli_helpers import FAST, SINE, invoke

from forecaster.api import Forecaster
from forecaster.errors import DataError


def changed_while_read(monkeypatch, change):
    """read_panel reads the data, then `change()` alters it, as a writer or another thread would."""
    import forecaster.data.panel as panel_module

    original = panel_module.read_panel

    def read_then_change(data, cfg):
        panel = original(data, cfg)
        change()
        return panel

    monkeypatch.setattr(panel_module, "read_panel", read_then_change)


def test_a_file_changed_while_it_was_read_is_refused(sine_csv, tmp_path, monkeypatch):
    changed_while_read(monkeypatch, lambda: sine_csv.write_text(sine_csv.read_text() + "2024-01-09 08:00:00,1.5\n"))
    result = invoke("train", sine_csv, *SINE, *FAST, "--out", tmp_path / "run")
    assert result.exit_code == 2 and "the data changed while it was read" in result.output, result.output
    assert not (tmp_path / "run").exists()


def test_a_frame_changed_while_it_was_read_is_refused(sine_csv, tmp_path, monkeypatch):
    frame = pd.read_csv(sine_csv)
    changed_while_read(monkeypatch, lambda: frame.loc.__setitem__((3, "y"), 99.0))
    model = Forecaster(target="y", time_col="time", horizon=6, lookback=24, epochs=1, ensemble=1, select="model")
    with pytest.raises(DataError, match="DataFrame: the data changed while it was read"):
        model.fit(frame, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_the_manifest_holds_the_digest_of_the_bytes_read(sine_csv, tmp_path):
    assert invoke("train", sine_csv, *SINE, *FAST, "--out", tmp_path / "run").exit_code == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert hashlib.sha256(sine_csv.read_bytes()).hexdigest() in json.dumps(manifest)
