"""Every entry of every registry, tested without a test of its own: a new reader (forecaster/io/readers/),
statistical candidate (`scoring.statistical.STATISTICAL`) or engine is picked up here, and the name lists
`config.py` keeps (it may not import what they name) are tied to the registries they copy. Every encoder
is taken by `tests/test_model.py::test_padded_short_series_equals_the_same_series_unpadded`, every engine
by `tests/test_engines.py::test_an_engine_forecasts_every_series_as_local_does`."""

import numpy as np
import pandas as pd
import pytest
from conftest import write_panel

from forecaster import config
from forecaster.data.panel import load_panel
from forecaster.io.readers import data_digest, reader_for, readers, written_by_forecaster
from forecaster.scoring import baselines, calibration, metrics, selection, statistical
from forecaster.serving import checks

PANEL = config.DataConfig(target="y", time_col="time", id_col="id")


def test_the_setting_lists_are_the_registries_names():
    assert config.STATISTICAL == tuple(statistical.STATISTICAL)
    assert config.SELECTIONS == selection.SELECTIONS
    assert config.SPREADS == calibration.SPREADS
    assert config.BASELINE_NAMES == tuple(baselines.BASELINES)
    assert set(checks.EXTRAS) == set(checks.ENGINES) - {"local"}


def test_there_is_one_fallback_reader_and_it_is_last():
    assert [reader.fallback for reader in readers()] == [False] * (len(readers()) - 1) + [True]


@pytest.mark.parametrize("reader", readers(), ids=lambda reader: reader.name)
def test_every_reader_gives_the_panel_the_csv_gives(reader, tmp_path):
    """The same rows written in the reader's format read back to the same panel, ids, times and values;
    its columns, digest, and the forecasts it writes are recognised as ours."""
    csv = write_panel(tmp_path / "panel.csv")
    frame = pd.read_csv(csv, float_precision="round_trip", dtype={"id": str})
    path = tmp_path / f"panel-as-{reader.name}{reader.suffixes[0]}"
    with reader.sink(path, "data") as append:
        append(frame.iloc[:100])
        append(frame.iloc[100:])  # in two parts, as a forecast is written block by block
    assert reader_for(path) is reader
    assert [name.strip() for name in reader.columns(path)] == ["id", "time", "y"]
    got, expected = load_panel(path, PANEL), load_panel(csv, PANEL)
    assert [s.series_id for s in got.series] == [s.series_id for s in expected.series] and got.freq == expected.freq
    for mine, theirs in zip(got.series, expected.series):
        np.testing.assert_array_equal(mine.values, theirs.values)
        assert mine.start == theirs.start and len(mine) == len(theirs)
    assert data_digest(path) == reader.digest(path) and len(data_digest(path)) == 64
    forecast = tmp_path / f"forecast{reader.suffixes[0]}"
    with reader.sink(forecast, "forecast") as append:
        append(pd.DataFrame({"id": ["a"], "time": ["2024-06-01"], "forecast": [1.0], "method": ["model"]}))
    assert written_by_forecaster(forecast)


@pytest.mark.parametrize("name", list(statistical.STATISTICAL))
def test_every_statistical_candidate_forecasts_a_seasonal_series_and_takes_known_columns(name):
    """A finite forecast of `horizon` values near a noisy seasonal series' level, with and without a known
    column (whose effect the candidate must carry into the horizon)."""
    rng = np.random.default_rng(0)
    t = np.arange(120)
    history = 10 + np.sin(2 * np.pi * t / 12) + 0.1 * rng.standard_normal(120)
    plain = statistical.STATISTICAL[name](history, 6, 12)
    assert plain.shape == (6,) and np.isfinite(plain).all() and np.abs(plain - 10).max() < 2
    promo = (t % 10 == 0).astype(float)
    ahead = np.array([1.0, 0, 0, 0, 0, 0])
    with_known = statistical.STATISTICAL[name](history + 5 * promo, 6, 12, (promo[:, None], ahead[:, None]))
    assert np.isfinite(with_known).all() and with_known[0] - with_known[1:].mean() > 3


def small_backtest():
    from forecaster.serving.requests import Backtest

    rng = np.random.default_rng(0)
    actual = rng.normal(size=(8, 3))
    bands = {"lo_80": actual - rng.uniform(0, 2, actual.shape), "hi_80": actual + rng.uniform(-1, 2, actual.shape)}
    return Backtest(np.zeros(8, dtype=int), np.arange(8) * 3, actual, {"model": actual}, np.ones(8), None, bands)


@pytest.mark.parametrize("name", list(metrics.INTERVAL_METRICS))
def test_every_interval_metric_scores_every_level_of_a_backtest(name):
    from forecaster.serving.backtest import conformal_metrics

    report = conformal_metrics(small_backtest())
    assert list(report) == ["80"] and np.isfinite(report["80"][name])


def test_an_interval_metric_added_to_the_registry_is_in_the_report(monkeypatch):
    from forecaster.serving.backtest import conformal_metrics

    widest = lambda actual, lower, upper, scale, level: float(np.max(upper - lower))  # noqa: E731
    monkeypatch.setitem(metrics.INTERVAL_METRICS, "max_width", widest)
    bt = small_backtest()
    assert conformal_metrics(bt)["80"]["max_width"] == pytest.approx(np.max(bt.bands["hi_80"] - bt.bands["lo_80"]))


def test_the_help_names_every_engine_and_statistical_candidate_from_their_registries():
    from click.testing import CliRunner

    from forecaster.cli import main

    forecast_help = CliRunner().invoke(main, ["forecast", "--help"], terminal_width=1000).output
    train_help = CliRunner().invoke(main, ["train", "--help"], terminal_width=1000).output
    assert all(f"[{name}]" in forecast_help for name in checks.ENGINES if name != "local")
    assert all(name in train_help for name in statistical.STATISTICAL)
