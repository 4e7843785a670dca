"""Calendar features and series embeddings: exact feature values, windows carry the right time and
series row, and both survive saving, reordering and serving."""

import numpy as np
import pandas as pd
import pytest
from cli_helpers import PANEL, invoke, train
from conftest import write_panel

from forecaster.data.calendar import calendar_features, default_cycles, resolve_cycles, step_seconds, unix_seconds
from forecaster.data.windowing import Carried, WindowSource
from forecaster.errors import ForecasterError
from forecaster.models.layers import CalendarFeatures


def test_phases_of_known_moments():
    # 2024-01-01 was a Monday; the step after 2024-01-01 11:00 is noon on Monday
    last = unix_seconds(pd.DatetimeIndex(["2024-01-01 11:00"]))
    day_sin, day_cos, week_sin, week_cos = calendar_features(last, ("day", "week"), 3600.0, 1)[0, 0]
    np.testing.assert_allclose([day_sin, day_cos], [0.0, -1.0], atol=1e-12)  # noon: half way through the day
    angle = 2 * np.pi * 0.5 / 7  # half a day into the week
    np.testing.assert_allclose([week_sin, week_cos], [np.sin(angle), np.cos(angle)], atol=1e-12)


def test_layer_matches_numpy_reference_over_a_year_of_hours():
    last = unix_seconds(pd.date_range("2023-03-01", periods=500, freq="17h", tz="Europe/Paris"))
    layer = CalendarFeatures(("day", "week", "year"), 3600.0, horizon=48)
    got = np.asarray(layer(last))
    assert got.shape == (500, 48, 6) and got.dtype == np.float32
    np.testing.assert_allclose(got, calendar_features(last, ("day", "week", "year"), 3600.0, 48), atol=2e-6)
    again = CalendarFeatures.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()


def test_time_zone_is_dropped_keeping_local_hours():
    local = pd.DatetimeIndex(["2024-06-01 09:00"]).tz_localize("America/New_York")
    assert unix_seconds(local)[0] == unix_seconds(pd.DatetimeIndex(["2024-06-01 09:00"]))[0]


@pytest.mark.parametrize(
    "freq,span_days,cycles",
    [
        ("h", 30, ("day", "week")),
        ("h", 800, ("day", "week", "year")),
        ("D", 800, ("week", "year")),
        ("W-SUN", 3000, ("year",)),
        ("MS", 3000, ("year",)),
        ("B", 3000, ()),
        ("int:1", 3000, ()),
    ],
)
def test_auto_picks_cycles_longer_than_a_step_and_seen_twice(freq, span_days, cycles):
    assert default_cycles(freq, span_days * 86400.0) == cycles


def test_calendar_choices_are_checked():
    assert resolve_cycles("none", "h", 1e9) == ()
    assert resolve_cycles("day,year", "h", 1e3) == ("day", "year")  # asked for explicitly
    with pytest.raises(ForecasterError, match="unknown cycle 'month'"):
        resolve_cycles("month", "h", 1e9)
    with pytest.raises(ForecasterError, match="use --calendar none"):
        resolve_cycles("week", "int:1", 1e9)
    assert step_seconds("MS") == pytest.approx(365.2425 * 86400 / 12)


def test_windows_carry_the_time_of_their_last_valid_point_and_the_series_row():
    first, second = np.arange(10, dtype="float32")[:, None], np.arange(6, dtype="float32")[:, None]
    times = [1000 + 60 * np.arange(10), 5000 + 60 * np.arange(6)]
    source = WindowSource([first, second], lookback=4, horizon=2, carried=Carried(times, np.array([7, 3])))
    inputs = source.gather_fn(with_target=False)(np.array([0, 1, 1]), np.array([5, 4, 2]))
    np.testing.assert_array_equal(inputs["time"].numpy(), [1000 + 60 * 4, 5000 + 60 * 3, 5000 + 60 * 1])
    np.testing.assert_array_equal(inputs["series"].numpy(), [7, 3, 3])


def test_series_embedding_follows_the_id_not_the_file_order(tmp_path):
    """Forecasting a file with its series in another order gives each series its own forecast."""
    data = write_panel(tmp_path / "panel.csv")
    run = tmp_path / "run"
    result = train(data, PANEL, run, "--series-embedding", "4", "--calendar", "week")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(data)
    reordered = tmp_path / "reordered.csv"
    pd.concat([frame[frame.id == sid] for sid in ("c", "a", "b")]).to_csv(reordered, index=False)
    forecasts = []
    for source in (data, reordered):
        out = tmp_path / f"{source.stem}_forecast.csv"
        assert invoke("forecast", run, "--data", source, "--out", out).exit_code == 0
        forecasts.append(pd.read_csv(out).sort_values(["id", "time"]).reset_index(drop=True))
    pd.testing.assert_frame_equal(forecasts[0], forecasts[1])
    means = forecasts[0].groupby("id")["forecast"].mean()
    np.testing.assert_allclose(means[["a", "b", "c"]], [5.0, 50.0, -3.0], atol=1.5)  # each near its own level
