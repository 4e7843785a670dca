"""Every series of every input gets forecast rows: short ones through the masked global model, unseen
ones scaled on the history given, and only those too short for even that by a labelled baseline."""

import numpy as np
import pandas as pd
from cli_helpers import FAST, invoke

HOURLY = ["--target", "y", "--time-col", "step", "--id-col", "id", "--horizon", "6", "--lookback", "48"]


def write(path, lengths, seed=0):
    rng = np.random.default_rng(seed)
    frames = []
    for sid, n in lengths.items():
        t = np.arange(n)
        y = 100 + 10 * np.sin(2 * np.pi * t / 24) + rng.normal(size=n)
        frames.append(pd.DataFrame({"id": sid, "step": t, "y": y}))
    pd.concat(frames).to_csv(path, index=False)
    return path


def test_length_one_short_and_unseen_series_are_all_forecast(tmp_path):
    train_csv = write(tmp_path / "train.csv", {"a": 300, "b": 240})
    run = tmp_path / "run"
    result = invoke("train", train_csv, *HOURLY, *FAST, "--out", run)
    assert result.exit_code == 0, result.output
    # 'a' is known; 'new' never seen in training (full length); 'short' is shorter than the lookback;
    # 'tiny' is shorter than one patch; 'one' has a single point
    data = write(tmp_path / "later.csv", {"a": 310, "new": 200, "short": 20, "tiny": 2, "one": 1}, seed=3)
    out = tmp_path / "fc.csv"
    result = invoke("forecast", run, "--data", data, "--out", out)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert frame.groupby("id").size().to_dict() == {"a": 6, "new": 6, "short": 6, "tiny": 6, "one": 6}
    method = frame.groupby("id")["method"].first().to_dict()
    assert method == {"a": "model", "new": "model", "short": "model", "tiny": "naive", "one": "naive"}
    assert np.isfinite(frame["forecast"]).all()
    np.testing.assert_allclose(
        frame.loc[frame["id"] == "one", "forecast"], pd.read_csv(data).query("id == 'one'")["y"].iloc[0]
    )
    # the unseen series is scaled on its own history: its forecast is at its level (about 100), not 'a''s scale
    assert abs(frame.loc[frame["id"] == "new", "forecast"].mean() - 100) < 20
    assert "not trained on, forecast by the model" in result.output
    assert "forecast by seasonal naive or naive" in result.output


def test_a_short_series_forecast_does_not_depend_on_its_padding_length(tmp_path):
    """A series shorter than the lookback goes through the masked model: the same history gives the same
    forecast whatever other series sit beside it."""
    train_csv = write(tmp_path / "train.csv", {"a": 300, "b": 240})
    run = tmp_path / "run"
    assert invoke("train", train_csv, *HOURLY, *FAST, "--out", run).exit_code == 0
    alone = write(tmp_path / "alone.csv", {"short": 30}, seed=5)
    beside = tmp_path / "beside.csv"
    pd.concat([pd.read_csv(alone), pd.read_csv(write(tmp_path / "x.csv", {"a": 300}))]).to_csv(beside, index=False)
    frames = []
    for data in (alone, beside):
        out = tmp_path / f"{data.stem}.out.csv"
        assert invoke("forecast", run, "--data", data, "--out", out).exit_code == 0
        frames.append(pd.read_csv(out).query("id == 'short'")["forecast"].to_numpy())
    np.testing.assert_allclose(frames[0], frames[1], rtol=1e-5)


def test_seasonal_naive_fallback_when_a_season_fits_but_not_a_patch(tmp_path):
    train_csv = write(tmp_path / "train.csv", {"a": 400, "b": 300})
    run = tmp_path / "run"
    result = invoke("train", train_csv, *HOURLY[:-2], "--lookback", "96", "--patch", "48", *FAST, "--out", run)
    assert result.exit_code == 0, result.output
    data = write(tmp_path / "later.csv", {"a": 400, "season_only": 30}, seed=2)
    out = tmp_path / "fc.csv"
    assert invoke("forecast", run, "--data", data, "--out", out).exit_code == 0
    frame = pd.read_csv(out).query("id == 'season_only'")
    assert (frame["method"] == "seasonal_naive").all()
    history = pd.read_csv(data).query("id == 'season_only'")["y"].to_numpy()
    np.testing.assert_allclose(frame["forecast"], history[-24:][:6])
