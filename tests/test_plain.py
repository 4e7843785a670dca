"""What a person reads: frequencies in words beside their code, dates without a midnight time, and backtest
plots that draw windows which do not overlap."""

import pandas as pd
import pytest

from forecaster.io.plain import frequency_named, plain_time
from forecaster.io.plots import latest_apart


@pytest.mark.parametrize(
    "freq,words",
    [
        ("h", "h (hourly)"),
        ("MS", "MS (monthly, month starts)"),
        ("QS-OCT", "QS-OCT (quarterly, quarters starting in Jan, Apr, Jul, Oct)"),
        ("W-SUN", "W-SUN (weekly, weeks ending Sunday)"),
        ("15min", "15min (every 15 minutes)"),
        ("int:1", "int:1 (integer steps)"),
    ],
)
def test_a_frequency_is_named_in_words_beside_the_code_freq_takes(freq, words):
    assert frequency_named(freq) == words


def test_a_midnight_time_is_a_date():
    assert plain_time(pd.Timestamp("1965-01-01")) == "1965-01-01"
    assert plain_time(pd.Timestamp("2024-01-01 03:00")) == "2024-01-01 03:00:00"
    assert plain_time(12) == "12"


def test_a_backtest_plot_draws_the_latest_windows_that_do_not_overlap():
    """13 windows of 6 steps, a step of 2 apart: the latest, then each latest ending before the last drawn
    begins, at most four, in time order."""
    windows = [{"time": list(range(2 * k, 2 * k + 6))} for k in range(13)]
    drawn = latest_apart(windows)
    assert [w["time"][0] for w in drawn] == [6, 12, 18, 24]
    assert all(a["time"][-1] < b["time"][0] for a, b in zip(drawn, drawn[1:]))
