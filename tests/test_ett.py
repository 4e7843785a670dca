import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))

from ett import origins, split_borders  # noqa: E402


def test_hourly_and_15_minute_borders():
    hourly = pd.Series(pd.date_range("2016-07-01", periods=3, freq="h").astype(str))
    quarter = pd.Series(pd.date_range("2016-07-01", periods=3, freq="15min").astype(str))
    assert split_borders(hourly) == (8640, 11520, 14400)
    assert split_borders(quarter) == (4 * 8640, 4 * 11520, 4 * 14400)


def test_test_windows_match_the_protocol():
    lookback, horizon = 336, 720
    test = origins(11520, 14400, lookback, horizon)
    assert len(test) == 2161  # all stride-1 windows, as PUBLISHED.md counts them
    assert test[0] == 11520 and test[-1] + horizon == 14400
    train = origins(0, 8640, lookback, horizon)
    assert train[0] == lookback and train[-1] + horizon == 8640
    assert np.all(origins(8640, 11520, lookback, 96) >= 8640)
