"""What a person reads: frequencies in words beside their code, dates without a midnight time, and backtest
plots that draw windows which do not overlap."""

import pandas as pd
import pytest

from forecaster.io.plain import counted, frequency_named, plain_time
from forecaster.io.plots import latest_apart


@pytest.mark.parametrize(
    "freq,words",
    [
        ("h", "h (hourly)"),
        ("MS", "MS (monthly, month starts)"),
        ("QS-OCT", "QS-OCT (quarterly, quarters starting in Jan, Apr, Jul, Oct)"),
        ("W-SUN", "W-SUN (weekly, dated on Sundays)"),
        ("W-MON", "W-MON (weekly, dated on Mondays)"),
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


def test_a_count_takes_the_number_of_its_noun():
    from forecaster.serving.backtest import render_table

    assert counted(1, "window") == "1 window" and counted(2, "window") == "2 windows"
    assert counted(1, "series", "series") == "1 series" and counted(12_000, "window") == "12,000 windows"
    report = {"windows": 1, "series": 1, "horizon": 6, "season": 24, "overall": {}}
    assert render_table(report).splitlines()[0] == "backtest: 1 window over 1 series, horizon 6, season 24"


def test_the_training_line_never_contradicts_its_own_steps():
    from forecaster.data.resolve import sized_training

    sized, note = sized_training({}, 350, 1, 8)  # batch 32: 11 steps an epoch, not "about 8"
    assert sized["batch_size"] == 32 and "(11 steps an epoch)" in note
    assert "8 steps an epoch" not in note and "a batch of about an eighth of them" in note


def test_the_guards_words_say_what_a_long_validation_part_is():
    from forecaster.scoring.selection import RULE, needs

    words = needs("model", long_validation=True, blind=frozenset())
    assert words == "any amount below, validation holding 2 horizons or more of each series"
    assert "long validation parts" not in RULE and "2 horizons or more of each series" in RULE
