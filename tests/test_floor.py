"""The forecast's range: a series that keeps returning to a floor (zero, or a minimum above zero) is never
forecast below it, in `forecast`, its bands, the backtest and the exported model alike."""

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, invoke

from forecaster.scoring.calibration import history_spreads
from forecaster.scoring.floor import FLOOR_SHARE, floored, window_floor, window_floors

HORIZON, LOOKBACK = 7, 28


def test_a_window_that_sits_on_its_minimum_has_that_floor_and_one_that_passes_through_it_none():
    counts = np.array([0, 0, 3, 5, 0, 0, 2, 7, 0, 1] * 3, dtype=float)
    assert window_floor(counts) == 0.0
    base_load = np.r_[np.full(10, 10.0), np.linspace(10, 80, 10), np.full(10, 10.0)]  # a floor above zero
    assert window_floor(base_load) == 10.0
    trend_down = np.linspace(100.0, 1.0, 100)  # its minimum is only its last point
    assert 1 / 100 < FLOOR_SHARE and window_floor(trend_down) == -np.inf
    settles = np.r_[np.linspace(100.0, 1.0, 80), np.full(20, 1.0)]  # at its minimum only at the end: no return
    assert window_floor(settles) == -np.inf
    assert window_floor(np.r_[settles, np.linspace(1.0, 60.0, 10), np.full(5, 1.0)]) == 1.0  # away and back
    assert window_floor(np.full(20, 3.0)) == -np.inf  # flat: nothing to hold up
    assert window_floor(np.array([np.nan, 1.0, 5.0, 1.0, np.nan])) == 1.0  # empty cells are ignored
    windows = window_floors([counts, trend_down], np.array([30, 100]), lookback=40, patch=4)
    assert windows[0] == 0.0 and windows[1] == -np.inf  # from its last 28 and 40 points
    made = floored(np.array([[-1.0, 2.0], [-1.0, 2.0]]), windows[:2])
    assert made.tolist() == [[0.0, 2.0], [-1.0, 2.0]]


def on_a_floor(floor):
    """Three daily series that spend every night at `floor` and rise by day: each window sits on it."""
    frames = []
    rng = np.random.default_rng(0)
    for sid, size in [("a", 5.0), ("b", 20.0), ("c", 8.0)]:
        t = np.arange(210)
        rise = np.maximum(0.0, size * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3 * size, 210))
        frames.append(pd.DataFrame({"id": sid, "time": pd.date_range("2024-01-01", periods=210, freq="D"),
                                    "y": floor + rise}))  # fmt: skip
    return pd.concat(frames)


OPTIONS = ["--target", "y", "--time-col", "time", "--id-col", "id", "--horizon", str(HORIZON),
           "--lookback", str(LOOKBACK)]  # fmt: skip


@pytest.fixture(scope="module", params=[0.0, 10.0], ids=["zero", "ten"])
def trained(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("floor")
    data = root / "data.csv"
    on_a_floor(request.param).to_csv(data, index=False)
    for name, extra in (("run", []), ("unfloored", ["--no-floor"])):  # each trained, and its forecast made
        assert invoke("train", data, *OPTIONS, *FAST, "--holdout", "21", *extra, "--out", root / name).exit_code == 0
        result = invoke("forecast", root / name, "--data", data, "--level", "80,95", "--out", root / f"{name}.csv")
        assert result.exit_code == 0, result.output
    return root, request.param


def test_a_series_on_a_floor_is_never_forecast_below_it(trained):
    root, floor = trained
    made, free = pd.read_csv(root / "run.csv"), pd.read_csv(root / "unfloored.csv")
    assert (free["lo_80"] < floor).any()  # without the floor, the bands reach below it
    assert (made["forecast"] >= floor).all() and (made["lo_80"] >= floor).all() and (made["lo_95"] >= floor).all()
    assert (made["lo_95"] <= made["lo_80"]).all() and (made["lo_80"] <= made["forecast"]).all()
    np.testing.assert_allclose(made["forecast"], np.maximum(free["forecast"], floor), rtol=1e-6)
    result = invoke("evaluate", root / "run", "--data", root / "data.csv", "--folds", "3", "--out", root / "ev")
    assert result.exit_code == 0, result.output
    windows = pd.read_csv(root / "ev" / "forecasts.csv")
    assert (windows["forecast"] >= floor).all() and (windows["lo_80"] >= floor).all()


def test_the_export_applies_the_floor_as_forecast_does(trained):
    import tensorflow as tf

    root, floor = trained
    assert invoke("export", root / "run", "--level", "80", "--out", root / "export").exit_code == 0
    served = tf.saved_model.load(str(root / "export" / "saved_model")).signatures["serving_default"]
    frame = pd.read_csv(root / "data.csv")
    ids = sorted(frame["id"].unique())
    histories = [frame.loc[frame["id"] == sid, "y"].to_numpy("float64") for sid in ids]
    values = np.stack([history[-LOOKBACK:, None].astype("float32") for history in histories])
    mae = history_spreads(histories, np.array([len(h) for h in histories]), season=7)
    out = served(series_id=tf.constant(ids), values=tf.constant(values), history_mae=tf.constant(mae),
                 length=tf.constant(np.full(len(ids), LOOKBACK, dtype="int32")))  # fmt: skip
    made = pd.read_csv(root / "run.csv").sort_values(["id", "time"])
    np.testing.assert_allclose(out["forecast"].numpy(), made["forecast"].to_numpy().reshape(len(ids), HORIZON),
                               rtol=1e-5, atol=1e-5)  # fmt: skip
    # the graph computes in float32: at the floor, within its rounding of the unscaled value
    assert (out["forecast"].numpy() >= floor - 1e-5).all() and (out["lo_80"].numpy() >= floor - 1e-5).all()
