"""The final epochs: after early stopping, every network trains on every window before the holdout (the
validation part's too), while the validation evidence (metrics, the guard, the conformal table) is scored on the
networks as early stopping left them."""

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import SINE, invoke, python_warnings
from test_selection import hourly_panel_config

from forecaster.config import WindowConfig
from forecaster.data.resolve import FINAL_EPOCHS, SHORT_HISTORY
from forecaster.data.windowing import fit_origins, split_series, train_origins, val_origins
from forecaster.training import train
from forecaster.training.runs import VALIDATED_FILE, load_run

# the guard on, two members, a small budget
OPTIONS = ["--epochs", "2", "--layers", "8", "--batch-size", "32", "--quiet", "--ensemble", "2"]
EVIDENCE = ("metrics.json", "selection.json", "calibration.json")


def test_the_final_epochs_windows_are_every_one_before_the_holdout():
    cfg = WindowConfig(lookback=8, horizon=5, holdout=3, min_context=2)
    split = split_series(60, cfg)
    every = set(fit_origins(split, cfg))
    assert set(train_origins(split, cfg)) | set(val_origins(split, cfg)) < every  # and those between them
    assert min(every) == cfg.min_context
    assert max(every) + cfg.horizon == split.n_fit == 60 - cfg.holdout  # no target reaches the holdout


def trained(data, out, *extra):
    result = invoke("train", data, *SINE, *OPTIONS, *extra, "--out", out)
    assert result.exit_code == 0, result.output
    forecast = out.parent / f"{out.name}.csv"
    assert invoke("forecast", out, "--data", data, "--out", forecast).exit_code == 0
    evidence = {name: json.loads((out / name).read_text()) for name in EVIDENCE}
    return result.output, evidence, pd.read_csv(forecast)


def test_the_final_epochs_change_what_serves_and_not_the_validation_evidence(sine_csv, tmp_path):
    _, before, _ = trained(sine_csv, tmp_path / "none", "--final-epochs", "0")
    said, after, _ = trained(sine_csv, tmp_path / "final", "--final-epochs", "3")
    assert "then 3 epochs on all" in said and "the validation part's included" in said
    assert after["calibration.json"] == before["calibration.json"]  # scored on the same networks, as early
    for key in ("method", "scores", "windows"):  # stopping left them (the guard's timings aside)
        assert after["selection.json"][key] == before["selection.json"][key], key
    assert after["metrics.json"]["model"] == before["metrics.json"]["model"]
    kept, learned = (load_run(tmp_path / name).load_model().get_weights() for name in ("none", "final"))
    assert not all(np.allclose(a, b) for a, b in zip(kept, learned))  # what serves learned the newest windows
    # the networks as early stopping left them are kept beside (listed, so checked), for updates to start from
    final = load_run(tmp_path / "final")
    assert VALIDATED_FILE in final.manifest["files"] and not (tmp_path / "none" / VALIDATED_FILE).exists()
    assert all(np.array_equal(a, b) for a, b in zip(kept, final.load_validated_model().get_weights()))


def test_an_update_starts_from_the_networks_that_never_trained_on_the_windows_it_validates_on(
    sine_csv, tmp_path, monkeypatch
):
    """The final epochs trained the parent's networks on its validation part, which an update's newest windows
    mostly are: scored on them, the update's guard and conformal table would be scored in-sample (on Nord Pool's
    validation days weekly updates' 95% bands covered 0.932). So an update starts from the weights early stopping
    chose, kept in the run, and takes its own final epochs after its own validation."""
    rows = sine_csv.read_text().splitlines(keepends=True)
    (tmp_path / "older.csv").write_text("".join(rows[:-24]))  # the newer day: the update's
    trained(tmp_path / "older.csv", tmp_path / "run", "--final-epochs", "3")
    parent = load_run(tmp_path / "run")
    starts = []
    fit = train.fit_model

    def recording(prepared, cfg, log, state=None, fingerprint="", initial=None):
        starts.append([w.copy() for w in initial.get_weights()])
        return fit(prepared, cfg, log, state, fingerprint, initial)

    monkeypatch.setattr(train, "fit_model", recording)
    result = invoke("update", tmp_path / "run", "--data", sine_csv, "--out", tmp_path / "run2", "--epochs", "1")
    assert result.exit_code == 0, result.output
    assert "as early stopping left them" in result.output
    validated, served = parent.load_validated_model().get_weights(), parent.load_model().get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(starts[0], validated))
    assert not all(np.array_equal(a, b) for a, b in zip(starts[0], served))
    assert VALIDATED_FILE in load_run(tmp_path / "run2").manifest["files"]  # its own, for the next update


def test_one_networks_early_stopped_weights_load_without_a_warning(sine_csv, tmp_path):
    """With one network (no ensemble) the served model came straight from its fit, its optimizer built, while the
    weights early stopping chose were saved from a model built for them: loading those into this one made Keras
    warn, on every update and refit, that the two optimizers' variables differ."""
    one = ["--ensemble", "1", "--final-epochs", "1"]
    result = invoke("train", sine_csv, *SINE, *OPTIONS, *one, "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    with python_warnings(UserWarning) as warned:
        load_run(tmp_path / "run").load_validated_model()
    assert not warned


def test_final_epochs_that_diverge_leave_the_networks_as_early_stopping_did(sine_csv, tmp_path, monkeypatch):
    def diverging(model, *_):
        model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])

    _, _, plain = trained(sine_csv, tmp_path / "none", "--final-epochs", "0")
    monkeypatch.setattr(train, "final_epochs", diverging)
    said, _, served = trained(sine_csv, tmp_path / "final", "--final-epochs", "3")
    assert "the final epochs diverged" in said
    kept, served_weights = (load_run(tmp_path / name).load_model().get_weights() for name in ("none", "final"))
    assert all(np.array_equal(a, b) for a, b in zip(kept, served_weights))
    pd.testing.assert_frame_equal(served, plain)


@pytest.mark.parametrize(
    "series,length,given,expected",
    [
        (1, SHORT_HISTORY + 1, None, FINAL_EPOCHS),  # one long series (day-ahead prices, El Nino, CO2)
        (1, SHORT_HISTORY, None, 0),  # one short series (M3's one-series runs lost with them)
        (3, SHORT_HISTORY, None, FINAL_EPOCHS),  # a panel of short series (M3's)
        (3, SHORT_HISTORY + 1, None, 0),  # a panel of long series (M4 Weekly's lost with them)
        (3, 400, {"final_epochs": 2}, 2),  # given wins
        (1, 400, {"final_epochs": 0}, 0),
    ],
)
def test_one_long_series_and_panels_of_short_ones_take_the_final_epochs(series, length, given, expected):
    cfg = hourly_panel_config(series, length, 24, given or {})
    assert cfg.train.final_epochs == expected
