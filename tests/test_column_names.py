"""A user's column is only ever the user's: names the reading uses inside (a time, a series) never collide
with a target, feature, time or id column, whatever it is called."""

import numpy as np
import pandas as pd
import pytest

from forecaster.config import DataConfig
from forecaster.data.panel import read_panel


def frame_named(target, time, feature=None, ids=None):
    n = 60
    t = np.arange(n)
    columns = {time: pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"), target: 10 + np.sin(t)}
    if feature:
        columns[feature] = np.arange(n, dtype="float64") * 2.0
    if ids:
        columns[ids] = ["a"] * 30 + ["b"] * 30
    return pd.DataFrame(columns)


@pytest.mark.parametrize("source", ["csv", "frame"])
@pytest.mark.parametrize(
    "target, time, feature, ids",
    [
        ("y", "time", "_time", None),  # was replaced by the timestamps: nanoseconds since 1970
        ("y", "_time", None, None),  # was a KeyError
        ("_id", "time", None, None),  # was "'series' is not a number"
        ("y", "time", "_id", None),
        ("y", "time", "_series", "id"),
        ("_id", "_time", "_series", "_id2"),
    ],
)
def test_a_column_named_like_an_internal_one_is_the_user_s(tmp_path, source, target, time, feature, ids):
    frame = frame_named(target, time, feature, ids)
    data = frame
    if source == "csv":
        data = tmp_path / "data.csv"
        frame.to_csv(data, index=False)
    cfg = DataConfig(target=target, time_col=time, id_col=ids, features=(feature,) if feature else ())
    panel = read_panel(data, cfg)
    got = np.concatenate([series.values for series in panel.series])
    expected = frame[[target, *([feature] if feature else [])]].to_numpy("float64")
    np.testing.assert_array_equal(got, expected)
    assert str(panel.series[0].start)[:10] == "2024-01-01"
    assert [s.series_id for s in panel.series] == (["a", "b"] if ids else ["series"])
