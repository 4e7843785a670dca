"""Seasonal periods found in the data: the autocorrelation of the differenced series, across the panel.

A frequency name says what the season should be (24 for hourly data); integer steps, or a file
whose frequency implies none, say nothing. So the panel is asked: each sampled series is
differenced (which removes trend and level, the usual source of spurious long-lag correlation), its
autocorrelation is computed up to `max_lag`, and the panel's mean autocorrelation is searched for
peaks that stand out from noise. The dominant period is the strongest peak, unless a divisor of it
is a peak nearly as strong (hourly data peaks at 168 and at 24: the season is 24, and 168 is kept
as a longer cycle that lookbacks should see).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from forecaster.data.grid import season_for

SAMPLE_SERIES = 200  # series that take part (evenly spaced through the panel)
LAST_POINTS = 3000  # of each series, the most recent
MAX_LAG = 400  # longest period searched (a week of hours is 168, a year of weeks 52, of days 365)
MIN_CORRELATION = 0.1  # a peak must be at least this strong ...
NOISE_SIGMAS = 4.0  # ... and this many standard errors of a white-noise autocorrelation
DIVISOR_SHARE = 0.7  # a divisor of the strongest peak wins if its peak is at least this share of it


@dataclass(frozen=True)
class SeasonFinding:
    """What the data says: the dominant period (1: none found), longer cycles, and how strong each is."""

    period: int
    cycles: tuple[int, ...]  # every period found, shortest first (the dominant one included)
    strength: dict[int, float]  # mean autocorrelation of the differenced series at each period found
    threshold: float = 1.0  # what a peak had to reach
    acf: tuple[float, ...] = ()  # the mean autocorrelation at lags 0, 1, ...

    def near(self, period: int) -> float:
        """The autocorrelation at `period`, or at a lag beside it for long periods (52 weeks are 52.18)."""
        slack = 1 if period >= 26 else 0
        values = [self.acf[lag] for lag in range(period - slack, period + slack + 1) if 0 < lag < len(self.acf)]
        finite = [v for v in values if np.isfinite(v)]
        return max(finite) if finite else float("nan")

    def shows(self, period: int) -> bool:
        """Whether the data correlates at `period` above noise."""
        return bool(self.near(period) >= self.threshold)

    def describe(self) -> str:
        if self.period == 1:
            return "no seasonal period found in the data"
        found = ", ".join(f"{p} (autocorrelation {self.strength[p]:.2f})" for p in self.cycles)
        return f"seasonal period {self.period} found in the data (periods {found})"


def mean_autocorrelation(series: Sequence[np.ndarray], max_lag: int) -> tuple[np.ndarray, int]:
    """The panel's mean autocorrelation of the first differences at lags 0..max_lag, and the number of
    differences that took part. Series with fewer than 3 * lag + 1 points do not count at that lag."""
    total = np.zeros(max_lag + 1)
    counts = np.zeros(max_lag + 1)
    points = 0
    for values in series:
        values = np.asarray(values, dtype="float64")
        values = values[np.isfinite(values)][-LAST_POINTS:]
        diffs = np.diff(values)
        n = len(diffs)
        if n < 8:
            continue
        diffs = diffs - diffs.mean()
        variance = float(diffs @ diffs)
        if variance <= 0:
            continue
        size = 1 << int(np.ceil(np.log2(2 * n)))
        spectrum = np.fft.rfft(diffs, size)
        acf = np.fft.irfft(spectrum * np.conj(spectrum), size)[: max_lag + 1] / variance
        usable = min(max_lag, n // 3)
        total[: usable + 1] += acf[: usable + 1]
        counts[: usable + 1] += 1
        points += n
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan), points


def detect_season(series: Sequence[np.ndarray], max_lag: int = MAX_LAG) -> SeasonFinding:
    """The seasonal periods of a panel (a list of 1-D value arrays), see the module docstring."""
    if len(series) > SAMPLE_SERIES:
        picks = np.unique(np.linspace(0, len(series) - 1, SAMPLE_SERIES).round().astype(int))
        series = [series[i] for i in picks]
    acf, points = mean_autocorrelation(series, max_lag)
    if points == 0:
        return SeasonFinding(1, (), {})
    threshold = max(MIN_CORRELATION, NOISE_SIGMAS / np.sqrt(points))
    # a peak is a local maximum above noise that a dip below zero precedes (a cycle is out of phase
    # somewhere before it comes round; a smooth series' slowly decaying correlation is not)
    dipped = np.minimum.accumulate(np.nan_to_num(acf, nan=1.0)) < 0
    peaks = [
        lag
        for lag in range(2, len(acf) - 1)
        if np.isfinite(acf[lag])
        and acf[lag] >= threshold
        and dipped[lag - 1]
        and acf[lag] > acf[lag - 1]
        and acf[lag] >= acf[lag + 1]
    ]
    if not peaks:
        return SeasonFinding(1, (), {}, threshold, tuple(acf))
    strongest = max(peaks, key=lambda lag: acf[lag])
    # a true period correlates at each of its multiples, a chance peak does not: judge a divisor of
    # the strongest peak by its mean autocorrelation over its multiples up to that peak
    divisors = [
        lag
        for lag in peaks
        if strongest % lag == 0 and acf[lag : strongest + 1 : lag].mean() >= DIVISOR_SHARE * acf[strongest]
    ]
    period = min(divisors)
    # longer cycles worth seeing: multiples of the period that peak more strongly than the period itself
    cycles = sorted({period, strongest} | {lag for lag in peaks if lag % period == 0 and acf[lag] > acf[period]})
    strength = {lag: round(float(acf[lag]), 3) for lag in cycles}
    return SeasonFinding(period, tuple(cycles), strength, threshold, tuple(acf))


@dataclass(frozen=True)
class Season:
    """The season a run uses, the longer cycles its lookback should see, and where they came from."""

    period: int
    cycles: tuple[int, ...]
    source: str  # "--season", "frequency" or "data"
    note: str

    def to_json(self) -> dict[str, object]:
        return {"period": self.period, "cycles": list(self.cycles), "source": self.source, "note": self.note}


def resolve_season(given: int | None, freq: str, series: Sequence[np.ndarray]) -> Season:
    """`--season` when given; else the frequency's season, checked against the data; else the data's.

    A frequency's season that the data does not show is still used (a calendar cycle is a fair
    guess) but said; integer steps or a frequency without a season take the period found.
    """

    if given:
        return Season(given, (given,), "--season", f"season {given} (given by --season)")
    expected = season_for(freq)
    finding = detect_season(series)
    if expected > 1:
        longer = tuple(p for p in finding.cycles if p > expected and p % expected == 0)
        if finding.shows(expected):
            near = finding.near(expected)
            note = f"season {expected} from frequency {freq}, confirmed by the data (autocorrelation {near:.2f} there)"
        else:
            note = f"season {expected} from frequency {freq}; the data does not show it ({finding.describe()})"
        return Season(expected, (expected, *longer), "frequency", note)
    if finding.period == 1:
        return Season(1, (), "data", f"season 1: frequency {freq} implies none and {finding.describe()}")
    return Season(finding.period, finding.cycles, "data", f"season {finding.period}: {finding.describe()}")
