"""Future-known covariates (`--future`): their values at the forecast steps are rows after each series'
last target value; the network uses them, forecast / evaluate / the export take them, and a missing
value is one line naming the series, the time and the column."""

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import invoke

HORIZON = 12
OPTIONS = ["--target", "y", "--time-col", "time", "--id-col", "id", "--horizon", str(HORIZON), "--ensemble", "1",
           "--select", "model", "--quiet", "--epochs", "12"]  # fmt: skip


def panel(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Three hourly series whose target is three times a wandering 'load forecast' plus a little noise:
    a forecaster that knows the load ahead can be near exact; one that does not, cannot."""
    rng = np.random.default_rng(seed)
    frames = []
    for sid in ("a", "b", "c"):
        t = np.arange(n + HORIZON)
        load = np.cumsum(rng.normal(0, 1, len(t))) + 5 * np.sin(2 * np.pi * t / 24)
        frames.append(pd.DataFrame({"id": sid, "time": pd.date_range("2024-01-01", periods=len(t), freq="h"),
                                    " Load fc": load, "y": 3 * load + rng.normal(0, 0.5, len(t))}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("covariates")
    full = panel()
    full.to_csv(root / "full.csv", index=False)
    data = full.copy()
    data.loc[data.groupby("id").cumcount() >= len(full) // 3 - HORIZON, "y"] = np.nan  # the future: target empty
    data.to_csv(root / "data.csv", index=False)
    data.dropna(subset=["y"]).to_csv(root / "history.csv", index=False)
    result = invoke("train", root / "data.csv", *OPTIONS, "--future", "Load fc", "--out", root / "run")
    assert result.exit_code == 0, result.output
    return root


def mae_against(root, forecast_csv):
    full = pd.read_csv(root / "full.csv", parse_dates=["time"])
    got = pd.read_csv(forecast_csv, parse_dates=["time"]).merge(full, on=["id", "time"])
    assert len(got) == 3 * HORIZON
    return float(np.abs(got["forecast"] - got["y"]).mean())


def test_known_future_values_make_the_forecast(trained, tmp_path):
    """Named as the user types it (the header has a leading space); the same defaults with the column as a
    past-only feature cannot know tomorrow's load and miss by far more."""
    out = tmp_path / "with.csv"
    result = invoke("forecast", trained / "run", "--data", trained / "data.csv", "--out", out, "--level", "80")
    assert result.exit_code == 0, result.output
    with_future = mae_against(trained, out)
    assert invoke("train", trained / "history.csv", *OPTIONS, "--features", "Load fc", "--out", tmp_path / "past")
    result = invoke("forecast", tmp_path / "past", "--data", trained / "history.csv", "--out", tmp_path / "past.csv")
    assert result.exit_code == 0, result.output
    without = mae_against(trained, tmp_path / "past.csv")
    print(f"MAE with --future {with_future:.3f}, with the column as a past feature {without:.3f}")
    assert with_future < 1.5 < 4 < without  # noise alone: 0.4
    frame = pd.read_csv(out)
    assert frame["lo_80"].notna().all() and (frame["lo_80"] < frame["hi_80"]).all()


@pytest.mark.slow
def test_evaluate_backtests_with_the_known_values_of_each_window(trained, tmp_path):
    run = tmp_path / "held"
    options = [*OPTIONS, "--future", "Load fc", "--holdout", "48"]
    assert invoke("train", trained / "data.csv", *options, "--out", run).exit_code == 0
    result = invoke("evaluate", run, "--data", trained / "data.csv", "--folds", "4", "--out", tmp_path / "ev")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert report["windows"] == 12
    assert report["overall"]["model"]["mae"] < 0.5 * report["overall"]["seasonal_naive"]["mae"]
    windows = pd.read_csv(tmp_path / "ev" / "forecasts.csv", parse_dates=["cutoff", "time"])
    assert len(windows) == 12 * HORIZON and {"id", "cutoff", "time", "actual", "forecast", "naive", "lo_95"} <= set(
        windows.columns
    )
    assert (windows["time"] > windows["cutoff"]).all() and windows.groupby(["id", "cutoff"]).size().eq(HORIZON).all()
    mae = np.abs(windows["actual"] - windows["forecast"]).mean()
    assert mae == pytest.approx(report["overall"]["model"]["mae"])
    full = pd.read_csv(trained / "full.csv", parse_dates=["time"])
    joined = windows.merge(full, on=["id", "time"])
    np.testing.assert_allclose(joined["actual"], joined["y"])  # each actual is the file's value at its time
    from forecaster import Forecaster

    frame = Forecaster.load(run).cross_validation(trained / "data.csv", folds=4, level=(80,))
    np.testing.assert_allclose(frame["forecast"], windows["forecast"])
    assert "lo_80" in frame.columns and "lo_95" not in frame.columns


def test_missing_future_values_are_one_line_naming_series_time_and_column(trained, tmp_path):
    data = pd.read_csv(trained / "data.csv")
    short = data.drop(data.index[(data["id"] == "b") & data["y"].isna()][-3:])  # b lacks its last 3 steps
    short.to_csv(tmp_path / "short.csv", index=False)
    result = invoke("forecast", trained / "run", "--data", tmp_path / "short.csv", "--out", tmp_path / "no.csv")
    assert result.exit_code == 2 and "Traceback" not in result.output
    line = result.output.strip()
    assert len(line.splitlines()) == 1 and "series 'b'" in line and "it has 9" in line and "Load fc" in line
    assert "first missing 2024-01-26 09:00:00" in line and not (tmp_path / "no.csv").exists()
    empty = data.copy()
    empty.loc[empty.index[(empty["id"] == "c") & empty["y"].isna()][4], " Load fc"] = np.nan
    empty.to_csv(tmp_path / "empty.csv", index=False)
    result = invoke("forecast", trained / "run", "--data", tmp_path / "empty.csv", "--out", tmp_path / "no.csv")
    assert result.exit_code == 2 and "series 'c'" in result.output and "it has 4" in result.output
    result = invoke("forecast", trained / "run", "--data", trained / "history.csv", "--out", tmp_path / "no.csv")
    assert result.exit_code == 2 and "it has 0" in result.output


def test_future_rows_must_follow_the_series_step_by_step_and_roles_must_differ(trained, tmp_path):
    data = pd.read_csv(trained / "data.csv")
    gap = data.drop(data.index[(data["id"] == "a") & data["y"].isna()][2])
    gap.to_csv(tmp_path / "gap.csv", index=False)
    result = invoke("forecast", trained / "run", "--data", tmp_path / "gap.csv", "--out", tmp_path / "no.csv")
    assert result.exit_code == 2 and "series 'a'" in result.output and "step by step" in result.output
    result = invoke("doctor", trained / "data.csv", *OPTIONS[:8], "--future", "y")
    assert result.exit_code == 2 and "two roles" in result.output
    result = invoke("doctor", trained / "data.csv", *OPTIONS[:8], "--future", "price")
    assert result.exit_code == 2 and "no future covariate column 'price'" in result.output


def test_the_export_takes_the_known_values_and_serves_the_forecast(trained, tmp_path):
    import tensorflow as tf

    out = tmp_path / "fc.csv"
    assert invoke("forecast", trained / "run", "--data", trained / "data.csv", "--out", out).exit_code == 0
    assert invoke("export", trained / "run", "--out", tmp_path / "export").exit_code == 0
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert manifest["future"] == ["Load fc"] and manifest["inputs"]["future"]["shape"] == ["batch", HORIZON, 1]
    served = tf.saved_model.load(str(tmp_path / "export" / "saved_model")).signatures["serving_default"]
    lookback = manifest["lookback"]
    data, expected = pd.read_csv(trained / "data.csv"), pd.read_csv(out)
    for sid, group in data.groupby("id"):
        known = group[group["y"].notna()]
        values = known[["y", " Load fc"]].to_numpy("float32")[-lookback:][None]
        future = group[group["y"].isna()][[" Load fc"]].to_numpy("float32")[None]
        got = served(series_id=tf.constant([sid]), values=tf.constant(values), length=tf.constant([lookback]),
                     future=tf.constant(future))  # fmt: skip
        want = expected.loc[expected["id"] == sid, "forecast"].to_numpy()
        np.testing.assert_allclose(got["forecast"].numpy()[0], want, rtol=1e-5, atol=1e-4)
    wide = np.repeat(future, 2, axis=2)  # issue 30: two columns for one --future covariate were broadcast
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError), match="future must be|shape"):
        served(series_id=tf.constant([sid]), values=tf.constant(values), length=tf.constant([lookback]),
               future=tf.constant(wide))  # fmt: skip


def test_future_values_from_a_file_of_their_own_or_a_frame(trained, tmp_path):
    """forecast --future-data FILE (and predict(future=frame)): the same forecast as rows in DATA; rows
    beyond the forecast steps are left out with a note."""
    from forecaster import Forecaster

    data = pd.read_csv(trained / "data.csv")
    future = data[data["y"].isna()].drop(columns="y")
    extra = future.groupby("id").tail(2).assign(time=lambda f: pd.to_datetime(f["time"]) + pd.Timedelta(hours=2))
    pd.concat([future, extra]).to_csv(tmp_path / "future.csv", index=False)
    inline, separate = tmp_path / "inline.csv", tmp_path / "separate.csv"
    assert invoke("forecast", trained / "run", "--data", trained / "data.csv", "--out", inline).exit_code == 0
    result = invoke("forecast", trained / "run", "--data", trained / "history.csv", "--out", separate,
                    "--future-data", tmp_path / "future.csv")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "6 row(s) outside the series' forecast steps left out" in result.output
    pd.testing.assert_frame_equal(pd.read_csv(separate), pd.read_csv(inline))
    frame = Forecaster.load(trained / "run").predict(pd.read_csv(trained / "history.csv"), future=future)
    np.testing.assert_allclose(frame["forecast"], pd.read_csv(inline)["forecast"], rtol=1e-6)
    result = invoke("forecast", trained / "run", "--data", trained / "history.csv", "--out", tmp_path / "no.csv",
                    "--future-data", trained / "history.csv")  # fmt: skip
    assert result.exit_code == 2 and "--future-data file has 0" in result.output  # the history's rows are no future
    assert (
        f"error: {trained / 'history.csv'}: series 'a'" in result.output
        and "add the missing rows to it" in result.output
    )


def test_a_future_data_file_that_lacks_rows_or_values_is_named_with_its_own_hint(trained, tmp_path):
    """Issue 30: the file that lacks the values is named (not the data file), with the hint for it; an
    empty known value does not suggest --fill (forecast has none); unknown series are said, not ignored."""
    data = pd.read_csv(trained / "data.csv")
    future = data[data["y"].isna()].drop(columns="y")
    short = tmp_path / "short.csv"
    future.drop(index=future[future["id"] == "b"].index[-3:]).to_csv(short, index=False)
    result = invoke("forecast", trained / "run", "--data", trained / "history.csv", "--out", tmp_path / "a.csv",
                    "--future-data", short)  # fmt: skip
    assert result.exit_code == 2 and f"error: {short}: series 'b'" in result.output, result.output
    assert "file has 9: first missing" in result.output and "add the missing rows to it" in result.output
    holed = tmp_path / "holed.csv"
    future.assign(**{" Load fc": future[" Load fc"].mask(future.index == future.index[4])}).to_csv(holed, index=False)
    result = invoke("forecast", trained / "run", "--data", trained / "history.csv", "--out", tmp_path / "b.csv",
                    "--future-data", holed)  # fmt: skip
    assert result.exit_code == 2 and "--fill" not in result.output and "never filled" in result.output, result.output
    extra = tmp_path / "extra.csv"
    pd.concat([future, future[future["id"] == "a"].assign(id="zz")]).to_csv(extra, index=False)
    result = invoke("forecast", trained / "run", "--data", trained / "history.csv", "--out", tmp_path / "c.csv",
                    "--future-data", extra)  # fmt: skip
    assert result.exit_code == 0 and "1 series not in the data left out (zz)" in result.output, result.output
    assert not (tmp_path / "a.csv").exists() and not (tmp_path / "b.csv").exists()


def static_panel(tmp_path):
    """Six daily series whose weekly swing is set by their region (text) and size (number)."""
    rng = np.random.default_rng(5)
    frames = []
    for k, (region, size) in enumerate([("north", 1.0), ("south", 3.0), ("north", 2.0), ("east", 1.5),
                                        ("south", 2.5), ("east", 1.0)]):  # fmt: skip
        t = np.arange(200)
        swing = {"north": 5.0, "south": 1.0, "east": 0.0}[region] * size
        y = 20 + swing * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, len(t))
        times = pd.date_range("2024-01-01", periods=len(t), freq="D")
        frames.append(pd.DataFrame({"id": f"s{k}", "time": times, "region": region, "size": size, "y": y}))
    path = tmp_path / "static.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def test_static_covariates_are_encoded_once_and_served_everywhere(tmp_path):
    import tensorflow as tf

    data = static_panel(tmp_path)
    options = ["--target", "y", "--time-col", "time", "--id-col", "id", "--horizon", "7", "--ensemble", "1",
               "--select", "model", "--quiet", "--epochs", "3", "--static", "region,size"]  # fmt: skip
    result = invoke("train", data, *options, "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())["run"]["model"]
    assert config["static_encoding"][0] == {"column": "region", "categories": ["east", "north", "south"]}
    assert config["static_encoding"][1]["column"] == "size" and config["static_encoding"][1]["std"] > 0
    scalers = json.loads((tmp_path / "run" / "scalers.json").read_text())
    assert scalers["s0"]["static_codes"][0] == 1.0  # north, the second category: its code, not its one-hot vector
    out = tmp_path / "fc.csv"
    frame = pd.read_csv(data)
    frame = pd.concat([frame, frame[frame["id"] == "s1"].assign(id="new", region="west")])  # unseen series, region
    frame.to_csv(tmp_path / "more.csv", index=False)
    result = invoke("forecast", tmp_path / "run", "--data", tmp_path / "more.csv", "--out", out)
    assert result.exit_code == 0, result.output
    forecast = pd.read_csv(out)
    assert set(forecast["id"]) == {"s0", "s1", "s2", "s3", "s4", "s5", "new"}
    assert invoke("export", tmp_path / "run", "--out", tmp_path / "export").exit_code == 0
    served = tf.saved_model.load(str(tmp_path / "export" / "saved_model")).signatures["serving_default"]
    lookback = json.loads((tmp_path / "export" / "manifest.json").read_text())["lookback"]
    values = frame[frame["id"] == "s2"]["y"].to_numpy("float32")[-lookback:][None, :, None]
    got = served(series_id=tf.constant(["s2"]), values=tf.constant(values), length=tf.constant([lookback]))
    np.testing.assert_allclose(got["forecast"].numpy()[0], forecast.loc[forecast["id"] == "s2", "forecast"], rtol=1e-5)
    varying = pd.read_csv(data)
    varying.loc[varying.index[(varying["id"] == "s3")][10], "region"] = "north"
    varying.to_csv(tmp_path / "varying.csv", index=False)
    result = invoke("doctor", tmp_path / "varying.csv", *options[:8], "--static", "region")
    assert result.exit_code == 2 and "series 's3'" in result.output and "one value a series" in result.output


@pytest.mark.slow
def test_the_onnx_export_takes_the_known_values_too(trained, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    out = tmp_path / "fc.csv"
    assert invoke("forecast", trained / "run", "--data", trained / "data.csv", "--out", out).exit_code == 0
    result = invoke("export", trained / "run", "--out", tmp_path / "onnx", "--format", "onnx")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "onnx" / "manifest.json").read_text())
    session = ort.InferenceSession(str(tmp_path / "onnx" / "model.onnx"))
    lookback, expected = manifest["lookback"], pd.read_csv(out)
    for sid, group in pd.read_csv(trained / "data.csv").groupby("id"):
        known = group[group["y"].notna()]
        inputs = {
            "values": known[["y", " Load fc"]].to_numpy("float32")[-lookback:][None],
            "length": np.array([lookback], dtype="int32"),
            "future": group[group["y"].isna()][[" Load fc"]].to_numpy("float32")[None],
            **{name: np.array([manifest["series"][sid][name]]) for name in ("center", "scale")},
        }
        outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, inputs)))
        want = expected.loc[expected["id"] == sid, "forecast"].to_numpy()
        np.testing.assert_allclose(outputs["forecast"][0], want, rtol=1e-5, atol=1e-4)


def test_future_data_on_a_run_with_static_columns_and_bytes_ids(tmp_path):
    """Issue 30: `--future-data` on a run with `--static` asked the future file for the static columns;
    a DataFrame's bytes ids became "b's0'"."""
    from forecaster import Forecaster

    frame = pd.read_csv(static_panel(tmp_path), parse_dates=["time"])
    history = frame.groupby("id").head(190)
    future = frame.groupby("id").tail(10).drop(columns=["y", "region"]).groupby("id").head(7)
    history.to_csv(tmp_path / "history.csv", index=False)
    future.to_csv(tmp_path / "future.csv", index=False)
    options = ["--target", "y", "--time-col", "time", "--id-col", "id", "--horizon", "7", "--ensemble", "1",
               "--select", "model", "--quiet", "--epochs", "1", "--static", "region", "--future", "size"]  # fmt: skip
    full = pd.concat([history, future]).sort_values(["id", "time"])
    full.to_csv(tmp_path / "full.csv", index=False)
    assert invoke("train", tmp_path / "full.csv", *options, "--out", tmp_path / "run").exit_code == 0
    result = invoke("forecast", tmp_path / "run", "--data", tmp_path / "history.csv", "--out", tmp_path / "fc.csv",
                    "--future-data", tmp_path / "future.csv")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(tmp_path / "fc.csv")["id"]) == {f"s{k}" for k in range(6)}
    model = Forecaster.load(tmp_path / "run")
    as_bytes = model.predict(history.assign(id=history["id"].str.encode("utf-8")), future=future)
    assert set(as_bytes["id"]) == {f"s{k}" for k in range(6)}


def test_static_codes_expand_to_the_encoded_vectors_and_stay_small():
    """Issue 30: 1,000 categories over 20,000 series wrote a 224 MB scalers.json (one-hot vectors)."""
    from forecaster.data.static import codes, encode, expand, fit_encoding

    statics = [{"region": f"r{k % 1000}", "size": float(k % 7)} for k in range(3000)]
    encoding = fit_encoding(statics, ("region", "size"))
    for static in statics[:50] + [{"region": "unseen", "size": 2.0}]:
        vector = encode(static, encoding)
        kept = codes(vector, encoding)
        assert len(kept) == 2 and len(json.dumps(kept)) < 60
        np.testing.assert_array_equal(expand(kept, encoding), vector)
    with pytest.raises(ValueError):
        expand([1000.0, 0.0], encoding)  # no such category: a damaged run


def test_zoned_future_rows_for_naive_data_are_said_so(trained, tmp_path):
    data = pd.read_csv(trained / "data.csv")
    future = data[data["y"].isna()].drop(columns="y")
    future["time"] = pd.to_datetime(future["time"]).dt.tz_localize("Europe/Paris")
    future.to_csv(tmp_path / "zoned.csv", index=False)
    result = invoke("forecast", trained / "run", "--data", trained / "history.csv", "--out", tmp_path / "fc.csv",
                    "--future-data", tmp_path / "zoned.csv")  # fmt: skip
    assert result.exit_code == 2 and "times in zone UTC+01:00, the data's" in result.output, result.output
    assert "in none; write the --future-data times as the data writes them" in result.output
