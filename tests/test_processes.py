"""The statistical fits' worker processes: a setting the CLI and the API both pass (`n_jobs`; every core by
default), set for the length of a call and as it was after, and workers that never run the caller's script."""

import subprocess
import sys
import textwrap

import pytest
from cli_helpers import SINE, invoke

from forecaster import Forecaster
from forecaster.errors import SettingsError
from forecaster.scoring import statistical

GUARDED = ["--epochs", "1", "--layers", "8", "--batch-size", "32", "--quiet", "--ensemble", "1"]
OPTIONS = {"target": "y", "time_col": "time", "lookback": 24, "epochs": 1, "layers": (8,), "batch_size": 32,
           "ensemble": 1}  # fmt: skip


@pytest.fixture
def guard_workers(monkeypatch):
    """The worker count each guard's fits were begun with, on a machine of 3 cores (begun here, not in
    workers: what is checked is the count asked for)."""
    monkeypatch.setattr(statistical, "usable_cores", lambda: 3)
    seen = []
    begin = statistical.StatisticalFits.__init__

    def record(self, jobs, horizon, season, background=True):
        seen.append(statistical.fit_worker_count())
        begin(self, jobs, horizon, season, background=False)

    monkeypatch.setattr(statistical.StatisticalFits, "__init__", record)
    return seen


def test_the_apis_guard_uses_every_core_as_the_clis_does(sine_csv, tmp_path, guard_workers):
    Forecaster(horizon=6, **OPTIONS).fit(sine_csv, out=tmp_path / "api")
    assert invoke("train", sine_csv, *SINE, *GUARDED, "--out", tmp_path / "cli").exit_code == 0
    Forecaster(horizon=6, n_jobs=1, **OPTIONS).fit(sine_csv, out=tmp_path / "one")
    assert guard_workers == [3, 3, 1]
    assert statistical.fit_worker_count() == 1  # as it was before the calls


@pytest.mark.parametrize("n_jobs", [0, -2, 1.5, True, "2"])
def test_a_bad_n_jobs_is_refused_in_one_line(n_jobs):
    with pytest.raises(SettingsError, match="n_jobs="):
        Forecaster(horizon=6, n_jobs=n_jobs)


def test_the_setting_holds_for_its_block_only():
    with statistical.fit_processes(4):
        assert statistical.fit_worker_count() == 4
        with statistical.fit_processes(1):
            assert statistical.fit_worker_count() == 1
        assert statistical.fit_worker_count() == 4
    assert statistical.fit_worker_count() == 1


def test_a_script_without_a_main_guard_is_not_run_again_in_the_workers(sine_csv, tmp_path):
    """Spawned workers import the script that made them unless told not to: one without
    `if __name__ == "__main__":` would train again in each. Its top level runs once here."""
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(f"""
        import logging
        logging.basicConfig(level="INFO")  # the API's lines, the CLI's "took ..." among them
        with open({str(tmp_path / "ran.txt")!r}, "a") as ran:
            ran.write("ran\\n")
        from forecaster import Forecaster
        model = Forecaster(horizon=6, n_jobs=2, **{OPTIONS!r})
        model.fit({str(sine_csv)!r}, out={str(tmp_path / "run")!r})
    """)
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "ran.txt").read_text() == "ran\n"
    assert "statistical fits ran beside the training" in done.stderr
