"""A DataFrame given to the Python API goes straight into the panel (`forecaster.data.panel.read_panel`), with
no temporary CSV: the panel, the notes and the errors are those the same rows written to a CSV give."""

import re

import numpy as np
import pandas as pd
import pytest

from forecaster.config import DataConfig
from forecaster.data.panel import load_panel, read_panel
from forecaster.errors import ForecasterError

RNG = np.random.default_rng(0)
DAYS = pd.date_range("2024-01-01", periods=30, freq="D")
ONE = pd.DataFrame({"time": DAYS, "y": RNG.normal(size=30)})
MANY = pd.concat([pd.DataFrame({"id": i, "time": DAYS, "y": RNG.normal(size=30)}) for i in ["b", "a", "10", "2"]])
HOLE = ONE.assign(y=ONE.y.where(ONE.index != 5))
TEXT = [str(v) for v in ONE.y]
SERIES = {"target": "y", "time_col": "time", "id_col": "id"}
ALONE = {"target": "y", "time_col": "time"}

FRAMES = {  # name: (frame, data settings)
    "dates": (ONE, ALONE),
    "dates as text": (ONE.assign(time=DAYS.strftime("%Y-%m-%d")), ALONE),
    "day-first text": (ONE.assign(time=DAYS.strftime("%d/%m/%Y")), ALONE),
    "times in UTC": (ONE.assign(time=pd.date_range("2024-03-25", periods=30, freq="h", tz="UTC")), ALONE),
    "whole steps": (ONE.assign(time=np.arange(30)), ALONE),
    "years as floats": (ONE.assign(time=np.arange(1990, 2020).astype(float)), ALONE),
    "no time column": (ONE[["y"]], {"target": "y"}),
    "months": (pd.DataFrame({"time": pd.date_range("2000-01", periods=9, freq="MS"), "y": np.arange(9.0)}), ALONE),
    "ids out of order": (MANY, SERIES),
    "rows in time order": (MANY.sort_values("time", kind="stable"), SERIES),
    "ids as numbers": (MANY.assign(id=MANY.id.map({"b": 3, "a": 1, "10": 10, "2": 2})), SERIES),
    "ids as floats": (MANY.assign(id=MANY.id.map({"b": 3.0, "a": 1.5, "10": 10.0, "2": 2.0})), SERIES),
    "a hole, refused": (HOLE, ALONE),
    "a hole, interpolated": (HOLE, {**ALONE, "fill": "interpolate"}),
    "a gap, refused": (ONE.drop(index=[7]), ALONE),
    "nullable floats": (ONE.assign(y=pd.array(HOLE.y.tolist(), dtype="Float64")), {**ALONE, "fill": "interpolate"}),
    "nullable integers": (ONE.assign(y=pd.array(range(30), dtype="Int64")), ALONE),
    "numbers as text": (ONE.assign(y=TEXT), ALONE),
    "pandas text with an NA, interpolated": (ONE.assign(y=pd.array([*TEXT[:5], pd.NA, *TEXT[6:]], dtype="string")),
                                             {**ALONE, "fill": "interpolate"}),
    "arrow text with an NA, interpolated": (ONE.assign(y=pd.array([*TEXT[:5], None, *TEXT[6:]],
                                                                  dtype="string[pyarrow]")),
                                            {**ALONE, "fill": "interpolate"}),
    "an NA word": (ONE.assign(y=[*TEXT[:5], "NA", *TEXT[6:]]), {**ALONE, "fill": "interpolate"}),
    "a word": (ONE.assign(y=[*TEXT[:5], "oops", *TEXT[6:]]), ALONE),
    "infinity": (ONE.assign(y=[*ONE.y[:5], np.inf, *ONE.y[6:]]), ALONE),
    "booleans": (ONE.assign(y=ONE.y > 0), ALONE),
    "categorical numbers": (ONE.assign(y=pd.Categorical(ONE.y.round(1))), ALONE),
    "no target column": (ONE, {**ALONE, "target": "z"}),
    "wide": (pd.DataFrame({"time": DAYS, "a": ONE.y, "b": -ONE.y}), {**ALONE, "target": "v"}),
    "wide, numbered": (pd.DataFrame({"time": DAYS, 0: ONE.y, 1: -ONE.y}), {**ALONE, "wide": True, "target": "v"}),
    "a repeated time": (pd.concat([ONE, ONE.iloc[:1]]), ALONE),
    "an empty time": (ONE.assign(time=[*DAYS.strftime("%Y-%m-%d")[:3], "", *DAYS.strftime("%Y-%m-%d")[4:]]), ALONE),
    "an empty id": (MANY.assign(id=MANY.id.replace("a", "")), SERIES),
    "a missing id": (MANY.assign(id=MANY.id.replace("a", None)), SERIES),
    "an id with a leading space": (MANY.assign(id=MANY.id.replace("a", " a")), SERIES),
    "other columns": (ONE.assign(note="x", other=1.0), ALONE),
    "a complex target, refused": (ONE.assign(y=ONE.y + 1j), ALONE),
    "categorical whole numbers with a gap": (ONE.assign(y=pd.Categorical([1, 2, None] * 10)), ALONE),
    "categorical whole numbers, interpolated": (ONE.assign(y=pd.Categorical([1, 2, None] * 10)),
                                                {**ALONE, "fill": "interpolate"}),
    "a time step at infinity": (ONE.assign(time=np.r_[np.arange(29.0), np.inf]), ALONE),
    "steps past int64": (ONE.assign(time=np.arange(30, dtype="uint64") + np.uint64(2**63)), ALONE),
    "steps near int64's end": (ONE.assign(time=np.arange(30, dtype="int64") + (2**63 - 31)), ALONE),
    "a duration target, refused": (ONE.assign(y=pd.to_timedelta(np.arange(30), unit="h")), ALONE),
    "ids that are dates": (MANY.assign(id=MANY.id.map({"b": DAYS[1], "a": DAYS[0], "10": DAYS[3], "2": DAYS[2]})),
                           SERIES),
    "ids that are zoned times": (MANY.assign(id=MANY.id.map({"b": DAYS[1], "a": DAYS[0], "10": DAYS[3], "2": DAYS[2]})
                                             .dt.tz_localize("Europe/Paris")), SERIES),
    "features and known columns": (ONE.assign(x=RNG.normal(size=30), k=RNG.normal(size=30)),
                                   {**ALONE, "features": ("x",), "future": ("k",)}),
    "static columns": (MANY.assign(kind=MANY.id.map({"a": "x", "b": "y", "10": "z", "2": "x"}), size=1),
                       {**SERIES, "static": ("kind", "size")}),
}  # fmt: skip


def made(read):
    """What a panel holds, or the error it gave (rows named by position, as a frame's are)."""
    try:
        panel = read()
    except ForecasterError as exc:
        return re.sub(r"(\S+\.csv|DataFrame): ", "", re.sub(r"\brow at position (\d+)", r"row \1", str(exc)))
    return (
        panel.freq,
        panel.zone,
        [(s.series_id, str(s.start), s.values.round(12).tolist(), dict(s.static), s.n_filled) for s in panel.series],
        [note.replace(panel.path, "") for note in panel.notes],
    )


@pytest.mark.parametrize("name", FRAMES)
def test_a_dataframe_makes_the_panel_its_csv_makes(name, tmp_path, monkeypatch):
    frame, settings = FRAMES[name]
    cfg = DataConfig(**settings)
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    from_file = made(lambda: load_panel(path, cfg))
    if isinstance(from_file, str):  # a file's row N is the frame's position N - 2
        from_file = re.sub(r"\brow (\d+)", lambda found: f"row {int(found.group(1)) - 2}", from_file)
    before = frame.copy()
    monkeypatch.setattr("forecaster.io.readers.csv.read_frame", lambda *_, **__: pytest.fail("read through a CSV"))
    assert made(lambda: read_panel(frame, cfg)) == from_file
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is unchanged


def test_a_dataframe_keeps_its_named_zone_where_a_csv_holds_an_offset():
    paris = ONE.assign(time=pd.date_range("2024-03-30", periods=30, freq="h", tz="Europe/Paris"))
    panel = read_panel(paris, DataConfig(**ALONE))
    assert panel.zone == "Europe/Paris" and len(panel.series[0]) == 30  # across the spring change of clocks


def test_dataframe_errors_name_the_frame_and_the_position_of_the_row():
    with pytest.raises(ForecasterError) as refused:
        read_panel(ONE.assign(y=[*TEXT[:5], "oops", *TEXT[6:]]), DataConfig(**ALONE))
    assert (
        str(refused.value) == "DataFrame: row at position 5, column 'y': 'oops' is not a number; fix or remove the row"
    )


def test_a_frame_of_a_hundred_thousand_columns_is_read_as_its_csv_is():
    """Each name was counted in the list of names: 100,000 columns took hours; a repeated name is still found."""
    wide = pd.DataFrame(np.zeros((30, 100_000)), columns=[f"c{i}" for i in range(100_000)])
    frame = pd.concat([ONE, wide], axis=1)
    panel = read_panel(frame, DataConfig(target="y", time_col="time"))
    assert panel.series[0].values[:, 0].tolist() == ONE.y.tolist()
    frame.columns = [*frame.columns[:-1], "c7"]
    with pytest.raises(ForecasterError, match="column 'c7' appears twice"):
        read_panel(frame, DataConfig(target="y", time_col="time"))
