"""Where a training's time goes, and the guard's statistical fits made beside the network's training: said in one
line, and the same numbers as fits made after it."""

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import SINE, invoke

from forecaster.scoring import statistical
from forecaster.scoring.statistical import STATISTICAL, StatisticalFits

GUARDED = ["--epochs", "1", "--layers", "8", "--batch-size", "32", "--quiet", "--ensemble", "1"]


def test_fits_begun_in_workers_give_the_numbers_of_fits_made_here(monkeypatch):
    rng = np.random.default_rng(4)
    histories = [10 + np.sin(np.arange(96) * 2 * np.pi / 12) + rng.normal(0, 0.3, 96) for _ in range(6)]
    histories[2] = np.array([1.0])  # too short to fit: NaN, as here
    jobs = [(name, history, None) for history in histories for name in ("auto_ets", "auto_theta")]
    here = [STATISTICAL[name](history, 6, 12) for name, history, _ in jobs]
    with statistical.fit_processes(2):
        begun = StatisticalFits(jobs, 6, 12)  # 12 fits: under fit_each's PARALLEL_FROM, in workers all the same
    assert begun._pool is not None
    counted = []
    np.testing.assert_array_equal(np.array(begun.results(counted.append)), np.array(here))
    assert counted == list(range(1, len(jobs) + 1)) and begun.seconds > 0 and begun._pool is None


def test_a_run_says_where_its_time_went_and_its_fits_beside_training_change_nothing(sine_csv, tmp_path, monkeypatch):
    runs = {}
    for processes in (1, 2):
        monkeypatch.setattr(statistical, "usable_cores", lambda n=processes: n)  # the CLI's n_jobs: every core
        run = tmp_path / f"run{processes}"
        result = invoke("train", sine_csv, *SINE, *GUARDED, "--out", run)
        assert result.exit_code == 0, result.output
        took = [line for line in result.output.splitlines() if line.startswith("took ")]
        assert len(took) == 1 and "training " in took[0] and "validation and the guard " in took[0]
        assert ("statistical fits ran beside the training" in took[0]) == (processes == 2), took[0]
        forecast = tmp_path / f"f{processes}.csv"
        assert invoke("forecast", run, "--data", sine_csv, "--out", forecast).exit_code == 0
        runs[processes] = (json.loads((run / "selection.json").read_text()), pd.read_csv(forecast))
    (one, first), (two, second) = runs[1], runs[2]
    assert one["method"] == two["method"] and one["scores"] == two["scores"]
    pd.testing.assert_frame_equal(first, second)


def test_each_epoch_s_validation_pass_goes_in_large_batches_and_scores_as_in_the_training_s():
    from forecaster.config import DataConfig
    from forecaster.data.panel import read_panel
    from forecaster.data.resolve import resolve_config
    from forecaster.data.windowing import FORWARD_BATCH
    from forecaster.models.network import build_model
    from forecaster.settings import Settings
    from forecaster.training.fitting import compile_network, seeded, tensorflow_settings
    from forecaster.training.train import prepare, training_data

    length, series = 400, 40
    t = np.arange(length)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "id": np.repeat([f"s{k}" for k in range(series)], length),
            "time": np.tile(pd.date_range("2024-01-01", periods=length, freq="h"), series),
            "y": 10 + np.tile(np.sin(2 * np.pi * t / 24), series) + rng.normal(0, 0.2, series * length),
        }
    )
    panel = read_panel(frame, DataConfig(target="y", time_col="time", id_col="id"))
    options = {"target": "y", "time_col": "time", "id_col": "id", "horizon": 24, "batch_size": 32, "layers": [8]}
    cfg = resolve_config(Settings.given({**options, "ensemble": 1}), panel)[0]
    prepared = prepare(panel, cfg)
    with tensorflow_settings():  # the seeds and determinism a fit sets, as they were after it
        seeded(cfg.train)
        data = training_data(prepared, cfg.train)
        assert data.n_val > FORWARD_BATCH
        assert [len(targets) for _, targets, *_ in data.val.take(1)] == [FORWARD_BATCH]
        model = compile_network(build_model(cfg.model), cfg)
        windows = prepared.val_index.take(np.arange(data.n_val))
        in_training_batches = prepared.source.dataset(*windows, cfg.train.batch_size)
        expected = model.evaluate(in_training_batches, verbose=0)
        assert model.evaluate(data.val, verbose=0) == pytest.approx(expected, rel=1e-5)
