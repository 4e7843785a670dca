"""`forecaster update`: a run's networks continue training on newer data into a new run that names its parent;
the parent is never changed, rewritten history is refused, new series are left to `forecast`, an interrupted
update resumes to the same result."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import invoke

from forecaster import Forecaster
from forecaster.errors import DamagedRunError
from forecaster.training.resume import ResumableTraining
from forecaster.training.runs import load_run

COLUMNS = ["--target", "y", "--time-col", "time", "--id-col", "id", "--horizon", "6", "--lookback", "24"]
SMALL = ["--epochs", "2", "--layers", "8", "--batch-size", "32", "--quiet", "--ensemble", "2", "--select", "model"]


def hourly_panel(n=400, ids=("a", "b"), jump=0.0):
    """Hourly series with a daily cycle; `jump` moves the last 100 points of 'b' by that many units."""
    rng = np.random.default_rng(5)
    frames = []
    for k, sid in enumerate(ids):
        t = np.arange(n)
        y = 10 + 3 * k + np.sin(2 * np.pi * t / 24) + 0.1 * rng.standard_normal(n)
        if sid == "b":
            y[n - 100 :] += jump
        frames.append(pd.DataFrame({"id": sid, "time": pd.date_range("2024-01-01", periods=n, freq="h"), "y": y}))
    return pd.concat(frames, ignore_index=True)


def older(frame, n=300):
    return frame.groupby("id").head(n)


def digests(folder):
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def parent(tmp_path_factory):
    base = tmp_path_factory.mktemp("update")
    newer = hourly_panel()
    older(newer).to_csv(base / "old.csv", index=False)
    newer.to_csv(base / "new.csv", index=False)
    result = invoke("train", base / "old.csv", *COLUMNS, *SMALL, "--out", base / "run")
    assert result.exit_code == 0, result.output
    return base


def test_an_update_keeps_its_parent_byte_identical_and_names_it(parent, tmp_path):
    before = digests(parent / "run")
    result = invoke("update", parent / "run", "--data", parent / "new.csv", "--out", tmp_path / "run2", "--epochs", "2")
    assert result.exit_code == 0, result.output
    assert digests(parent / "run") == before  # the parent, byte for byte
    child = load_run(tmp_path / "run2")
    lineage = child.manifest["parent"]
    assert lineage["path"] == str(parent / "run")
    assert lineage["sha256"] == hashlib.sha256((parent / "run" / "manifest.json").read_bytes()).hexdigest()
    assert {"weights", "validation guard", "conformal table", "adaptive bands"} <= set(lineage["renewed"])
    old = load_run(parent / "run")
    for sid in ("a", "b"):  # the parent's scalers kept, the newer data's rows trained on
        np.testing.assert_array_equal(child.series[sid].scaler.center, old.series[sid].scaler.center)
        assert child.series[sid].length == 400 and old.series[sid].length == 300
    assert (tmp_path / "run2" / "calibration.json").is_file()
    assert "updating" in result.output and "run written to" in result.output
    out = tmp_path / "f.csv"
    assert invoke("forecast", tmp_path / "run2", "--data", parent / "new.csv", "--out", out).exit_code == 0
    first = pd.read_csv(out, parse_dates=["time"]).groupby("id")["time"].min()
    assert (first == pd.Timestamp("2024-01-01") + pd.Timedelta(hours=400)).all()


def test_an_update_carries_what_its_parents_bands_learnt_and_its_own_update_carries_it_on(parent, tmp_path):
    result = invoke("update", parent / "run", "--data", parent / "new.csv", "--out", tmp_path / "run2", "--epochs", "1")
    assert result.exit_code == 0, result.output
    assert "the adaptive bands carry what they learnt from 32 served windows" in result.output
    child = load_run(tmp_path / "run2")
    assert "realised.npz" in child.manifest["files"] and child.manifest["parent"]["windows_carried"] == 32
    carried = child.realised()
    assert carried.series.tolist() == ["a"] * 16 + ["b"] * 16  # hours 300-399 of each, 6 a window, oldest first
    frame = hourly_panel()
    for sid in ("a", "b"):
        np.testing.assert_array_equal(carried.actual[carried.series == sid].ravel(),
                                      frame.loc[frame["id"] == sid, "y"].to_numpy()[304:400])  # fmt: skip
    windows = Forecaster.load(parent / "run").cross_validation(parent / "new.csv", folds=16, step=6)
    served = windows.sort_values(["id", "time"])["forecast"].to_numpy()  # what the parent served there
    np.testing.assert_allclose(carried.forecast.ravel(), served, rtol=1e-5)
    out = tmp_path / "f.csv"
    result = invoke("forecast", tmp_path / "run2", "--data", parent / "new.csv", "--out", out, "--level", "80")
    assert "learnt from the realised errors of 0 windows after training and 32 before it" in result.output
    newer = pd.concat([frame, hourly_panel(448).groupby("id").tail(48)]).sort_values(["id", "time"])
    newer.to_csv(tmp_path / "newer.csv", index=False)
    result = invoke("update", tmp_path / "run2", "--data", tmp_path / "newer.csv", "--out", tmp_path / "run3",
                    "--epochs", "1")  # fmt: skip
    assert result.exit_code == 0 and "learnt from 48 served windows" in result.output, result.output
    again = load_run(tmp_path / "run3").realised()  # the 32 carried on, then the 8 a series run2 served
    np.testing.assert_array_equal(again.actual[again.series == "a"][:16], carried.actual[:16])


def test_the_networks_continue_from_the_parents_weights(parent, tmp_path):
    model = Forecaster.load(parent / "run")
    start = [w.copy() for w in model.model.get_weights()]
    model.update(parent / "new.csv", out=tmp_path / "run2", epochs=1)
    moved = [np.abs(a - b).max() for a, b in zip(start, model.model.get_weights())]
    assert max(moved) < 0.1  # one epoch of a few steps at lr 1e-3 from the parent's weights, not new ones
    assert any(m > 0 for m in moved) and model.run_dir == tmp_path / "run2"


def test_newer_data_that_rewrites_the_runs_history_is_refused(parent, tmp_path):
    frame = pd.read_csv(parent / "new.csv")
    frame.loc[(frame["id"] == "a") & (frame["time"] == "2024-01-13 10:00:00"), "y"] += 1.0  # inside the tail
    frame.to_csv(tmp_path / "rewritten.csv", index=False)
    result = invoke("update", parent / "run", "--data", tmp_path / "rewritten.csv", "--out", tmp_path / "run2")
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert "series 'a'" in result.output and "rewrites the run's history" in result.output
    assert not (tmp_path / "run2").exists()


def test_an_update_on_data_with_nothing_newer_is_refused(parent, tmp_path):
    result = invoke("update", parent / "run", "--data", parent / "old.csv", "--out", tmp_path / "run2")
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert "no series has rows after those" in result.output and "up to 2024-01-13 11:00" in result.output
    assert not (tmp_path / "run2").exists()


def test_an_update_whose_holdout_hides_every_newer_row_is_refused(parent, tmp_path):
    """An update keeps the run's --holdout out of training, as `train` did: data with no more newer rows than
    that would train the networks on less than the parent had, and validate them on windows it trained on."""
    assert (
        invoke("train", parent / "old.csv", *COLUMNS, *SMALL, "--holdout", "24", "--out", tmp_path / "run").exit_code
        == 0
    )
    older(hourly_panel(), 290).to_csv(tmp_path / "few.csv", index=False)  # 14 rows past the 276 trained on
    result = invoke("update", tmp_path / "run", "--data", tmp_path / "few.csv", "--out", tmp_path / "run2")
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert "once the run's --holdout of 24 steps is kept out of training" in result.output
    assert "or --holdout 0 to learn from those too" in result.output
    assert not (tmp_path / "run2").exists()
    result = invoke("update", tmp_path / "run", "--data", parent / "new.csv", "--out", tmp_path / "run2")
    assert result.exit_code == 0, result.output  # 400 rows: 100 newer, 24 of them held out


def test_an_update_given_holdout_0_learns_the_rows_its_run_held_out(parent, tmp_path):
    """`update --holdout N` replaces the run's holdout: a run trained with one for `evaluate` learns from every
    newer row once the held-out part has been scored (its own --holdout 0, for the updates after)."""
    assert (
        invoke("train", parent / "old.csv", *COLUMNS, *SMALL, "--holdout", "24", "--out", tmp_path / "run").exit_code
        == 0
    )
    older(hourly_panel(), 290).to_csv(tmp_path / "few.csv", index=False)  # 14 rows past the 276 trained on
    command = ["update", tmp_path / "run", "--data", tmp_path / "few.csv", "--epochs", "1"]
    result = invoke(*command, "--holdout", "14", "--out", tmp_path / "run2")
    assert result.exit_code == 2 and "once the --holdout of 14 steps is kept out of training" in result.output
    result = invoke(*command, "--holdout", "0", "--out", tmp_path / "run2")
    assert result.exit_code == 0, result.output
    child = load_run(tmp_path / "run2")
    assert child.config.window.holdout == 0
    assert [child.series[sid].n_fit for sid in ("a", "b")] == [290, 290]  # every row; the run itself: 276
    assert [load_run(tmp_path / "run").series[sid].n_fit for sid in ("a", "b")] == [276, 276]
    held = Forecaster.load(tmp_path / "run").update(tmp_path / "few.csv", out=tmp_path / "api", epochs=1, holdout=0)
    assert held.run.config.window.holdout == 0


def test_series_never_trained_on_are_left_to_forecast(parent, tmp_path):
    wider = hourly_panel(ids=("a", "b", "c"))
    wider.to_csv(tmp_path / "wider.csv", index=False)
    result = invoke("update", parent / "run", "--data", tmp_path / "wider.csv", "--out", tmp_path / "run2")
    assert result.exit_code == 0, result.output
    assert "1 series" in result.output and "never trained on are left out of the update" in result.output
    assert set(load_run(tmp_path / "run2").series) == {"a", "b"}
    out = tmp_path / "f.csv"
    assert invoke("forecast", tmp_path / "run2", "--data", tmp_path / "wider.csv", "--out", out).exit_code == 0
    assert set(pd.read_csv(out)["id"]) == {"a", "b", "c"}


def test_a_series_whose_data_moved_gets_a_new_scaler_said(parent, tmp_path):
    hourly_panel(jump=40.0).to_csv(tmp_path / "moved.csv", index=False)  # 'b' jumps 40 units after the run's end
    result = invoke("update", parent / "run", "--data", tmp_path / "moved.csv", "--out", tmp_path / "run2")
    assert result.exit_code == 0, result.output
    assert "scalers were fitted again on the newer data: b" in result.output
    old, new = load_run(parent / "run"), load_run(tmp_path / "run2")
    assert new.series["b"].scaler.center[0] != old.series["b"].scaler.center[0]
    np.testing.assert_array_equal(new.series["a"].scaler.center, old.series["a"].scaler.center)
    assert new.manifest["parent"]["scalers_refitted"] == ["b"] and "scalers" in new.manifest["parent"]["renewed"]


def test_a_malformed_lineage_is_a_damaged_run(parent, tmp_path):
    assert invoke("update", parent / "run", "--data", parent / "new.csv", "--out", tmp_path / "run2").exit_code == 0
    manifest = json.loads((tmp_path / "run2" / "manifest.json").read_text())
    manifest["parent"]["sha256"] = "not a digest"
    (tmp_path / "run2" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DamagedRunError, match="parent"):
        load_run(tmp_path / "run2")


def test_an_update_onto_its_own_run_is_refused(parent):
    result = invoke("update", parent / "run", "--data", parent / "new.csv", "--out", parent / "run")
    assert result.exit_code == 2 and "that is the run being updated" in result.output


def test_an_interrupted_update_resumes_to_the_same_result(parent, tmp_path, monkeypatch):
    command = ["update", parent / "run", "--data", parent / "new.csv", "--epochs", "3"]
    assert invoke(*command, "--out", tmp_path / "whole").exit_code == 0
    save = ResumableTraining.on_epoch_end

    def stop_in_member_2(self, epoch, logs=None):
        save(self, epoch, logs)
        if self.directory.name == "member_1" and epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(ResumableTraining, "on_epoch_end", stop_in_member_2)
    assert invoke(*command, "--out", tmp_path / "cut").exit_code == 130
    monkeypatch.setattr(ResumableTraining, "on_epoch_end", save)
    result = invoke(*command, "--out", tmp_path / "cut")
    assert result.exit_code == 0 and "resuming after epoch 2" in result.output, result.output
    whole, cut = (pd.read_csv(tmp_path / run / "history.csv") for run in ("whole", "cut"))
    pd.testing.assert_frame_equal(whole, cut, check_exact=True)


def test_a_quantile_run_updates_and_forecasts_its_quantiles(parent, tmp_path):
    quantiles = ["--quantiles", "0.1,0.5,0.9"]
    assert invoke("train", parent / "old.csv", *COLUMNS, *SMALL, *quantiles, "--out", tmp_path / "q").exit_code == 0
    result = invoke("update", tmp_path / "q", "--data", parent / "new.csv", "--out", tmp_path / "q2", "--epochs", "1")
    assert result.exit_code == 0, result.output
    out = tmp_path / "f.csv"
    assert invoke("forecast", tmp_path / "q2", "--data", parent / "new.csv", "--out", out).exit_code == 0
    assert {"q_10", "q_50", "q_90"} <= set(pd.read_csv(out).columns)


@pytest.mark.slow
def test_a_guarded_run_has_its_guard_renewed_on_the_newest_windows(parent, tmp_path, monkeypatch):
    import forecaster.scoring.validation as validation

    guarded = [option for option in SMALL if option not in ("--select", "model")]
    assert invoke("train", parent / "old.csv", *COLUMNS, *guarded, "--out", tmp_path / "g").exit_code == 0
    told = []  # what the update's guard is told the parent served (`choose`'s `standing`)
    choose = validation.choose
    monkeypatch.setattr(validation, "choose", lambda *args: told.append(args[-1]) or choose(*args))
    result = invoke("update", tmp_path / "g", "--data", parent / "new.csv", "--out", tmp_path / "g2", "--epochs", "1")
    assert result.exit_code == 0, result.output
    old, new = (json.loads((tmp_path / run / "selection.json").read_text()) for run in ("g", "g2"))
    assert "method: " in result.output and new["period"] != old["period"]  # decided again, on newer windows
    assert new["period"].endswith("(3 days)") and "2024-01-1" in new["period"]
    assert told == [old["method"]]  # which serves on unless another scores clearly below it (test_selection.py)


def test_a_run_with_known_ahead_and_static_columns_updates(tmp_path):
    rng = np.random.default_rng(8)
    frames = []
    for k, sid in enumerate(("a", "b")):
        t = np.arange(360)
        x = rng.normal(size=360)  # known ahead
        y = 10 + k + np.sin(2 * np.pi * t / 24) + 0.5 * x + 0.05 * rng.standard_normal(360)
        times = pd.date_range("2024-01-01", periods=360, freq="h")
        frames.append(pd.DataFrame({"id": sid, "time": times, "y": y, "x": x, "region": "north" if k else "south"}))
    frame = pd.concat(frames, ignore_index=True)
    frame.groupby("id").head(300).to_csv(tmp_path / "old.csv", index=False)
    frame.to_csv(tmp_path / "new.csv", index=False)
    covariates = ["--future", "x", "--static", "region"]
    assert (
        invoke("train", tmp_path / "old.csv", *COLUMNS, *SMALL, *covariates, "--out", tmp_path / "run").exit_code == 0
    )
    result = invoke("update", tmp_path / "run", "--data", tmp_path / "new.csv", "--out", tmp_path / "run2")
    assert result.exit_code == 0, result.output
    run = load_run(tmp_path / "run2")
    assert run.config.data.future == ("x",) and run.config.data.static == ("region",)
    assert run.series["a"].length == 360
