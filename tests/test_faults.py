"""Interrupted training: kill -9 and Ctrl-C at a random point, then the same command again."""

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from cli_helpers import SINE, invoke, train

from forecaster.training.resume import STATE_FILE, ResumableTraining, state_dir
from forecaster.training.runs import load_run

EPOCHS = 100  # ~20 ms each here: a signal sent up to 0.35 s after epoch 2 always lands inside training
LONG = [
    "--epochs",
    str(EPOCHS),
    "--patience",
    "1000",
    "--layers",
    "8",
    "--batch-size",
    "32",
    "--quiet",
    "--ensemble",
    "1",
]


def start_training(data, out, *extra):
    command = [sys.executable, "-m", "forecaster.cli", "train", str(data), *SINE, *LONG, "--out", str(out), *extra]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=deliver_ctrl_c
    )


def deliver_ctrl_c():
    """Give the child SIGINT as a terminal would: a background job inherits it ignored, and a CI runner
    may start us with it blocked; both pass through exec, and Python then never sees the Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def saved_epoch(out, member=None):
    folder = state_dir(out) if member is None else state_dir(out) / f"member_{member}"
    try:
        return json.loads((folder / STATE_FILE).read_text())["epoch"]
    except (OSError, ValueError):
        return 0


def interrupt_mid_training(process, out, sig, member=None):
    """Wait until at least two epochs (of that ensemble member) are saved, then send `sig` at a random
    moment of a later epoch."""
    deadline = time.time() + 120
    while saved_epoch(out, member) < 2:
        assert process.poll() is None, process.communicate()
        assert time.time() < deadline, "training never saved an epoch"
        time.sleep(0.05)
    time.sleep(random.Random().uniform(0.0, 0.3))
    process.send_signal(sig)
    return process.communicate(timeout=60)


@pytest.mark.slow
def test_kill_9_then_the_same_command_resumes_and_keeps_the_previous_run(sine_csv, tmp_path):
    out = tmp_path / "run"
    assert train(sine_csv, SINE, out).exit_code == 0  # a previous good run at the same place
    previous = (out / "manifest.json").read_bytes()

    process = start_training(sine_csv, out)
    interrupt_mid_training(process, out, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL
    killed_at = saved_epoch(out)
    assert 2 <= killed_at < EPOCHS
    assert (out / "manifest.json").read_bytes() == previous  # untouched ...
    load_run(out)  # ... and still whole

    result = invoke("train", sine_csv, *SINE, *LONG, "--out", out)
    assert result.exit_code == 0, result.output
    assert f"resuming after epoch {killed_at}" in result.output
    history = pd.read_csv(out / "history.csv")
    assert history["epoch"].tolist() == list(range(1, EPOCHS + 1))  # the epochs before the kill are kept
    assert load_run(out).manifest != json.loads(previous)
    assert not state_dir(out).exists()  # cleaned up once the run directory is written


@pytest.mark.slow
def test_an_ensemble_killed_in_its_second_member_resumes_there(sine_csv, tmp_path):
    out = tmp_path / "run"
    process = start_training(sine_csv, out, "--ensemble", "2")  # the later option wins
    interrupt_mid_training(process, out, signal.SIGKILL, member=1)
    killed_at = saved_epoch(out, member=1)
    assert saved_epoch(out, member=0) == EPOCHS and 2 <= killed_at < EPOCHS

    result = invoke("train", sine_csv, *SINE, *LONG, "--ensemble", "2", "--out", out)
    assert result.exit_code == 0, result.output
    assert f"resuming after epoch {EPOCHS}" in result.output and f"resuming after epoch {killed_at}" in result.output
    history = pd.read_csv(out / "history.csv")
    assert history["member"].tolist() == [0] * EPOCHS + [1] * EPOCHS
    assert history["epoch"].tolist() == list(range(1, EPOCHS + 1)) * 2
    assert not state_dir(out).exists()


@pytest.mark.slow
def test_ctrl_c_says_where_the_state_is_and_fresh_starts_over(sine_csv, tmp_path):
    out = tmp_path / "run"
    process = start_training(sine_csv, out)
    stdout, stderr = interrupt_mid_training(process, out, signal.SIGINT)
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    assert f"kept in {state_dir(out)}/" in stderr and "run the same command again" in stderr
    assert not out.exists()

    result = invoke("train", sine_csv, *SINE, *LONG, "--out", out, "--fresh")  # the same command
    assert result.exit_code == 0, result.output
    assert "resuming" not in result.output


def test_state_saved_by_another_command_is_discarded(tmp_path):
    import keras

    directory = tmp_path / ".run.training"
    directory.mkdir()
    (directory / STATE_FILE).write_text(json.dumps({"fingerprint": "other data", "epoch": 3}))
    resumable = ResumableTraining(
        directory, "this data", keras.callbacks.EarlyStopping(), keras.callbacks.ReduceLROnPlateau()
    )
    assert resumable.saved_state() is None
    assert not directory.exists()


@contextlib.contextmanager
def small_disk(path, size, *options):
    """A tmpfs of `size` at `path` (root only; skipped where mounting is not allowed)."""
    path.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]), "tmpfs",
                                  str(path)], capture_output=True)  # fmt: skip
    except OSError:  # no mount command
        pytest.skip("cannot mount a tmpfs here")
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


# The disk fills up while the state of the first epoch is saved (it needs ~0.8 MB), while a later epoch's
# is saved (the old and the new state side by side: ~1.6 MB), or -- the disk filled by something else as
# training ends -- while the run directory is written.
FILL_AFTER_TRAINING = """
import sys
import forecaster.scoring.validation as evaluate

report = evaluate.validation_report
filler_path = sys.argv.pop(1)

def then_the_disk_fills(*args, **kwargs):
    result = report(*args, **kwargs)
    with open(filler_path, "wb") as filler:
        try:
            while True:
                filler.write(bytes(1 << 16))
                filler.flush()
        except OSError:
            pass
    return result

evaluate.validation_report = then_the_disk_fills
from forecaster.cli import main
main()
"""


@pytest.mark.parametrize(
    ("size", "fill", "where"),
    [
        ("200k", False, "state after epoch 1"),
        ("900k", False, "state after epoch 2"),
        ("4m", True, "disk/run: cannot write"),
    ],
)
@pytest.mark.slow
def test_a_full_disk_is_one_line_and_no_crash(sine_csv, tmp_path, size, fill, where):
    with small_disk(tmp_path / "disk", size) as disk:
        start = ["-c", FILL_AFTER_TRAINING, str(disk / "filler")] if fill else ["-m", "forecaster.cli"]
        command = [sys.executable, *start, "train", str(sine_csv), *SINE, "--epochs", "3", "--patience", "9",
                   "--ensemble", "1", "--quiet", "--out", str(disk / "run")]  # fmt: skip
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 2, done.stdout + done.stderr  # not -11 (h5py segfaulted on a full disk)
        assert "No space left on device" in done.stderr and where in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and done.stderr.count("error:") == 1, done.stderr
        assert not (disk / "run").exists()
        assert not [p for p in disk.glob(".run.tmp-*")]  # nothing half-written


def test_a_read_only_output_is_refused_before_training(sine_csv, tmp_path):
    with small_disk(tmp_path / "disk", "1m", "ro") as disk:
        result = train(sine_csv, SINE, disk / "run")
        assert result.exit_code == 2 and "cannot write in" in result.output, result.output
        assert "Epoch" not in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_resumed_ensemble_equals_the_uninterrupted_run(sine_csv, tmp_path, monkeypatch):
    """Ctrl-C after epoch 3 of member 2 (weights, optimizer, dropout seeds and the shuffle all resume),
    then the same command: the same losses, epoch by epoch, and the same forecast as never stopping."""
    options = [*SINE, "--epochs", "6", "--patience", "1000", "--layers", "8", "--batch-size", "32", "--quiet",
               "--ensemble", "2", "--dropout", "0.2", "--select", "model"]  # fmt: skip
    assert invoke("train", sine_csv, *options, "--out", tmp_path / "whole").exit_code == 0
    save = ResumableTraining.on_epoch_end

    def stop_in_member_2(self, epoch, logs=None):
        save(self, epoch, logs)
        if self.directory.name == "member_1" and epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(ResumableTraining, "on_epoch_end", stop_in_member_2)
    assert invoke("train", sine_csv, *options, "--out", tmp_path / "cut").exit_code == 130
    monkeypatch.setattr(ResumableTraining, "on_epoch_end", save)
    result = invoke("train", sine_csv, *options, "--out", tmp_path / "cut")
    assert result.exit_code == 0 and "resuming after epoch 3" in result.output, result.output

    whole, cut = (pd.read_csv(tmp_path / run / "history.csv") for run in ("whole", "cut"))
    pd.testing.assert_frame_equal(whole, cut, check_exact=True)
    forecasts = []
    for run in ("whole", "cut"):
        assert invoke("forecast", tmp_path / run, "--data", sine_csv, "--out", tmp_path / f"{run}.csv").exit_code == 0
        forecasts.append(pd.read_csv(tmp_path / f"{run}.csv", comment="#")["forecast"])
    pd.testing.assert_series_equal(*forecasts, check_exact=True)
