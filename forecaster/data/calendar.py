"""Known-future calendar features: where each forecast step falls in the day, the week and the year.

The model is given one number per window, the Unix time (seconds, wall clock) of its last observed
point, and computes the features of every future step itself (`layers.CalendarFeatures`) as
`last + k * step_seconds`: training, `forecast` and the exported model then derive them the same
way from one input, and a client of the export has nothing to recompute. For calendar frequencies
(months, quarters, years) `step_seconds` is the mean length of the step, so a forecast step's phase
in the year is off by at most a day or two of the true month start; the model is trained with the
same approximation, so it sees no mismatch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecaster.errors import DataError

DAY = 86_400
YEAR = 31_556_952  # mean Gregorian year in seconds
CYCLES = {"day": DAY, "week": 7 * DAY, "year": YEAR}  # period in seconds
CYCLE_OFFSET = {"day": 0, "week": 3 * DAY, "year": 0}  # 1970-01-01 was a Thursday: weeks start on Monday
MEAN_STEP = {"W": 7 * DAY, "M": YEAR / 12, "Q": YEAR / 4, "Y": YEAR, "A": YEAR}  # steps pandas gives no fixed length


def step_seconds(freq: str) -> float | None:
    """The (mean) length of one step of a pandas frequency in seconds; None for integer steps and
    frequencies whose steps skip time irregularly (business days)."""
    if freq.startswith("int:"):
        return None
    offset = pd.tseries.frequencies.to_offset(freq)
    try:
        return float(pd.Timedelta(offset).total_seconds())
    except ValueError:
        base = offset.name.split("-")[0]
        mean = MEAN_STEP.get(base if base == "W" else base.rstrip("SE"))
        return None if mean is None else float(offset.n * mean)


def default_cycles(freq: str, span_seconds: float) -> tuple[str, ...]:
    """The cycles worth feeding: longer than one step, and seen at least twice in the training span."""
    step = step_seconds(freq)
    if step is None:
        return ()
    return tuple(name for name, period in CYCLES.items() if step < period and 2 * period <= span_seconds)


def resolve_cycles(requested: str | tuple[str, ...], freq: str, span_seconds: float) -> tuple[str, ...]:
    """`--calendar auto|none|day,week,year` -> the cycles to use (checked against the frequency)."""
    if requested in ("auto", ("auto",)):
        return default_cycles(freq, span_seconds)
    if requested in ("none", ("none",), ()):
        return ()
    cycles = tuple(requested.split(",")) if isinstance(requested, str) else tuple(requested)
    unknown = [c for c in cycles if c not in CYCLES]
    if unknown:
        raise DataError(f"--calendar: unknown cycle {unknown[0]!r}; use auto, none or some of day,week,year")
    if step_seconds(freq) is None:
        raise DataError(
            f"--calendar needs timestamps on a regular calendar frequency, and this data's is {freq}; "
            "use --calendar none"
        )
    return cycles


def unix_seconds(times: pd.Index) -> np.ndarray:
    """Wall-clock Unix seconds (int64) of timestamps; time zones are dropped, keeping local hours."""
    if not isinstance(times, pd.DatetimeIndex):
        raise DataError("calendar features need a time column of dates or timestamps")
    if times.tz is not None:
        times = times.tz_localize(None)
    return np.asarray((times - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1), dtype="int64")


def calendar_features(last_time: np.ndarray, cycles: tuple[str, ...], step: float, horizon: int) -> np.ndarray:
    """The reference computation (numpy, float64) of `layers.CalendarFeatures`.

    Args:
        last_time: int64 (windows,) Unix seconds of each window's last observed point.
    Returns:
        float64 (windows, horizon, 2 * len(cycles)): sin and cos of each cycle's phase per step.
    """
    times = last_time.astype("float64")[:, None] + step * np.arange(1, horizon + 1)[None, :]
    columns = []
    for name in cycles:
        angle = 2 * np.pi * np.mod(times + CYCLE_OFFSET[name], CYCLES[name]) / CYCLES[name]
        columns += [np.sin(angle), np.cos(angle)]
    return np.stack(columns, axis=-1)
