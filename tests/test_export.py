"""The exported artifact serves without forecaster: same numbers as `forecaster forecast`, any batch size."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, PANEL, invoke
from conftest import write_panel

LOOKBACK = 56  # PANEL's lookback; series "c" has 40 points, so its window is padded

# Runs in a fresh interpreter that never imports forecaster: only TensorFlow and NumPy.
SERVE = textwrap.dedent(
    """
    import sys
    import numpy as np
    import tensorflow as tf

    export_dir, inputs_path, out_path = sys.argv[1:]
    served = tf.saved_model.load(export_dir).signatures["serving_default"]
    batch = dict(np.load(inputs_path))
    whole = served(**{name: tf.constant(array) for name, array in batch.items()})
    one_by_one = [
        served(**{name: tf.constant(array[i:i + 1]) for name, array in batch.items()})
        for i in range(len(batch["length"]))
    ]
    assert "forecaster" not in sys.modules
    np.savez(out_path, **{f"batch_{name}": whole[name].numpy() for name in whole},
             **{f"single_{name}": np.concatenate([o[name].numpy() for o in one_by_one]) for name in whole})
    """
)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A quantile run on the three-series panel, its forecast CSV and its SavedModel export; the run
    has calendar features and a series embedding, so the export takes every input it can, and is an
    ensemble of two window-scaled, deseasonalising networks with the linear path wide panels of long windows get
    by default, so the export serves their combined forecast."""
    root = tmp_path_factory.mktemp("export")
    data = write_panel(root / "panel.csv")
    run = root / "run"
    options = ["--quantiles", "0.1,0.5,0.9", "--calendar", "week", "--series-embedding", "3"]
    options += ["--ensemble", "2", "--instance-norm", "mean_std", "--loss-scale", "window", "--linear-skip"]
    options += ["--season-norm"]
    assert invoke("train", data, *PANEL, *FAST, *options, "--out", run).exit_code == 0  # options after FAST win
    result = invoke("forecast", run, "--data", data, "--out", root / "forecast.csv")
    assert result.exit_code == 0, result.output
    result = invoke("export", run, "--out", root / "export")
    assert result.exit_code == 0, result.output
    return root


def raw_windows(data: Path) -> dict[str, np.ndarray]:
    """What a client sends: each series' last LOOKBACK raw values, right-padded with NaN, and the
    Unix time of its last value."""
    frame = pd.read_csv(data, parse_dates=["time"])
    ids, values, lengths, times = [], [], [], []
    for sid, group in frame.groupby("id", sort=True):
        tail = group["y"].to_numpy("float32")[-LOOKBACK:]
        ids.append(sid.encode())
        values.append(np.pad(tail, (0, LOOKBACK - len(tail)), constant_values=np.nan)[:, None])
        lengths.append(len(tail))
        times.append(int(group["time"].iloc[-1].timestamp()))
    return {
        "series_id": np.array(ids),
        "values": np.stack(values),
        "length": np.array(lengths, dtype="int32"),
        "time": np.array(times, dtype="int64"),
    }


@pytest.mark.slow
def test_saved_model_serves_the_cli_forecast_without_forecaster(exported):
    inputs = raw_windows(exported / "panel.csv")
    assert inputs["length"].tolist() == [56, 56, 40]  # "c" is padded
    np.savez(exported / "inputs.npz", **inputs)
    subprocess.run(
        [
            sys.executable,
            "-c",
            SERVE,
            exported / "export" / "saved_model",
            exported / "inputs.npz",
            exported / "out.npz",
        ],
        check=True,
        env={**os.environ, "PYTHONPATH": ""},
        cwd=exported,
    )
    served = np.load(exported / "out.npz")
    expected = pd.read_csv(exported / "forecast.csv").sort_values(["id", "time"])
    for column in ["forecast", "q_10", "q_50", "q_90"]:
        want = expected[column].to_numpy().reshape(3, 5)
        for batching in ("batch", "single"):
            np.testing.assert_allclose(served[f"{batching}_{column}"], want, rtol=1e-5, err_msg=f"{batching} {column}")


def test_export_holds_no_cudnn_op_and_a_manifest(exported):
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((exported / "export" / "saved_model" / "saved_model.pb").read_bytes())
    graph = proto.meta_graphs[0].graph_def
    ops = {node.op for node in graph.node} | {n.op for f in graph.library.function for n in f.node_def}
    assert "While" in ops  # the LSTM's generic loop is there ...
    assert not [op for op in ops if op.startswith("Cudnn")]  # ... and no cuDNN-only kernel

    manifest = json.loads((exported / "export" / "manifest.json").read_text())
    assert manifest["inputs"]["values"]["shape"] == ["batch", LOOKBACK, 1]
    assert list(manifest["outputs"]) == ["forecast", "q_10", "q_50", "q_90"]
    assert sorted(manifest["series"]) == ["a", "b", "c"] and manifest["horizon"] == 5


def test_generic_kernel_is_chosen_before_tracing(exported):
    from forecaster.serving.graph import serving_model
    from forecaster.training.runs import load_run

    ensemble = serving_model(load_run(exported / "run")).get_layer("ensemble")
    members = [ensemble.get_layer(f"member_{k}") for k in range(2)]
    recurrent = [layer for network in members for layer in network.layers if layer.name.startswith("lstm")]
    assert len(recurrent) == 2 and all(layer.use_cudnn is False for layer in recurrent)


def test_unknown_series_id_fails_the_call_with_a_message(exported):
    import tensorflow as tf

    served = tf.saved_model.load(str(exported / "export" / "saved_model")).signatures["serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="unknown series_id"):
        served(
            series_id=tf.constant(["a", "nope"]),
            values=tf.zeros((2, LOOKBACK, 1)),
            length=tf.constant([LOOKBACK, LOOKBACK]),
            time=tf.constant([0, 0], tf.int64),
        )


@pytest.mark.slow
def test_saved_model_cli_shows_and_runs_the_signature(exported):
    cli = Path(sys.executable).parent / "saved_model_cli"
    if not cli.exists():
        pytest.skip("saved_model_cli is not installed beside this interpreter")
    saved = exported / "export" / "saved_model"
    shown = subprocess.run([cli, "show", "--dir", saved, "--all"], capture_output=True, text=True, check=True)
    for name in ("series_id", "values", "length", "time", "forecast", "q_90"):
        assert f"['{name}']" in shown.stdout
    np.savez(exported / "cli_inputs.npz", **raw_windows(exported / "panel.csv"))
    names = ("series_id", "values", "length", "time")
    inputs = ";".join(f"{name}={exported / 'cli_inputs.npz'}[{name}]" for name in names)
    ran = subprocess.run(
        [cli, "run", "--dir", saved, "--tag_set", "serve", "--signature_def", "serving_default", "--inputs", inputs],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "forecast" in ran.stdout


def test_keras_format_gives_the_same_forecast(exported):
    import keras
    import tensorflow as tf

    result = invoke("export", exported / "run", "--out", exported / "keras_export", "--format", "keras")
    assert result.exit_code == 0, result.output
    model = keras.saving.load_model(exported / "keras_export" / "model.keras", safe_mode=True)
    inputs = raw_windows(exported / "panel.csv")
    predicted = model({name: tf.constant(array) for name, array in inputs.items()})
    expected = pd.read_csv(exported / "forecast.csv").sort_values(["id", "time"])
    np.testing.assert_allclose(predicted["forecast"], expected["forecast"].to_numpy().reshape(3, 5), rtol=1e-5)


@pytest.mark.slow
def test_onnx_format_gives_the_same_forecast_in_onnxruntime(exported):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    result = invoke("export", exported / "run", "--out", exported / "onnx_export", "--format", "onnx")
    assert result.exit_code == 0, result.output
    manifest = json.loads((exported / "onnx_export" / "manifest.json").read_text())
    session = ort.InferenceSession(str(exported / "onnx_export" / "model.onnx"))
    inputs = raw_windows(exported / "panel.csv")
    ids = [sid.decode() for sid in inputs.pop("series_id")]
    for name in ("center", "scale"):
        inputs[name] = np.array([manifest["series"][sid][name] for sid in ids])
    inputs["series"] = np.array([manifest["series"][sid]["row"] for sid in ids], dtype="int32")
    outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, inputs)))
    expected = pd.read_csv(exported / "forecast.csv").sort_values(["id", "time"])
    for column in ["forecast", "q_10", "q_90"]:
        np.testing.assert_allclose(outputs[column], expected[column].to_numpy().reshape(3, 5), rtol=1e-5)
    for length in (0, -5):  # issue 30: ONNX drops the SavedModel's asserts; a NaN forecast, not a plausible one
        unusable = {**inputs, "length": np.full_like(inputs["length"], length)}
        outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, unusable)))
        assert np.isnan(outputs["forecast"]).all()


@pytest.mark.parametrize("imports", ["forecaster", "keras, forecaster", "tensorflow, forecaster"])
@pytest.mark.slow
def test_keras_export_loads_in_a_fresh_interpreter_with_load_keras(exported, imports):
    if not (exported / "keras" / "model.keras").exists():
        result = invoke("export", exported / "run", "--format", "keras", "--out", exported / "keras")
        assert result.exit_code == 0, result.output
    code = (
        f"import sys, {imports}\n"
        "model = forecaster.load_keras(sys.argv[1])\n"
        "assert 'forecast' in model.output_names or 'forecast' in str(model.outputs)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(exported / "keras" / "model.keras")], check=True)


@pytest.mark.slow
def test_onnx_format_gives_the_forecast_level_bands_with_history_mae(exported):
    """ONNX bands take the series' row and seasonal naive's error over its history, as the manifest says."""
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    from forecaster.scoring.calibration import history_spreads

    out = exported / "onnx_levels"
    result = invoke("export", exported / "run", "--out", out, "--format", "onnx", "--level", "80,95")
    assert result.exit_code == 0, result.output
    expected_csv = exported / "forecast_levels.csv"
    result = invoke("forecast", exported / "run", "--data", exported / "panel.csv", "--out", expected_csv,
                    "--level", "80,95")  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"history_mae", "series", "center", "scale"} <= set(manifest["inputs"])
    season = json.loads((exported / "run" / "calibration.json").read_text())["season"]
    inputs = raw_windows(exported / "panel.csv")
    ids = [sid.decode() for sid in inputs.pop("series_id")]
    for name in ("center", "scale"):
        inputs[name] = np.array([manifest["series"][sid][name] for sid in ids])
    inputs["series"] = np.array([manifest["series"][sid]["row"] for sid in ids], dtype="int32")
    frame = pd.read_csv(exported / "panel.csv")
    histories = [frame.loc[frame["id"] == sid, "y"].to_numpy("float64") for sid in ids]
    inputs["history_mae"] = history_spreads(histories, np.array([len(h) for h in histories]), season)
    session = ort.InferenceSession(str(out / "model.onnx"))
    outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, inputs)))
    expected = pd.read_csv(expected_csv).sort_values(["id", "time"])
    for column in ["forecast", "lo_80", "hi_80", "lo_95", "hi_95"]:
        np.testing.assert_allclose(outputs[column], expected[column].to_numpy().reshape(3, 5), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"values": np.zeros((1, LOOKBACK + 2, 1), "float32")}, "values must be"),
        ({"values": np.zeros((1, LOOKBACK, 2), "float32")}, "values must be"),
        ({"length": np.array([0], "int32")}, "length must be at least 1"),
        ({"length": np.array([-5], "int32")}, "length must be at least 1"),
    ],
)
def test_the_saved_model_refuses_inputs_of_the_wrong_shape_or_length(exported, change, message):
    """Issue 30: values of more steps or columns than the signature's were cut or broadcast into a
    plausible forecast, and a length of 0 or -5 served one."""
    import tensorflow as tf

    served = tf.saved_model.load(str(exported / "export" / "saved_model")).signatures["serving_default"]
    inputs = {"series_id": np.array([b"a"]), "values": np.zeros((1, LOOKBACK, 1), "float32"),
              "length": np.array([LOOKBACK], "int32"), "time": np.array([0], "int64"), **change}  # fmt: skip
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError, TypeError), match=message + "|shape"):
        served(**{name: tf.constant(array) for name, array in inputs.items()})
