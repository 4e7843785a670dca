import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    yield


@pytest.fixture
def sine_csv(tmp_path):
    """A 200-point hourly sine with noise: one series."""
    n = 200
    t = np.arange(n)
    values = 10 + np.sin(2 * np.pi * t / 24) + 0.05 * np.random.default_rng(0).standard_normal(n)
    path = tmp_path / "sine.csv"
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"), "y": values}).to_csv(path, index=False)
    return path


def write_panel(path):
    """Three series of different lengths in long format, one shorter than the lookback used in tests."""
    rng = np.random.default_rng(1)
    frames = []
    for sid, n, level in [("a", 150, 5.0), ("b", 90, 50.0), ("c", 40, -3.0)]:
        t = np.arange(n)
        frames.append(
            pd.DataFrame(
                {
                    "id": sid,
                    "time": pd.date_range("2024-01-01", periods=n, freq="D"),
                    "y": level + np.sin(2 * np.pi * t / 7) + 0.1 * rng.standard_normal(n),
                }
            )
        )
    pd.concat(frames).to_csv(path, index=False)
    return path


@pytest.fixture
def panel_csv(tmp_path):
    return write_panel(tmp_path / "panel.csv")


@pytest.fixture(autouse=True)
def _statistical_fits_in_process(monkeypatch):
    """The CLI and the API spread statistical fits over every core's worker process (`n_jobs` None), whose start
    costs seconds: in tests this machine has one core, so they run in this process, as the same calls (the
    workers themselves are checked by `tests/test_selection.py::test_many_statistical_fits_spread_over_processes_
    give_the_same_numbers` and `tests/test_processes.py`)."""
    from forecaster.scoring import statistical

    monkeypatch.setattr(statistical, "usable_cores", lambda: 1)
