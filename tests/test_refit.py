"""Backtests that refit (`evaluate --refit-every K`): the run is updated (or trained anew) on the data before
each group's first cutoff, never on a window's own or later actuals, and the report says how many refits ran
and their time."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from cli_helpers import invoke, tensorflow_warnings

from forecaster import Forecaster

COLUMNS = ["--target", "y", "--time-col", "time", "--horizon", "6", "--lookback", "24"]
SMALL = ["--epochs", "1", "--layers", "8", "--batch-size", "32", "--quiet", "--ensemble", "1", "--select", "model"]
EVALUATE = ["--folds", "4", "--step", "6", "--refit-every", "2", "--level", "80"]


@pytest.fixture(scope="module")
def refit_case(tmp_path_factory):
    """A run trained on the first 200 hours of a 260-hour series; the newer file holds all 260."""
    base = tmp_path_factory.mktemp("refit")
    t = np.arange(260)
    y = 10 + np.sin(2 * np.pi * t / 24) + 0.1 * np.random.default_rng(2).standard_normal(260)
    frame = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=260, freq="h"), "y": y})
    frame.iloc[:200].to_csv(base / "old.csv", index=False)
    frame.to_csv(base / "new.csv", index=False)
    assert invoke("train", base / "old.csv", *COLUMNS, *SMALL, "--out", base / "run").exit_code == 0
    return base, frame


def test_no_window_is_forecast_by_a_run_that_saw_its_own_or_later_actuals(refit_case, tmp_path):
    base, frame = refit_case
    changed = frame.copy()
    changed.loc[changed.index[248:254], "y"] += 50.0  # the third window's own actuals (origins 236, 242, 248, 254)
    changed.to_csv(tmp_path / "changed.csv", index=False)
    results = {}
    for name, data in (("same", base / "new.csv"), ("changed", tmp_path / "changed.csv")):
        out = tmp_path / name
        result = invoke("evaluate", base / "run", "--data", data, *EVALUATE, "--out", out)
        assert result.exit_code == 0, result.output
        assert "refits: 2 refits (updated from the run before every 2 cutoffs)" in result.output
        results[name] = (pd.read_csv(out / "forecasts.csv"), json.loads((out / "metrics.json").read_text()))
    (same, report), (changed_windows, _) = results["same"], results["changed"]
    assert report["refits"]["count"] == 2 and report["refits"]["seconds"] > 0 and not report["refits"]["from_scratch"]
    assert len(same) == 4 * 6
    # the first three windows' forecasts are what they were: the refit before the third (data up to hour 248)
    # never saw its own actuals; the fourth reads them in its lookback, as a forecast at hour 254 would
    for column in ("forecast", "lo_80", "hi_80"):  # the bands too: the third's learnt from the two before it only
        pd.testing.assert_series_equal(same[column][:18], changed_windows[column][:18], check_exact=True)
    assert not np.allclose(same["forecast"][18:], changed_windows["forecast"][18:])
    assert (changed_windows["actual"] != same["actual"]).sum() == 6


def test_the_bands_keep_learning_across_refits_from_the_windows_served_before(refit_case, tmp_path):
    base, _ = refit_case
    made = {}
    for adapt in ("on", "off"):
        out = tmp_path / adapt
        result = invoke("evaluate", base / "run", "--data", base / "new.csv", *EVALUATE, "--adapt", adapt, "--out", out)
        assert result.exit_code == 0, result.output
        made[adapt] = pd.read_csv(out / "forecasts.csv")
    on, off = made["on"], made["off"]
    width = {adapt: frame["hi_80"] - frame["lo_80"] for adapt, frame in made.items()}
    # the first window, the first refit's: its band learnt from the six windows the run served between its
    # training (200 hours) and that refit's cutoff (236); the third, the first the second refit forecasts, from
    # those and the two the first refit served. Each refit's bands would otherwise start from its table.
    for first in (slice(0, 6), slice(12, 18)):
        assert not np.allclose(width["on"][first], width["off"][first])
    pd.testing.assert_series_equal(on["forecast"], off["forecast"])


def test_the_refits_cut_the_data_before_each_groups_first_cutoff(refit_case):
    from forecaster.data.panel import read_panel
    from forecaster.serving.refit import cutoff_panel
    from forecaster.training.runs import load_run

    base, frame = refit_case
    panel = read_panel(base / "new.csv", load_run(base / "run").config.data)
    cutoff = pd.Timestamp("2024-01-10 20:00")  # hour 236
    cut = cutoff_panel(panel, cutoff)
    assert len(cut.series[0]) == 236 and cut.series[0].time_at(-1) < cutoff
    np.testing.assert_array_equal(cut.series[0].values[:, 0], frame["y"].to_numpy()[:236])


def test_refits_from_scratch_and_from_python(refit_case, tmp_path):
    base, _ = refit_case
    result = invoke("evaluate", base / "run", "--data", base / "new.csv", *EVALUATE, "--refit-from-scratch",
                    "--out", tmp_path / "scratch")  # fmt: skip
    assert result.exit_code == 0 and "trained anew every 2 cutoffs" in result.output, result.output
    model = Forecaster.load(base / "run")
    report, _ = model.backtest(base / "new.csv", folds=4, step=6, refit_every=4, keep_refits=tmp_path / "kept")
    assert report["refits"]["count"] == 1 and report["windows"] == 4 and report["refits"]["reused"] == 0
    again, _ = model.backtest(base / "new.csv", folds=4, step=6, refit_every=4, keep_refits=tmp_path / "kept")
    assert again["refits"]["reused"] == 1 and again["overall"]["model"] == report["overall"]["model"]
    windows = model.cross_validation(base / "new.csv", folds=2, step=6, refit_every=1)
    assert len(windows) == 12 and windows["forecast"].notna().all()


def test_a_refitting_backtest_is_refused_on_an_engine(refit_case):
    base, _ = refit_case
    result = invoke("evaluate", base / "run", "--data", base / "new.csv", *EVALUATE, "--engine", "dask")
    assert result.exit_code == 2 and "cannot be split by series over dask" in result.output, result.output


def test_a_run_trained_up_to_the_first_cutoff_forecasts_the_first_group_itself(refit_case, tmp_path):
    base, frame = refit_case
    frame.iloc[:236].to_csv(tmp_path / "to_cutoff.csv", index=False)  # the first window's origin: hour 236
    result = invoke("train", tmp_path / "to_cutoff.csv", *COLUMNS, *SMALL, "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    made = {}
    for name, refits in (("plain", []), ("refitted", ["--refit-every", "2"])):
        evaluate = ["--folds", "4", "--step", "6", "--level", "80", "--adapt", "off", *refits]
        result = invoke("evaluate", tmp_path / "run", "--data", base / "new.csv", *evaluate, "--out", tmp_path / name)
        assert result.exit_code == 0, result.output
        made[name] = pd.read_csv(tmp_path / name / "forecasts.csv")
    assert "1 refit, none before the first: the run has learnt every point before it" in result.output
    report = json.loads((tmp_path / "refitted" / "metrics.json").read_text())
    assert report["refits"]["count"] == 1 and report["refits"]["cutoffs"] == ["2024-01-11 08:00:00"]
    assert report["refits"]["served"] == ["model"] and "s, serving model" in result.output  # --select model
    # the first two windows are the run's own forecasts; the two after, the updated run's
    pd.testing.assert_series_equal(made["plain"]["forecast"][:12], made["refitted"]["forecast"][:12])
    assert not np.allclose(made["plain"]["forecast"][12:], made["refitted"]["forecast"][12:])


def test_kept_refits_are_reused_by_the_same_backtest_run_again_and_made_anew_where_the_data_changed(
    refit_case, tmp_path
):
    base, frame = refit_case
    kept = tmp_path / "refits"
    first = invoke("evaluate", base / "run", "--data", base / "new.csv", *EVALUATE, "--keep-refits", kept,
                   "--out", tmp_path / "first")  # fmt: skip
    assert first.exit_code == 0, first.output
    assert sorted(p.name for p in kept.iterdir() if not p.name.startswith(".")) == ["refit-0", "refit-1", "refits.json"]
    # interrupted before the second refit was whole: its run is gone; run again, the first is reused
    shutil.rmtree(kept / "refit-1")
    again = invoke("evaluate", base / "run", "--data", base / "new.csv", *EVALUATE, "--keep-refits", kept,
                   "--out", tmp_path / "again")  # fmt: skip
    assert again.exit_code == 0, again.output
    assert f"refit 1/2: data up to 2024-01-10 20:00:00 (not included), kept in {kept / 'refit-0'}" in again.output
    assert "refits: 2 refits (updated from the run before every 2 cutoffs), " in again.output
    assert f"1 of them kept from before in {kept}" in again.output
    report = json.loads((tmp_path / "again" / "metrics.json").read_text())["refits"]
    assert report["reused"] == 1 and report["count"] == 2 and report["kept_in"] == str(kept)
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "first" / "forecasts.csv"), pd.read_csv(tmp_path / "again" / "forecasts.csv")
    )
    # a point before the second refit's cutoff (hour 248) changed: the first refit still holds, the second not
    changed = frame.copy()
    changed.loc[changed.index[240], "y"] += 5.0
    changed.to_csv(tmp_path / "changed.csv", index=False)
    moved = invoke("evaluate", base / "run", "--data", tmp_path / "changed.csv", *EVALUATE, "--keep-refits", kept,
                   "--out", tmp_path / "moved")  # fmt: skip
    assert moved.exit_code == 0, moved.output
    assert "refit 1/2" in moved.output and f"kept in {kept / 'refit-0'}" in moved.output
    assert f"kept in {kept / 'refit-1'}" not in moved.output
    assert json.loads((tmp_path / "moved" / "metrics.json").read_text())["refits"]["reused"] == 1
    # refits from scratch are made of another run than updates: none of the kept ones is reused
    scratch = invoke("evaluate", base / "run", "--data", base / "new.csv", *EVALUATE, "--refit-from-scratch",
                     "--keep-refits", kept, "--out", tmp_path / "scratch")  # fmt: skip
    assert scratch.exit_code == 0 and "kept in" not in scratch.output, scratch.output


def test_refits_are_kept_only_where_nothing_else_is_and_never_inside_the_evaluation(refit_case, tmp_path):
    base, _ = refit_case
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("the user's")
    for folder, said in (
        (mine, "exists and was not made by forecaster"),
        (base / "run", "holds a forecaster run"),
        (tmp_path / "evaluation" / "refits", "lies in the evaluation's folder"),
        (mine / "notes.txt", "is a file"),
    ):
        result = invoke("evaluate", base / "run", "--data", base / "new.csv", *EVALUATE, "--keep-refits", folder,
                        "--out", tmp_path / "evaluation")  # fmt: skip
        assert result.exit_code == 2 and said in result.output and "Traceback" not in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    assert [p.name for p in mine.iterdir()] == ["notes.txt"] and not (tmp_path / "evaluation").exists()
    result = invoke("evaluate", base / "run", "--data", base / "new.csv", "--keep-refits", tmp_path / "refits")
    assert result.exit_code == 2 and "keep_refits needs refit_every" in result.output, result.output


@pytest.mark.slow
def test_a_refitting_backtest_does_not_warn_of_each_refitted_networks_first_trace(refit_case, tmp_path):
    base, _ = refit_case
    many = ["--folds", "7", "--step", "6", "--refit-every", "1", "--adapt", "off"]  # 7 refits: TensorFlow warns at 5
    with tensorflow_warnings() as said:
        result = invoke("evaluate", base / "run", "--data", base / "new.csv", *many, "--out", tmp_path / "evaluation")
    assert result.exit_code == 0 and "7 refits" in result.output, result.output
    assert not [line for line in said if "retracing" in line]


def test_only_the_retracing_warning_is_held_back_and_only_inside(caplog):
    import logging

    from forecaster.models.backend import retracing_unsaid

    retraced = "5 out of the last 5 calls to <function f> triggered tf.function retracing. Tracing is expensive"
    tensorflow = logging.getLogger("tensorflow")
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        with retracing_unsaid():
            tensorflow.warning(retraced)
            tensorflow.warning("another warning")
        tensorflow.warning(retraced)
    assert [record.getMessage() for record in caplog.records] == ["another warning", retraced]
    assert not tensorflow.filters
