"""Each series on the full grid of its frequency: gaps filled by the --fill policy or refused, known-future
rows set apart, grids far larger than the rows refused; the times after a series and the season of a
frequency."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from forecaster.config import DataConfig
from forecaster.data.series import Panel, Series, file_row, offset_of, time_grid
from forecaster.errors import DataError
from forecaster.io.plain import plain_time


def filled_note(sid: str, count: int, fill: str) -> str:
    return f"series {sid!r}: filled {count} missing value(s) by {fill}"


@dataclass(frozen=True)
class SeriesRows:
    """One series' rows as read from `path`: its id, the rows' `times` (datetimes, or integer steps when not
    `is_datetime`), `values` (rows, columns: the target first) and places in the file (`rows`), and the
    frequency `freq` its grid steps by."""

    sid: str
    times: np.ndarray
    values: np.ndarray
    rows: pd.Index
    freq: str
    is_datetime: bool
    path: str

    def cut(self, start: int, end: int) -> SeriesRows:
        return replace(self, times=self.times[start:end], values=self.values[start:end], rows=self.rows[start:end])


def regularise(read: SeriesRows, cfg: DataConfig, notes: list[str]) -> Series:
    """Put one series' rows on the full grid of its frequency and apply the gap policy. With --future
    columns, the rows after the last target value are the covariates' known future (`Series.future`), not
    gaps."""
    sid, values, rows, path = read.sid, read.values, read.rows, read.path
    future = None
    if cfg.future:
        observed = np.flatnonzero(~np.isnan(values[:, 0]))
        end = int(observed[-1]) + 1 if len(observed) else 0
        if end == 0:
            raise DataError(
                f"{path}: row {file_row(rows, np.ones(len(rows), bool))}: series {sid!r} has no target value"
            )
        if end < len(values):
            future = _future_rows(read, end, len(cfg.future))
            read = read.cut(0, end)
    read = _cut_empty_ends(read, cfg.target, notes)
    times, values, rows, freq, is_datetime = read.times, read.values, read.rows, read.freq, read.is_datetime
    if is_datetime and _evenly_stepped(times, freq) and not np.isnan(values).any():
        return Series(sid, pd.Timestamp(times[0]), freq, values, future=future)  # the usual series, found fast
    _check_grid_size(read)
    if is_datetime:
        grid: pd.Index = pd.date_range(times[0], times[-1], freq=freq)
    else:
        step = int(freq.split(":")[1]) if freq.startswith("int:") else 1
        grid = pd.Index(np.arange(times[0], times[-1] + 1, step), dtype="int64")
    on_grid = len(grid) == len(times) and np.array_equal(grid.to_numpy(), times)
    if on_grid and not np.isnan(values).any():  # the usual series: complete, on the grid, nothing to fill
        return Series(sid, grid[0], freq, values, future=future)
    off_grid = ~pd.Index(times).isin(grid)
    if off_grid.any():
        odd = plain_time(pd.Timestamp(times[off_grid][0]) if is_datetime else times[off_grid][0])
        raise DataError(
            f"{path}: row {file_row(rows, off_grid)}: series {sid!r} has an irregular step at {odd} "
            f"(frequency {freq}); resample the data to a regular step or give --freq"
        )
    indexed = pd.DataFrame(values, index=pd.Index(times)).reindex(grid)
    missing = indexed.isna().any(axis=1)
    if missing.any():
        columns = (cfg.target, *cfg.features, *cfg.future)
        empty = indexed.isna().all(axis=0).to_numpy()
        if empty.any():  # nothing to fill from, whatever --fill says: it would stay NaN, and training "diverge"
            raise DataError(
                f"{path}: row {file_row(rows, np.ones(len(rows), bool))}, column {columns[int(empty.argmax())]!r}: "
                f"series {sid!r} has no value in that column at all (no --fill can fill it); give it values or "
                "remove the series"
            )
        first = indexed.index[missing.argmax()]
        if cfg.fill == "error":
            gappy = ", ".join(repr(columns[i]) for i in np.flatnonzero(indexed.isna().any(axis=0).to_numpy()))
            raise DataError(
                f"{path}: series {sid!r} has {int(missing.sum())} missing or empty value(s) from {plain_time(first)} "
                f"(gaps or NaN cells, column {gappy}); pass --fill interpolate or --fill ffill, or fix the file"
            )
        method = "linear" if cfg.fill == "interpolate" else None
        filled = indexed.interpolate(method=method, limit_direction="both") if method else indexed.ffill().bfill()
        notes.append(filled_note(sid, int(missing.sum()), cfg.fill))
        indexed = filled
    filled = np.flatnonzero(missing.to_numpy())
    return Series(sid, grid[0], freq, indexed.to_numpy("float64"), n_filled=len(filled), future=future, filled=filled)


def _cut_empty_ends(read: SeriesRows, target: str, notes: list[str]) -> SeriesRows:
    """A series' rows before its first target value and after its last are where it has not begun or has
    ended, not gaps: they are cut (said per series), never filled, so no forecast starts from invented values
    and no backtest scores against them."""
    sid, times, values, rows, is_datetime = read.sid, read.times, read.values, read.rows, read.is_datetime
    observed = np.flatnonzero(~np.isnan(values[:, 0]))
    if not len(observed):
        raise DataError(
            f"{read.path}: row {file_row(rows, np.ones(len(rows), bool))}, column {target!r}: series {sid!r} has "
            "no value in that column at all; give it values or remove the series"
        )
    first, end = int(observed[0]), int(observed[-1]) + 1
    if first == 0 and end == len(values):
        return read
    cut = []
    if first:
        cut.append(f"{first} row(s) before its first value ({_time_named(times[first], is_datetime)})")
    if end < len(values):
        cut.append(f"{len(values) - end} row(s) after its last value ({_time_named(times[end - 1], is_datetime)})")
    notes.append(
        f"series {sid!r}: cut {' and '.join(cut)}, whose target is empty: a series starts and ends where its "
        "values do, so nothing was filled there"
    )
    return read.cut(first, end)


def _time_named(time: Any, is_datetime: bool) -> str:
    return plain_time(pd.Timestamp(time) if is_datetime else time)


MAX_GRID_STEPS = 1_000_000  # a grid this long may hold at most GRID_SPARSITY times as many steps as rows


GRID_SPARSITY = 10


def _check_grid_size(read: SeriesRows) -> None:
    """Refuse, before allocating it, a grid with far more steps than the series has rows: one mistyped
    date (2260 for 2026) or integer step (10**12) would otherwise ask for gigabytes or terabytes."""
    sid, times, rows, freq, is_datetime, path = read.sid, read.times, read.rows, read.freq, read.is_datetime, read.path
    if is_datetime:
        first = pd.Timestamp(times[0])
        step = (first + offset_of(freq) - first).value  # a month's or a year's length near the start: an estimate
        span = int(times[-1].astype("datetime64[ns]").view("int64")) - first.value
    else:
        step = int(freq.split(":")[1]) if freq.startswith("int:") else 1
        span = int(times[-1]) - int(times[0])
    steps = span // max(step, 1) + 1
    if steps <= max(MAX_GRID_STEPS, GRID_SPARSITY * len(times)):
        return
    jumps = np.diff(times.astype("datetime64[ns]").view("int64") if is_datetime else times.astype("float64"))
    k = int(np.argmax(jumps))
    before, after = (pd.Timestamp(t) if is_datetime else int(t) for t in times[k : k + 2])
    raise DataError(
        f"{path}: row {file_row(rows[k + 1 :], np.ones(len(rows) - k - 1, bool))}: series {sid!r} jumps from "
        f"{before} to {after}, which would put {steps:,} steps of {freq} on a grid for {len(times):,} "
        "rows; fix that time (a typo?) or give the right --freq"
    )


def _evenly_stepped(times: np.ndarray, freq: str) -> bool:
    """Whether datetimes follow one another exactly one fixed-length step (an hour, a day) apart."""
    offset = offset_of(freq)
    if not isinstance(offset, pd.offsets.Tick) or times.dtype != np.dtype("datetime64[ns]"):
        return False  # months, business days: the calendar decides (pd.date_range)
    return bool(np.all(np.diff(times.view("int64")) == offset.nanos))


def _future_rows(read: SeriesRows, end: int, n_future: int) -> np.ndarray:
    """The --future columns of the rows after a series' last target value (rows `end` on): they must
    continue its grid step by step (a gap there would shift every later step)."""
    sid, times, values, rows, freq, path = read.sid, read.times, read.values, read.rows, read.freq, read.path
    is_datetime = read.is_datetime
    last = times[end - 1]
    expected = future_times(pd.Timestamp(last) if is_datetime else int(last), freq, len(times) - end).to_numpy()
    given = times[end:]
    wrong = given != expected
    if wrong.any():
        k = int(wrong.argmax())
        raise DataError(
            f"{path}: row {file_row(rows[end:], wrong)}: series {sid!r}: the rows after its last target value "
            f"({last}) hold the --future columns' known values and must follow step by step; expected "
            f"{expected[k]}, found {given[k]} (a gap, or an empty target cell inside the series)"
        )
    return values[end:, -n_future:]


def future_times(last: object, freq: str, horizon: int) -> pd.Index:
    """The `horizon` timestamps (or integer steps) after `last`."""
    return time_grid(last, horizon + 1, freq)[1:]


def last_times(panel: Panel) -> Any:
    """The time of each series' last row: one numpy sum for integer steps and fixed-length frequencies."""
    series = panel.series
    if panel.freq.startswith("int:"):
        step = int(panel.freq.split(":")[1])
        return [s.start + step * (len(s) - 1) for s in series]
    offset = offset_of(panel.freq)
    if not isinstance(offset, pd.offsets.Tick) or not series:
        return [s.time_at(-1) for s in series]
    starts = pd.DatetimeIndex([s.start for s in series]).as_unit("ns").asi8
    lengths = np.array([len(s) for s in series], dtype="int64")
    return pd.DatetimeIndex((starts + (lengths - 1) * offset.nanos).view("datetime64[ns]"))


def following_times(lasts: Any, freq: str, horizon: int) -> pd.Index:
    """The `horizon` steps after each of `lasts`, one series after another (a forecast's time column):
    one numpy sum for integer steps and fixed-length frequencies (hours, days), else series by series."""
    if not len(lasts):
        return pd.Index([])
    offset = None if freq.startswith("int:") else pd.tseries.frequencies.to_offset(freq)
    if offset is not None and not isinstance(offset, pd.offsets.Tick):  # months, business days: calendar rules
        times = [future_times(last, freq, horizon) for last in lasts]
        return times[0].append(times[1:])
    if offset is None:
        future_times(max(int(last) for last in lasts), freq, horizon)  # refuses steps that would pass 2**63 - 1
        step, start = int(freq.split(":")[1]), np.asarray(lasts, dtype="int64")
    else:
        step, start = offset.nanos, pd.DatetimeIndex(lasts).as_unit("ns").asi8
    grid = (start[:, None] + step * np.arange(1, horizon + 1, dtype="int64")).ravel()
    return pd.Index(grid, dtype="int64") if offset is None else pd.DatetimeIndex(grid.view("datetime64[ns]"))


SEASONS = {"h": 24, "min": 60, "D": 7, "B": 5, "W": 52, "M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4}


def season_for(freq: str) -> int:
    """The natural season length of a frequency (1 when there is none, e.g. yearly or integer steps)."""
    if freq.startswith("int:"):
        return 1
    offset = pd.tseries.frequencies.to_offset(freq)
    name = offset.name.split("-")[0]
    base = SEASONS.get(name, 1)
    if name == "min" and offset.n in (15, 30):
        return 24 * 60 // offset.n  # one day of 15- or 30-minute steps
    if name == "min" and offset.n == 10:
        return 144
    return base if offset.n == 1 else max(1, base // offset.n)
