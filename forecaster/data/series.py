"""The panel's types: one series on a regular grid (`Series`), the panel of them (`Panel`), the grid's times,
and how messages name a file row, a cell and a few series."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import pandas as pd

from forecaster.errors import DataError
from forecaster.kinds import JSON

Time: TypeAlias = "int | pd.Timestamp"  # a row's time: a timestamp, or an integer step (a frequency int:N)


def file_row(rows: pd.DataFrame | pd.Index, mask: np.ndarray | pd.Series) -> int:
    """The file line of the first row where `mask` holds: a frame's index is the 0-based data row."""
    index = rows.index if isinstance(rows, pd.DataFrame) else rows
    return int(index[np.asarray(mask)][0]) + 2


@dataclass
class Series:
    """One series on a regular grid.

    Attributes:
        series_id: the value of the id column ("series" for a one-series file).
        start: the first timestamp (or integer step); with `freq` it names every row's time.
        freq: the grid's step, as `Panel.freq`.
        values: float64 (n, 1 + n_covariates); column 0 is the target. On a large file these are
            views into one array of the whole file.
    """

    series_id: str
    start: Time
    freq: str
    values: np.ndarray
    n_filled: int = 0  # rows that were gaps or empty cells, filled by the --fill policy
    future: np.ndarray | None = None  # (k, n_future) --future values of the k steps after the last row, raw
    static: JSON = field(default_factory=dict)  # --static column -> the series' one value (or None)
    filled: np.ndarray | None = None  # positions of the rows the --fill policy filled (None: none)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def time(self) -> pd.Index:
        """The timestamps (DatetimeIndex) or integer steps, one per row; built when asked for (for
        10,000 series they would take as much memory as the values)."""
        return time_grid(self.start, len(self), self.freq)

    def time_at(self, position: int) -> Time:
        """The time of one row (negative positions count from the end)."""
        position = position % len(self)
        if self.freq.startswith("int:"):
            return self.start + int(self.freq.split(":")[1]) * position
        return self.start + position * offset_of(self.freq)


@functools.lru_cache(maxsize=64)
def offset_of(freq: str) -> pd.DateOffset:
    """The pandas offset of a frequency alias (parsed once: a forecast of 40,000 series asks 80,000 times)."""
    return pd.tseries.frequencies.to_offset(freq)


@dataclass
class Panel:
    """All series of a file, with what was done to them on the way in."""

    series: list[Series]
    freq: str  # a pandas offset alias, or "int:STEP" for integer steps
    path: str
    notes: list[str] = field(default_factory=list)
    zone: str | None = None  # the time column's zone (read as UTC; outputs are written back in it)
    future_source: str | None = None  # the file the --future values came from, when not this one
    sha256: str | None = None  # of the data as it was read (`read_training_panel`); None where not asked for

    @property
    def n_points(self) -> int:
        return sum(len(s) for s in self.series)

    @property
    def span_seconds(self) -> float:
        """The longest series' time span in seconds (0 for integer steps)."""
        spans = [s.time_at(-1) - s.start for s in self.series if isinstance(s.start, pd.Timestamp)]
        return max((span.total_seconds() for span in spans), default=0.0)


def cell(value: object, limit: int = 80) -> str:
    """A cell quoted in an error message: its repr, at most `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def first_few(ids: list[str], shown: int = 5) -> str:
    """Series ids for a note: the first few, then '...'."""
    return ", ".join(ids[:shown]) + (" ..." if len(ids) > shown else "")


def time_grid(start: Time, periods: int, freq: str) -> pd.Index:
    """`periods` timestamps (or integer steps) from `start` on."""
    if freq.startswith("int:"):
        step = int(freq.split(":")[1])
        if int(start) + step * (periods - 1) > np.iinfo(np.int64).max:
            raise DataError(
                f"integer time steps from {int(start)} on would pass 2**63 - 1 within {periods} steps; "
                "renumber the steps (e.g. from 0)"
            )
        return pd.Index(int(start) + step * np.arange(periods, dtype="int64"), dtype="int64")
    return pd.date_range(start, periods=periods, freq=freq)
