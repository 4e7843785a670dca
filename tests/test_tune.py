"""`forecaster tune`: a small search, the distributed mode on loopback, resume after kill -9, failures."""

import os
import signal
import socket
import subprocess
import sys
import time

import pandas as pd
import pytest
from cli_helpers import SINE, invoke, tensorflow_warnings

from forecaster.errors import ForecasterError
from forecaster.training.runs import load_run

TINY = ["--epochs", "2", "--layers", "8", "--batch-size", "32", "--tuner", "random"]
# a small space so trials are quick: the lookback and the width are searched
SMALL_SPACE = (
    '[tune]\nlayers = [1]\nunits = [8, 16]\nbidirectional = [false]\nbatch_size = [32]\nloss = ["mse", "mae"]\n'
)


@pytest.fixture
def small_space(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(SMALL_SPACE)
    return path


def tune_command(data, out, config, *extra):
    return [sys.executable, "-m", "forecaster.cli", "tune", str(data), *SINE, *TINY, "--config", str(config),
            "--out", str(out), *extra]  # fmt: skip


def run_env():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}


@pytest.mark.slow
def test_small_search_writes_a_best_run_that_forecasts(sine_csv, tmp_path, small_space):
    out = tmp_path / "tuned"
    result = invoke("tune", sine_csv, *SINE, *TINY, "--config", small_space, "--max-trials", "3", "--out", out)
    assert result.exit_code == 0, result.output
    assert "trial 1/3 lookback=24 layers=1 units=8" in result.output  # the untuned setting comes first
    assert "trial 3/3" in result.output and "best val_mse" in result.output
    trials = pd.read_csv(out / "trials.csv")
    assert trials["trial"].tolist() == [1, 2, 3] and (trials["status"] == "COMPLETED").all()
    assert {"lookback", "units", "loss", "score", "seconds", "rss_mb"} <= set(trials.columns)
    assert (out / "trials.png").stat().st_size > 1000
    run = load_run(out / "best")
    best = trials.loc[trials["score"].idxmin()]
    assert run.config.window.lookback == best["lookback"] and run.config.model.layers == (best["units"],)
    assert invoke("forecast", out / "best", "--data", sine_csv, "--out", tmp_path / "fc.csv").exit_code == 0


def test_space_overrides_are_checked():
    from forecaster.config import ModelConfig, RunConfig, TrainConfig, WindowConfig
    from forecaster.training.tune import search_space

    base = RunConfig(
        data=None, window=WindowConfig(horizon=6, lookback=24), model=ModelConfig(24, 6), train=TrainConfig()
    )
    space = search_space(base, season=24, longest=200, overrides={"units": [16]})
    assert space["units"] == [16, 64]  # the untuned width is always a choice (the first trial's)
    assert space["lookback"] == [24, 48, 96]
    with pytest.raises(ForecasterError, match="unknown key"):
        search_space(base, 24, 200, {"unit": [16]})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_chief_and_two_workers_on_loopback_split_the_trials(sine_csv, tmp_path, small_space):
    out = tmp_path / "tuned"
    address = f"127.0.0.1:{free_port()}"
    trials = ["--max-trials", "6", "--epochs", "3"]
    env = run_env()
    chief = subprocess.Popen(tune_command(sine_csv, out, small_space, *trials, "--chief", address),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)  # fmt: skip
    workers = [
        subprocess.Popen(
            tune_command(sine_csv, out, small_space, *trials, "--worker", address, "--worker-id", name),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )  # fmt: skip
        for name in ("worker-a", "worker-b")
    ]
    outputs = [p.communicate(timeout=300)[0] for p in workers]
    chief_output = chief.communicate(timeout=300)[0]
    assert chief.returncode == 0, chief_output
    assert all(p.returncode == 0 for p in workers), outputs
    assert "no token: only this machine can reach it" in chief_output and "127.0.0.1" in chief_output

    table = pd.read_csv(out / "trials.csv")
    assert table["trial"].tolist() == list(range(1, 7)) and (table["status"] == "COMPLETED").all()
    assert table["worker"].nunique() == 2  # both workers ran trials ...
    ran = [output.count("trial ") for output in outputs]
    assert min(ran) >= 1 and sum(ran) == 6, outputs  # ... and between them ran each trial once
    assert chief_output.count("training it into") == 1  # the best model is written by the chief, once
    assert not any("training it into" in output for output in outputs)
    load_run(out / "best")


@pytest.mark.slow
def test_killed_search_resumes_and_reruns_the_interrupted_trial(sine_csv, tmp_path, small_space):
    out = tmp_path / "tuned"
    command = tune_command(sine_csv, out, small_space, "--max-trials", "4")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=run_env())
    deadline = time.time() + 180
    for line in process.stdout:
        if line.startswith("trial 2/4"):
            break
        assert time.time() < deadline
    time.sleep(0.3)  # into trial 3
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "best").exists()

    result = invoke("tune", sine_csv, *SINE, *TINY, "--config", small_space, "--max-trials", "4", "--out", out)
    assert result.exit_code == 0, result.output
    assert "resuming: 2 trial(s) done" in result.output
    assert "trial 1/4" not in result.output and "trial 4/4" in result.output
    table = pd.read_csv(out / "trials.csv")
    assert table["trial"].tolist() == [1, 2, 3, 4] and (table["status"] == "COMPLETED").all()
    load_run(out / "best")

    result = invoke("tune", sine_csv, *SINE, *TINY, "--config", small_space, "--max-trials", "1", "--out", out,
                    "--overwrite")  # fmt: skip
    assert result.exit_code == 0 and "resuming" not in result.output
    assert len(pd.read_csv(out / "trials.csv")) == 1


@pytest.mark.slow
def test_failing_trials_are_recorded_and_stop_the_search(sine_csv, tmp_path):
    config = tmp_path / "diverge.toml"
    config.write_text("[tune]\nlearning_rate = [1e30]\nunits = [8]\nlayers = [1]\n")
    out = tmp_path / "tuned"
    result = invoke("tune", sine_csv, *SINE, *TINY, "--learning-rate", "1e30", "--clipnorm", "1e30",
                    "--config", config, "--max-trials", "5", "--out", out)  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "3 trials in a row failed" in result.output and "NaN" in result.output
    assert "Traceback" not in result.output
    assert result.output.count("failed: loss or validation error became NaN or inf") == 3  # each with its reason
    table = pd.read_csv(out / "trials.csv")
    assert (table["status"] == "FAILED").all() and table["message"].str.contains("NaN").all()


def test_a_chief_beyond_loopback_needs_a_token(sine_csv, tmp_path):
    result = invoke("tune", sine_csv, *SINE, "--chief", "0.0.0.0:8123", "--out", tmp_path / "t")
    assert result.exit_code == 2 and "give --token SECRET" in result.output, result.output
    assert not (tmp_path / "t").exists()


def rogue_client(address, token=None, own_connection=False):
    """A process that talks KerasTuner's protocol to the chief, as any local program could (with
    `own_connection`, on a connection of its own, as another process would be)."""
    import grpc
    from keras_tuner.src import protos

    options = [("grpc.use_local_subchannel_pool", 1)] if own_connection else []
    channel = grpc.insecure_channel(address, options=options)
    grpc.channel_ready_future(channel).result(timeout=120)
    stub = protos.get_service_grpc().OracleStub(channel)
    metadata = [("forecaster-token", token)] if token else []
    return stub, protos.get_service(), metadata


SILENCE = 20  # --worker-timeout: the honest worker, on a 2-core machine under other load, is never timed out


@pytest.mark.slow
def test_the_chief_trusts_no_worker(sine_csv, tmp_path, small_space):
    import grpc
    from keras_tuner.src.engine import trial as trial_module

    out = tmp_path / "tuned"
    address = f"127.0.0.1:{free_port()}"
    env = {**run_env(), "FORECASTER_TUNE_TOKEN": "s3cret"}
    chief = subprocess.Popen(
        tune_command(sine_csv, out, small_space, "--max-trials", "3", "--epochs", "1", "--chief", address,
                     "--worker-timeout", str(SILENCE)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        stub, service, with_token = rogue_client(address, "s3cret")
        _, _, wrong = rogue_client(address, "guess")
        with pytest.raises(grpc.RpcError) as refused:  # no token or a wrong one: nothing gets through
            stub.GetSpace(service.GetSpaceRequest(), metadata=wrong, timeout=30)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # trial 1, reported with a value outside the search space and an impossibly good score
        trial = trial_module.Trial.from_proto(
            stub.CreateTrial(service.CreateTrialRequest(tuner_id="rogue"), metadata=with_token, timeout=30).trial
        )
        stub.UpdateTrial(service.UpdateTrialRequest(trial_id=trial.trial_id, metrics={"val_mse": 1e-12}, step=0),
                         metadata=with_token, timeout=30)  # fmt: skip
        trial.hyperparameters.values["units"] = 1
        trial.status = "COMPLETED"
        stub.EndTrial(service.EndTrialRequest(trial=trial.to_proto()), metadata=with_token, timeout=30)
        # the search space is the chief's: a client's additions are not taken (issue 30)
        grown = trial.hyperparameters.copy()
        grown.Choice("lookback", [100000])
        stub.UpdateSpace(service.UpdateSpaceRequest(hyperparameters=grown.to_proto()), metadata=with_token, timeout=30)
        space = stub.GetSpace(service.GetSpaceRequest(), metadata=with_token, timeout=30).hyperparameters
        assert "100000" not in str(space)
        with pytest.raises(grpc.RpcError) as refused:  # ids are bounded: a 3 MB tuner id is not printed whole
            stub.CreateTrial(service.CreateTrialRequest(tuner_id="x" * 3_000_000), metadata=with_token, timeout=30)
        assert refused.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED)
        # trial 2 is taken by a worker that then goes silent: after --worker-timeout it is handed out again
        silent = trial_module.Trial.from_proto(
            stub.CreateTrial(service.CreateTrialRequest(tuner_id="silent"), metadata=with_token, timeout=30).trial
        )
        other, _, _ = rogue_client(address, "s3cret", own_connection=True)  # another worker may not report for it
        with pytest.raises(grpc.RpcError) as refused:
            other.UpdateTrial(service.UpdateTrialRequest(trial_id=silent.trial_id, metrics={"val_mse": 0.0}, step=0),
                              metadata=with_token, timeout=30)  # fmt: skip
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        intruder = subprocess.run(tune_command(sine_csv, out, small_space, "--worker", address),
                                  capture_output=True, text=True, env={**env, "FORECASTER_TUNE_TOKEN": "guess"},
                                  timeout=300)  # fmt: skip
        assert intruder.returncode == 2 and "Traceback" not in intruder.stderr, intruder.stderr
        assert "the chief refused this worker (UNAUTHENTICATED" in intruder.stderr, intruder.stderr
        time.sleep(SILENCE + 1)
        worker = subprocess.run(tune_command(sine_csv, out, small_space, "--max-trials", "3", "--epochs", "1",
                                             "--worker", address, "--worker-id", "honest"),
                                capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
        assert worker.returncode == 0, worker.stdout + worker.stderr
        chief_output = chief.communicate(timeout=300)[0]
    finally:
        chief.kill()
    assert chief.returncode == 0, chief_output
    assert "workers must give the same token" in chief_output
    assert f"worker silent silent for {SILENCE} s; trial 2 is handed out again" in chief_output
    table = pd.read_csv(out / "trials.csv").set_index("trial")
    assert table.loc[1, "status"] == "FAILED" and "units=1 is outside the search space" in table.loc[1, "message"]
    assert table.loc[1, "units"] != 1  # the record keeps the values the trial was given
    assert (table.loc[[2, 3], "status"] == "COMPLETED").all() and table.loc[[2, 3], "worker"].nunique() == 1
    assert ".0" not in pd.read_csv(out / "trials.csv", dtype=str)["worker"].dropna().str.cat()  # a pid, whole
    load_run(out / "best")


@pytest.mark.slow
def test_the_python_api_tunes_and_then_forecasts_with_the_best_run(sine_csv, tmp_path, small_space):
    import tomllib

    from forecaster import Forecaster

    space = tomllib.loads(small_space.read_text())["tune"]
    model = Forecaster(horizon=6, target="y", time_col="time", lookback=24, epochs=2, layers=(8,))
    summary = model.tune(sine_csv, out=tmp_path / "tuned", space=space, tuner="random", max_trials=2)
    assert summary["trials"] == 2 and model.run_dir == tmp_path / "tuned" / "best"
    assert len(model.predict(sine_csv)) == 6


@pytest.mark.slow
def test_the_first_trial_is_what_train_fits(sine_csv, tmp_path, small_space):
    """The untuned trial is compiled, seeded and fitted as `train` fits its network: the same best
    validation MSE."""
    options = [*SINE, "--epochs", "3", "--layers", "8", "--batch-size", "32", "--ensemble", "1", "--loss", "mse"]
    assert invoke("train", sine_csv, *options, "--quiet", "--out", tmp_path / "run").exit_code == 0
    trained = pd.read_csv(tmp_path / "run" / "history.csv")["val_loss"].min()
    result = invoke("tune", sine_csv, *options, "--tuner", "random", "--max-trials", "1", "--config", small_space,
                    "--out", tmp_path / "tuned")  # fmt: skip
    assert result.exit_code == 0, result.output
    first = pd.read_csv(tmp_path / "tuned" / "trials.csv").iloc[0]
    assert first["score"] == pytest.approx(trained, rel=1e-5)


@pytest.mark.slow
def test_a_search_does_not_warn_of_each_trials_first_trace(sine_csv, tmp_path):
    out = tmp_path / "tuned"
    with tensorflow_warnings() as said:  # each trial's network traces its steps once: TensorFlow warned from the 5th
        result = invoke("tune", sine_csv, *SINE, "--epochs", "1", "--max-trials", "7", "--out", out)
    assert result.exit_code == 0 and "7 of 7 trials completed" in result.output, result.output
    assert not [line for line in said if "retracing" in line]
