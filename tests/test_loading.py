"""Long files are parsed in chunks: the result, and the row numbers in messages, do not depend on it."""

import numpy as np
import pandas as pd
import pytest
from conftest import write_panel

import forecaster.io.readers.csv
from forecaster.config import DataConfig
from forecaster.data.panel import load_panel
from forecaster.errors import ForecasterError

PANEL = DataConfig(target="y", time_col="time", id_col="id")


@pytest.mark.parametrize("layout", ["grouped", "by time", "shuffled"])
def test_chunked_reading_gives_the_same_panel_for_any_row_layout(tmp_path, monkeypatch, layout):
    data = write_panel(tmp_path / "panel.csv")
    reference = load_panel(data, PANEL)  # one block per series, in time order: the fast path
    frame = pd.read_csv(data, float_precision="round_trip")  # exactly the file's numbers, as forecaster reads them
    if layout == "by time":  # series interleaved, each in time order (a file sorted by time)
        frame.sort_values(["time", "id"]).to_csv(data, index=False)
    elif layout == "shuffled":  # interleaved and out of time order
        frame.sample(frac=1.0, random_state=0).to_csv(data, index=False)
    monkeypatch.setattr(forecaster.io.readers.csv, "CHUNK_ROWS", 7)  # 280 rows: 40 chunks, ids split across them
    chunked = load_panel(data, PANEL)
    by_id = {s.series_id: s for s in chunked.series}
    assert sorted(by_id) == ["a", "b", "c"]
    for expected in reference.series:
        np.testing.assert_array_equal(by_id[expected.series_id].values, expected.values)
        assert by_id[expected.series_id].time.equals(expected.time)
    assert chunked.freq == reference.freq == "D"
    assert any("sorted" in note for note in chunked.notes) == (layout == "shuffled")


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
    monkeypatch.setattr(forecaster.io.readers.csv, "CHUNK_ROWS", 7)
    with pytest.raises(ForecasterError, match=message):
        load_panel(data, PANEL)


def test_a_long_file_is_held_once(tmp_path, monkeypatch):
    """Each series' values are a view of one array of the file (no copy per series), and its times
    are built from its start and step when asked for."""
    data = write_panel(tmp_path / "panel.csv")
    monkeypatch.setattr(forecaster.io.readers.csv, "CHUNK_ROWS", 7)
    panel = load_panel(data, PANEL)
    assert all(s.values.base is not None for s in panel.series)
    assert len({id(s.values.base) for s in panel.series}) == 1
    for series in panel.series:
        assert series.time_at(-1) == series.time[-1] and series.time_at(0) == series.start


def test_two_spellings_of_one_time_are_one_time(tmp_path):
    data = tmp_path / "spellings.csv"
    data.write_text("id,time,y\na,2024-01-01,1\na,2024-01-02,2\na,2024-01-02T00:00,3\na,2024-01-03,4\n")
    with pytest.raises(ForecasterError, match="row 4: duplicate timestamp 2024-01-02"):
        load_panel(data, PANEL)


def test_a_number_column_with_text_in_a_late_chunk_still_reads_its_numbers(tmp_path, monkeypatch):
    data = tmp_path / "mixed.csv"
    data.write_text(
        "id,time,y\n" + "".join(f"a,2024-01-{d:02d},{d}\n" for d in range(1, 21)) + 'a,2024-01-21,"1,234.5"\n'
    )
    monkeypatch.setattr(forecaster.io.readers.csv, "CHUNK_ROWS", 7)  # the last chunk: text, the others numbers
    values = load_panel(data, PANEL).series[0].values[:, 0]
    assert values.tolist() == [*range(1, 21), 1234.5]
