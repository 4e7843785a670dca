"""Outputs never destroy what forecaster did not make, and a swap cut short is rolled back."""

import os

from cli_helpers import SINE, dead_pid, invoke, train

from forecaster.io.files import MARKER, recover
from forecaster.training.runs import load_run


def users_folder(path):
    path.mkdir()
    (path / "notes.txt").write_text("mine")
    (path / "sub").mkdir()
    (path / "sub" / "data.csv").write_text("a,b\n")
    return path


def contents(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_train_and_export_refuse_a_users_folder_and_change_nothing(sine_csv, tmp_path):
    folder = users_folder(tmp_path / "work")
    before = contents(folder)
    result = train(sine_csv, SINE, folder)
    assert result.exit_code == 2 and "was not made by forecaster" in result.output
    assert contents(folder) == before and len(result.output.strip().splitlines()) == 1

    run = tmp_path / "run"
    assert train(sine_csv, SINE, run).exit_code == 0
    result = invoke("export", run, "--out", folder)
    assert result.exit_code == 2 and "was not made by forecaster" in result.output
    assert contents(folder) == before
    result = invoke("evaluate", run, "--data", sine_csv, "--out", folder)
    assert result.exit_code == 2 and contents(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "sine.csv", "work"]  # no debris


def test_empty_or_dot_out_is_refused(sine_csv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for out in ("", "."):
        result = invoke("train", sine_csv, *SINE, "--epochs", "1", "--out", out)
        assert result.exit_code == 2 and "--out" in result.output, out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sine.csv"]


def test_a_run_replaces_its_own_previous_run(sine_csv, tmp_path):
    run = tmp_path / "run"
    assert train(sine_csv, SINE, run).exit_code == 0
    assert (run / MARKER).is_file()
    assert train(sine_csv, SINE, run, "--seed", "1").exit_code == 0
    assert load_run(run).config.train.seed == 1


def test_a_swap_cut_between_its_renames_is_rolled_back(sine_csv, tmp_path):
    run = tmp_path / "run"
    assert train(sine_csv, SINE, run).exit_code == 0
    good = (run / "manifest.json").read_bytes()
    # what a kill between the two renames leaves: the old output retired, the new one still staged
    retired = tmp_path / ".run.old-x1"
    retired.mkdir()
    os.replace(run, retired / "previous")
    (tmp_path / f".run.tmp-{dead_pid()}-x2").mkdir()
    recover(run)
    assert (run / "manifest.json").read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "sine.csv"]


def rehash(run):
    """What a careful attacker does after editing a run: recompute the manifest's checksums."""
    import hashlib
    import json

    manifest = json.loads((run / "manifest.json").read_text())
    manifest["files"] = {
        name: hashlib.sha256((run / name).read_bytes()).hexdigest() if (run / name).is_file() else digest
        for name, digest in manifest["files"].items()
    }
    (run / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def test_a_run_directory_is_untrusted_input(sine_csv, tmp_path):
    import json
    import shutil

    good = tmp_path / "good"
    assert train(sine_csv, SINE, good).exit_code == 0
    cases = {
        "outside": lambda run, m: m["files"].update({"../../etc/passwd": "0" * 64}),
        "unlisted": lambda run, m: m["files"].pop("scalers.json"),
    }
    for name, damage in cases.items():
        run = tmp_path / name
        shutil.copytree(good, run)
        manifest = json.loads((run / "manifest.json").read_text())
        damage(run, manifest)
        (run / "manifest.json").write_text(json.dumps(manifest))
        result = invoke("forecast", run, "--data", sine_csv, "--out", tmp_path / f"{name}.csv")
        assert result.exit_code == 2 and "damaged run" in result.output, (name, result.output)
    run = tmp_path / "config_value"
    shutil.copytree(good, run)
    config = json.loads((run / "config.json").read_text())
    config["run"]["window"]["lookback"] = -5
    (run / "config.json").write_text(json.dumps(config))
    rehash(run)
    result = invoke("forecast", run, "--data", sine_csv, "--out", tmp_path / "x.csv")
    assert result.exit_code == 2 and "damaged run: config.json: --lookback must be" in result.output, result.output
    for scale in (0.0, float("nan"), 1e308):
        run = tmp_path / f"scale_{scale}"
        shutil.copytree(good, run)
        scalers = json.loads((run / "scalers.json").read_text())
        scalers["series"]["scale"] = [scale]
        (run / "scalers.json").write_text(json.dumps(scalers))
        rehash(run)
        result = invoke("forecast", run, "--data", sine_csv, "--out", tmp_path / "x.csv")
        assert result.exit_code == 2 and "scaler values out of range" in result.output, (scale, result.output)
    assert not (tmp_path / "x.csv").exists()


def test_forecast_files_replace_only_forecasters_own(sine_csv, tmp_path):
    run = tmp_path / "run"
    assert train(sine_csv, SINE, run).exit_code == 0
    mine = tmp_path / "report.csv"
    mine.write_text("quarter,sales\nq1,10\n")
    picture = tmp_path / "holiday.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n not a plot of ours")
    for option, path in (("--out", mine), ("--plot", picture)):
        before = path.read_bytes()
        result = invoke("forecast", run, "--data", sine_csv, option, path)
        assert result.exit_code == 2 and "was not written by forecaster" in result.output, result.output
        assert path.read_bytes() == before and len(result.output.strip().splitlines()) == 1
    ours = tmp_path / "fc.csv"
    (tmp_path / f".fc.tmp-{dead_pid()}-killed.csv").write_text("left by a killed forecast")
    for _ in range(2):  # the second forecast replaces the first one's CSV and plot: forecaster wrote them
        result = invoke("forecast", run, "--data", sine_csv, "--out", ours)
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fc.csv", "fc.png", "holiday.png", "report.csv", "run",
                                                          "sine.csv"]  # fmt: skip


def test_a_tune_folder_must_be_forecasters_or_new(sine_csv, tmp_path):
    folder = users_folder(tmp_path / "work")
    before = contents(folder)
    result = invoke("tune", sine_csv, *SINE, "--max-trials", "1", "--out", folder)
    assert result.exit_code == 2 and "was not made by forecaster" in result.output, result.output
    assert contents(folder) == before


def test_outputs_follow_the_umask(sine_csv, tmp_path):
    old = os.umask(0o027)
    try:
        run = tmp_path / "run"
        assert train(sine_csv, SINE, run).exit_code == 0
        assert invoke("forecast", run, "--data", sine_csv).exit_code == 0
    finally:
        os.umask(old)
    assert run.stat().st_mode & 0o777 == 0o750
    for name in ("model.keras", "manifest.json", "forecast.csv", "forecast.png"):
        assert (run / name).stat().st_mode & 0o777 == 0o640, name


def test_a_users_file_inside_a_run_and_the_runs_own_files_are_never_outputs(sine_csv, tmp_path):
    """Ownership is per file, by content: a run directory does not make every file in it ours."""
    import shutil

    run = tmp_path / "run"
    assert train(sine_csv, SINE, run).exit_code == 0
    mine = run / "mydata.csv"
    shutil.copy(sine_csv, mine)
    before = mine.read_bytes()
    result = invoke("forecast", run, "--data", mine, "--out", mine)
    assert result.exit_code == 2 and "is the input data" in result.output and mine.read_bytes() == before
    other = run / "budget.csv"
    other.write_text("item,amount\nrent,900\n")
    result = invoke("forecast", run, "--data", sine_csv, "--out", other)
    assert result.exit_code == 2 and "not written by forecaster" in result.output
    config = (run / "config.json").read_bytes()
    for target in ("config.json", "history.csv"):
        result = invoke("forecast", run, "--data", sine_csv, "--out", run / target)
        assert result.exit_code == 2 and "is a file of the run" in result.output
    result = invoke("forecast", run, "--data", sine_csv, "--plot", run / "loss.png")
    assert result.exit_code == 2 and "is a file of the run" in result.output
    assert (run / "config.json").read_bytes() == config and load_run(run)  # checksums still hold
    assert invoke("forecast", run, "--data", sine_csv).exit_code == 0  # its own forecast.csv: replaceable
    assert invoke("forecast", run, "--data", sine_csv).exit_code == 0


def test_the_python_api_checks_its_outputs_as_the_cli_does(sine_csv, tmp_path):
    import pytest

    from forecaster import Forecaster
    from forecaster.errors import ForecasterError

    run = tmp_path / "run"
    assert train(sine_csv, SINE, run).exit_code == 0
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "budget.xlsx").write_bytes(b"PK\x03\x04 a spreadsheet")
    (victim / "thesis.png").write_bytes(b"\x89PNG\r\n\x1a\n not ours")
    model = Forecaster.load(run)
    with pytest.raises(ForecasterError, match="not written by forecaster"):
        model.predict(sine_csv, out=victim / "budget.xlsx")
    with pytest.raises(ForecasterError, match="not written by forecaster"):
        model.predict(sine_csv, plot=victim / "thesis.png")
    assert sorted(p.name for p in victim.iterdir()) == ["budget.xlsx", "thesis.png"]  # no budget.png either
    assert (victim / "budget.xlsx").read_bytes() == b"PK\x03\x04 a spreadsheet"
    for write in (
        lambda: model.save(victim),
        lambda: model.export(victim),
        lambda: model.evaluate(sine_csv, out=victim),
    ):
        with pytest.raises(ForecasterError, match="was not made by forecaster"):
            write()
    assert sorted(p.name for p in victim.iterdir()) == ["budget.xlsx", "thesis.png"]


def test_zoned_times_come_back_in_their_zone(sine_csv, tmp_path):
    import pandas as pd

    frame = pd.read_csv(sine_csv)
    frame["time"] = pd.to_datetime(frame["time"]).dt.tz_localize("UTC+09:00").astype(str)
    tokyo = tmp_path / "tokyo.csv"
    frame.to_csv(tokyo, index=False)
    run, out = tmp_path / "run", tmp_path / "forecast.csv"
    assert train(tokyo, SINE, run, "--holdout", "6").exit_code == 0
    assert invoke("forecast", run, "--data", tokyo, "--out", out, "--plot", tmp_path / "f.png").exit_code == 0
    times = list(pd.read_csv(out, comment="#")["time"])
    assert times[0] == "2024-01-09 08:00:00+09:00" and len(times) == 6  # the hour after the last, in +09:00
    assert invoke("evaluate", run, "--data", tokyo, "--out", tmp_path / "eval").exit_code == 0
    windows = pd.read_csv(tmp_path / "eval" / "forecasts.csv", comment="#")
    assert windows["time"].str.endswith("+09:00").all() and windows["cutoff"].str.endswith("+09:00").all()
