"""Long files are parsed in chunks: the result, and the row numbers in messages, do not depend on it."""

import numpy as np
import pandas as pd
import pytest
from conftest import write_panel

import forecaster.data
from forecaster.config import DataConfig
from forecaster.data import load_panel
from forecaster.errors import ForecasterError

PANEL = DataConfig(target="y", time_col="time", id_col="id")


@pytest.mark.parametrize("shuffle", [False, True])
def test_chunked_reading_gives_the_same_panel(tmp_path, monkeypatch, shuffle):
    data = write_panel(tmp_path / "panel.csv")
    if shuffle:  # rows of different series interleaved and out of time order: the slow path sorts them
        frame = pd.read_csv(data)
        frame.sample(frac=1.0, random_state=0).to_csv(data, index=False)
    whole = load_panel(data, PANEL)
    monkeypatch.setattr(forecaster.data, "CHUNK_ROWS", 7)  # 280 rows: 40 chunks, ids split across them
    chunked = load_panel(data, PANEL)
    assert [s.series_id for s in chunked.series] == [s.series_id for s in whole.series]
    for a, b in zip(whole.series, chunked.series):
        np.testing.assert_array_equal(a.values, b.values)
        assert a.time.equals(b.time)
    assert chunked.freq == whole.freq == "D"
    assert any("sorted" in note for note in chunked.notes) == shuffle


@pytest.mark.parametrize(
    "line,message",
    [
        ("b,2024-01-10,abc", "row 202, column 'y'"),
        ("b,2024-01-10,3", "row 202: duplicate timestamp 2024-01-10"),
        ("b,not a date,3", "row 202, column 'time'"),
    ],
)
def test_row_numbers_are_file_lines_in_any_chunk(tmp_path, monkeypatch, line, message):
    data = write_panel(tmp_path / "panel.csv")
    lines = data.read_text().splitlines()
    lines.insert(201, line)  # becomes file line 202, inside series "b" (lines 152-241), in a late chunk
    data.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(forecaster.data, "CHUNK_ROWS", 7)
    with pytest.raises(ForecasterError, match=message):
        load_panel(data, PANEL)
