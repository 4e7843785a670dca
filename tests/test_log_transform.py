"""`--transform log`: the network forecasts the logarithm of the target, every output comes back in the data's
units (forecast, bands, backtests, the exported model), and a value at or below zero is refused in one line."""

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, PANEL, invoke
from test_selection import hourly_panel, hourly_panel_config

from forecaster.data.scaling import AffineScaler, fit_scaler, fit_scalers

LOG = ["--transform", "log"]


def positive_panel(path, zero_at=None, cut=0):
    """Three daily series of different lengths, levels 5, 50 and 3 (one shorter than PANEL's lookback); with
    `zero_at`, series "b" holds a 0 at that row; with `cut`, each series' last `cut` points are left out."""
    rng = np.random.default_rng(1)
    frames = []
    for sid, n, level in [("a", 150, 5.0), ("b", 90, 50.0), ("c", 40, 3.0)]:
        t = np.arange(n)
        y = level + np.sin(2 * np.pi * t / 7) + 0.1 * rng.standard_normal(n)
        if sid == "b" and zero_at is not None:
            y[zero_at] = 0.0
        frame = pd.DataFrame({"id": sid, "time": pd.date_range("2024-01-01", periods=n, freq="D"), "y": y})
        frames.append(frame.iloc[: n - cut])
    pd.concat(frames).to_csv(path, index=False)
    return path


def test_the_log_scaler_inverts_exactly_and_keeps_its_flag_in_json():
    values = np.abs(np.random.default_rng(0).normal(10.0, 3.0, (60, 2))) + 0.1
    scaler = fit_scaler("standard", values, log=True)
    scaled = scaler.transform(values)
    np.testing.assert_allclose(scaled[:, 0].mean(), 0.0, atol=1e-12)  # fitted on the logarithm
    np.testing.assert_allclose(scaler.inverse(scaled[:, 0]), values[:, 0], rtol=1e-13)
    np.testing.assert_allclose(scaler.inverse(scaled[:, 1], column=1), values[:, 1], rtol=1e-13)  # covariates stay
    back = AffineScaler.from_json(json.loads(json.dumps(scaler.to_json())))
    assert back.log and np.array_equal(back.center, scaler.center) and np.array_equal(back.scale, scaler.scale)
    assert not AffineScaler.from_json({"center": [1.0], "scale": [2.0]}).log  # a run made before the option
    together = fit_scalers("standard", [values, values[:10]], log=True)[1]
    alone = fit_scaler("standard", values[:10], log=True)
    np.testing.assert_allclose(together.center, alone.center)
    assert together.log
    np.testing.assert_allclose(scaler.spread, np.exp(scaler.center[0]) * scaler.scale[0])


@pytest.mark.parametrize(
    "series,length,given,expected",
    [
        (
            200,
            400,
            {},
            "log",
        ),  # a wide panel of long series, every value above zero: as M4 Hourly and Weekly, where it won
        (199, 400, {}, "none"),  # one series fewer: not measured
        (200, 200, {}, "none"),  # series of 200 points: a short panel (M3's), not measured
        (200, 400, {"transform": "none"}, "none"),  # given wins
        (1, 400, {"transform": "log"}, "log"),
    ],
)
def test_wide_panels_of_long_positive_series_forecast_their_logarithm(series, length, given, expected):
    assert hourly_panel_config(series, length, 24, given).window.transform == expected


def test_a_panel_with_a_value_at_zero_keeps_its_values_as_they_are():
    from forecaster.data.resolve import resolve_config

    panel, settings = hourly_panel(200, 400, {"horizon": 24})
    panel.series[7].values[100, 0] = 0.0
    assert resolve_config(settings, panel)[0].window.transform == "none"


def test_train_refuses_a_value_at_or_below_zero_in_one_line_and_writes_nothing(tmp_path):
    data = positive_panel(tmp_path / "panel.csv", zero_at=30)
    result = invoke("train", data, *PANEL, *FAST, *LOG, "--out", tmp_path / "run")
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.output
    message = errors[0]
    assert "column 'y', series 'b' at 2024-01-31: 0 is not above zero" in message
    assert "--transform none" in message
    assert not (tmp_path / "run").exists()


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """A run on the logarithm of a positive panel, its forecast with 80% bands, its SavedModel export with those
    bands, and the panel with 5 newer points a series (panel.csv) for evaluate."""
    root = tmp_path_factory.mktemp("log")
    positive_panel(root / "panel.csv")
    data = positive_panel(root / "trained.csv", cut=5)
    run = root / "run"
    result = invoke("train", data, *PANEL, *FAST, *LOG, "--out", run)
    assert result.exit_code == 0, result.output
    result = invoke("forecast", run, "--data", data, "--out", root / "forecast.csv", "--level", "80")
    assert result.exit_code == 0, result.output
    result = invoke("export", run, "--out", root / "export", "--level", "80")
    assert result.exit_code == 0, result.output
    return root


def test_a_log_run_forecasts_in_the_data_s_units(logged):
    scalers = json.loads((logged / "run" / "scalers.json").read_text())
    assert all(state["log"] for state in scalers.values())
    frame = pd.read_csv(logged / "forecast.csv")
    levels = frame.groupby("id")["forecast"].mean()
    assert 3 < levels["a"] < 8 and 40 < levels["b"] < 60 and 1.5 < levels["c"] < 5  # not their logarithms
    assert (frame["lo_80"] <= frame["forecast"]).all() and (frame["forecast"] <= frame["hi_80"]).all()


def client_inputs(logged, manifest: dict) -> dict[str, np.ndarray]:
    """What a client sends the exported model: each series' last `lookback` raw values right-padded with NaN, their
    valid length, seasonal naive's error over the history (for the bands) and, for ONNX, the series' scaler."""
    from forecaster.scoring.calibration import history_spreads

    frame = pd.read_csv(logged / "trained.csv")
    lookback = manifest["lookback"]
    ids, values, lengths, histories = [], [], [], []
    for sid, group in frame.groupby("id", sort=True):
        history = group["y"].to_numpy("float64")
        tail = history[-lookback:].astype("float32")
        ids.append(sid)
        values.append(np.pad(tail, (0, lookback - len(tail)), constant_values=np.nan)[:, None])
        lengths.append(len(tail))
        histories.append(history)
    season = json.loads((logged / "run" / "calibration.json").read_text())["season"]
    inputs = {
        "series_id": np.array([sid.encode() for sid in ids]),
        "values": np.stack(values),
        "length": np.array(lengths, dtype="int32"),
        "history_mae": history_spreads(histories, np.array([len(h) for h in histories]), season),
    }
    if manifest["format"] == "onnx":
        for name in ("center", "scale"):
            inputs[name] = np.array([manifest["series"][sid][name] for sid in ids])
        inputs["series"] = np.array([manifest["series"][sid]["row"] for sid in ids], dtype="int32")
    return {name: array for name, array in inputs.items() if name in manifest["inputs"]}


def test_a_log_run_s_saved_model_serves_its_forecast_and_bands_and_refuses_a_zero(logged):
    import tensorflow as tf

    manifest = json.loads((logged / "export" / "manifest.json").read_text())
    assert manifest["transform"] == "log"
    inputs = client_inputs(logged, manifest)
    served = tf.saved_model.load(str(logged / "export" / "saved_model")).signatures["serving_default"]
    outputs = served(**{name: tf.constant(array) for name, array in inputs.items()})
    assert_the_forecast_and_bands(logged, {name: value.numpy() for name, value in outputs.items()})
    inputs["values"][1, 3, 0] = 0.0  # inside series b's window
    with pytest.raises(tf.errors.InvalidArgumentError, match="values must be above zero"):
        served(**{name: tf.constant(array) for name, array in inputs.items()})


@pytest.mark.slow
def test_a_log_run_s_onnx_export_serves_its_forecast_and_bands(logged):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    out = logged / "onnx"
    result = invoke("export", logged / "run", "--out", out, "--format", "onnx", "--level", "80")
    assert result.exit_code == 0, result.output
    session = ort.InferenceSession(str(out / "model.onnx"))
    inputs = client_inputs(logged, json.loads((out / "manifest.json").read_text()))
    assert_the_forecast_and_bands(logged, dict(zip([o.name for o in session.get_outputs()], session.run(None, inputs))))


def assert_the_forecast_and_bands(logged, outputs: dict[str, np.ndarray]) -> None:
    """The exported model's (3 series, 5 steps) outputs are what `forecast` wrote."""
    expected = pd.read_csv(logged / "forecast.csv").sort_values(["id", "time"])
    for column in ["forecast", "lo_80", "hi_80"]:
        np.testing.assert_allclose(outputs[column], expected[column].to_numpy().reshape(3, 5), rtol=1e-5, atol=1e-4)


def test_forecast_and_evaluate_refuse_a_value_at_or_below_zero_for_a_log_run_and_write_nothing(logged, tmp_path):
    data = positive_panel(tmp_path / "zero.csv", zero_at=80)
    result = invoke("forecast", logged / "run", "--data", data, "--out", tmp_path / "forecast.csv")
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.output
    message = errors[0]
    assert "series 'b' at 2024-03-21: 0 is not above zero" in message
    assert not (tmp_path / "forecast.csv").exists()
    result = invoke("evaluate", logged / "run", "--data", data, "--out", tmp_path / "evaluation")
    assert result.exit_code == 2 and "series 'b' at 2024-03-21: 0 is not above zero" in result.output
    assert not (tmp_path / "evaluation").exists()


def test_a_log_run_s_backtest_scores_in_the_data_s_units(logged, tmp_path):
    result = invoke("evaluate", logged / "run", "--data", logged / "panel.csv", "--out", tmp_path / "evaluation")
    assert result.exit_code == 0, result.output
    windows = pd.read_csv(tmp_path / "evaluation" / "forecasts.csv")
    ratio = (windows["forecast"] / windows["actual"]).groupby(windows["id"]).mean()
    assert ratio.between(0.5, 2.0).all()  # levels 5, 50 and 3, not their logarithms
    assert (windows["lo_95"] <= windows["lo_80"]).all() and (windows["hi_80"] <= windows["hi_95"]).all()
    model = json.loads((tmp_path / "evaluation" / "metrics.json").read_text())["overall"]["model"]
    assert np.isclose(model["mae"], (windows["forecast"] - windows["actual"]).abs().mean())


def test_a_log_run_updates_on_newer_data_and_refuses_a_newer_zero(logged, tmp_path):
    result = invoke(
        "update", logged / "run", "--data", logged / "panel.csv", "--out", tmp_path / "run2", "--epochs", "1"
    )
    assert result.exit_code == 0, result.output
    scalers = json.loads((tmp_path / "run2" / "scalers.json").read_text())
    assert all(state["log"] for state in scalers.values())
    result = invoke("forecast", tmp_path / "run2", "--data", logged / "panel.csv", "--out", tmp_path / "f.csv")
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "f.csv")["forecast"].between(1.0, 80.0).all()
    lines = (logged / "panel.csv").read_text().splitlines()
    lines[-1] = lines[-1].rsplit(",", 1)[0] + ",-1.0"  # series c's newest point; the rest as the run read it
    (tmp_path / "negative.csv").write_text("\n".join(lines) + "\n")
    result = invoke("update", logged / "run", "--data", tmp_path / "negative.csv", "--out", tmp_path / "run3")
    assert result.exit_code == 2 and "-1 is not above zero" in result.output
    assert not (tmp_path / "run3").exists()


def test_the_python_api_takes_the_transform_and_forecasts_in_the_data_s_units(tmp_path):
    from forecaster import Forecaster

    data = positive_panel(tmp_path / "panel.csv")
    options = {"target": "y", "time_col": "time", "id_col": "id", "horizon": 5, "lookback": 56}
    fast = {"epochs": 1, "layers": (8,), "batch_size": 32, "ensemble": 1, "select": "model"}
    model = Forecaster(**options, **fast, transform="log").fit(data, out=tmp_path / "run")
    assert all(state["log"] for state in json.loads((tmp_path / "run" / "scalers.json").read_text()).values())
    levels = model.predict(data).groupby("id")["forecast"].mean()
    assert 3 < levels["a"] < 8 and 40 < levels["b"] < 60 and 1.5 < levels["c"] < 5
