"""The time column: timestamps or integer steps parsed as the file writes them (day-first or month-first,
zones, whole-number years), and the frequency inferred from them."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from forecaster.data.series import cell, file_row
from forecaster.errors import DataError
from forecaster.io.plain import frequency_named


def time_column(
    frame: pd.DataFrame, time_col: str | None, id_col: str, path: str, dayfirst: bool | None, notes: list[str]
) -> tuple[pd.Series, bool, str | None]:
    """The parsed time column, whether it holds dates, and their time zone (None: none given)."""
    if time_col is None:
        return frame.groupby(id_col, sort=False, observed=True).cumcount().astype("int64"), False, None
    raw = frame[time_col]
    if raw.isna().any():
        row = file_row(frame, raw.isna())
        raise DataError(f"{path}: row {row}, column {time_col!r}: empty timestamp; fill or remove the row")
    if isinstance(raw.dtype, pd.CategoricalDtype):  # long files repeat their timestamps: parse each one once
        return _time_categories(frame, raw, time_col, path, dayfirst, notes)
    elif pd.api.types.is_integer_dtype(raw):
        _refuse_beyond_steps(raw, frame, time_col, path)
        return raw.astype("int64"), False, None
    elif pd.api.types.is_float_dtype(raw):  # 1700.0: a year or a step, never nanoseconds since 1970
        _refuse_beyond_steps(raw, frame, time_col, path)
        fractional = raw != raw.round()
        if fractional.any():
            raise DataError(
                f"{path}: row {file_row(frame, fractional)}, column {time_col!r}: {cell(raw[fractional].iloc[0])} "
                "is not a whole time step; give whole numbers (years, steps) or dates"
            )
        return raw.astype("int64"), False, None
    else:
        parsed = _in_nanoseconds(_parse_times(raw, time_col, path, dayfirst), frame, time_col, path)
    bad = parsed.isna()
    if bad.any():
        row = file_row(frame, bad)
        raise DataError(
            f"{path}: row {row}, column {time_col!r}: cannot read {cell(raw[bad].iloc[0])} as a date or time"
            + _range_hint(raw[bad].iloc[0])
        )
    return in_utc(parsed, time_col, notes), True, zone_of(parsed)


def _in_nanoseconds(parsed: pd.Series, frame: pd.DataFrame, time_col: str, path: str) -> pd.Series:
    """Timestamps in nanoseconds, the unit every step after this one counts in: a Parquet column in
    microseconds may hold years (1500, 2300) that nanoseconds cannot, refused here naming the row."""
    wall = parsed.dt.tz_localize(None) if parsed.dt.tz is not None else parsed
    outside = wall.notna() & ((wall < pd.Timestamp.min) | (wall > pd.Timestamp.max))
    if outside.any():
        raise DataError(
            f"{path}: row {file_row(frame, outside)}, column {time_col!r}: {wall[outside].iloc[0]} is outside the "
            f"dates timestamps can hold; dates must lie between {pd.Timestamp.min:%Y-%m-%d} and "
            f"{pd.Timestamp.max:%Y-%m-%d}"
        )
    return parsed.dt.as_unit("ns")


def _range_hint(value: Any) -> str:
    """What to say of a time that failed to parse: a real date outside what timestamps can hold (pandas'
    nanoseconds: 1677-09-22 to 2262-04-11) is told so; anything else needs no more words."""
    try:
        stamp = pd.Timestamp(str(value))  # pandas 2 holds any year in coarser units
        inside = bool(pd.Timestamp.min <= stamp <= pd.Timestamp.max)
    except pd.errors.OutOfBoundsDatetime:
        inside = False
    except (ValueError, TypeError):
        return ""
    return "" if inside else f"; dates must lie between {pd.Timestamp.min:%Y-%m-%d} and {pd.Timestamp.max:%Y-%m-%d}"


def zone_of(parsed: pd.Series) -> str | None:
    """The zone of parsed timestamps as pandas names it (`UTC+09:00`, `Europe/Berlin`), or None."""
    return None if parsed.dt.tz is None else str(parsed.dt.tz)


def in_utc(parsed: pd.Series, time_col: str, notes: list[str]) -> pd.Series:
    """Zoned timestamps as UTC wall-clock times (steps without daylight-saving jumps), said in a note;
    outputs turn them back into the zone (`in_zone`)."""
    if parsed.dt.tz is None:
        return parsed
    notes.append(
        f"column {time_col!r}: timestamps in zone {parsed.dt.tz} are handled as UTC (calendar features in UTC "
        "hours); the outputs' times are written back in that zone"
    )
    return parsed.dt.tz_convert("UTC").dt.tz_localize(None)


def in_zone(times: Any, zone: str | None) -> Any:
    """UTC wall-clock times (an index or an array) back in the data's zone; unchanged without one."""
    if zone is None:
        return times
    index = pd.DatetimeIndex(times)
    return index.tz_localize("UTC").tz_convert(zone)


STEP_LIMIT = 2**62  # integer time steps past this wrap around int64 once a step or a horizon is added


def _refuse_beyond_steps(
    numbers: pd.Series, frame: pd.DataFrame, time_col: str, path: str, codes: np.ndarray | None = None
) -> None:
    """One line for a numeric time that is not finite (inf) or lies past STEP_LIMIT (a uint64 past int64):
    such steps were wrapped into negative ones or ended in a cast error. `codes`: a categorical column's,
    when `numbers` are its categories."""
    with np.errstate(invalid="ignore"):
        wild = ~np.isfinite(numbers.astype("float64")) | (numbers.astype("float64").abs() >= STEP_LIMIT)
    if not wild.any():
        return
    rows = np.isin(codes, np.flatnonzero(wild.to_numpy())) if codes is not None else wild.to_numpy()
    raise DataError(
        f"{path}: row {file_row(frame, rows)}, column {time_col!r}: {cell(str(frame[time_col][rows].iloc[0]))} is "
        "not a time step this tool can count (finite whole numbers below 2^62); give steps or dates"
    )


def _time_categories(
    frame: pd.DataFrame, raw: pd.Series, time_col: str, path: str, dayfirst: bool | None, notes: list[str]
) -> tuple[pd.Series, bool, str | None]:
    """Parse each distinct timestamp of a categorical time column once and keep the column categorical,
    its categories the sorted times (so a row's code orders it in time, and a row costs 4 bytes, not 8)."""
    codes = raw.cat.codes.to_numpy()
    text = pd.Series(raw.cat.categories.astype(str))
    numbers = pd.to_numeric(text, errors="coerce")
    fractional = numbers.notna().all() and numbers != numbers.round()
    if numbers.notna().all() and fractional.any():  # 1700.5: refused as a one-series file refuses it
        bad = np.isin(codes, np.flatnonzero(fractional.to_numpy()))
        raise DataError(
            f"{path}: row {file_row(frame, bad)}, column {time_col!r}: {cell(raw[bad].iloc[0])} is not a whole time "
            "step; give whole numbers (years, steps) or dates"
        )
    if numbers.notna().all():
        _refuse_beyond_steps(numbers, frame, time_col, path, codes)
    is_datetime = not (numbers.notna().all() and (numbers == numbers.round()).all())
    zone = None
    if is_datetime:
        given = raw.cat.categories  # real timestamps (Parquet) are taken as they are, zone and all
        parsed = (
            pd.Series(given) if isinstance(given, pd.DatetimeIndex) else _parse_times(text, time_col, path, dayfirst)
        )
        zone = zone_of(parsed)
        if parsed.isna().any():
            bad = np.isin(codes, np.flatnonzero(parsed.isna()))
            raise DataError(
                f"{path}: row {file_row(frame, bad)}, column {time_col!r}: "
                f"cannot read {cell(raw[bad].iloc[0])} as a date or time" + _range_hint(raw[bad].iloc[0])
            )
        values = in_utc(parsed, time_col, notes).to_numpy()
    else:
        values = numbers.astype("int64").to_numpy()
    distinct, rank = np.unique(values, return_inverse=True)  # two spellings of one time share a category
    ordered = pd.Categorical.from_codes(rank.astype("int32")[codes], categories=pd.Index(distinct), ordered=True)
    return pd.Series(ordered, index=raw.index), is_datetime, zone


NUMERIC_DATE = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})(?:\D|$)"  # 13/01/2021, 1.2.21, 01-13-2021


def day_first(raw: pd.Series, time_col: str, path: str, given: bool | None = None) -> bool:
    """Whether dates such as 13/01/2021 put the day first: as `given` (--dayfirst/--monthfirst), else
    decided by a first field above 12 (day first) or a second one above 12 (month first); refused when
    the file shows neither, or contradicts what was given."""
    fields = raw.astype(str).str.extract(NUMERIC_DATE)
    matched = fields[0].notna()
    if not matched.any():
        return bool(given)
    first, second = fields.loc[matched, 0].astype(int), fields.loc[matched, 1].astype(int)
    for dayfirst, month in ((True, second), (False, first)):
        if given is dayfirst and (month > 12).any():
            example = raw[matched][(month > 12).to_numpy()].iloc[0]
            order = "day" if dayfirst else "month"
            raise DataError(
                f"{path}: column {time_col!r}: {str(example)[:30]!r} cannot be {order} first (its month would be "
                f"above 12); leave out --{order}first to let the data decide"
            )
    if given is not None:
        return given
    if (first > 12).any() and not (second > 12).any():
        return True
    if (second > 12).any() and not (first > 12).any():
        return False
    example = raw[matched].iloc[0]
    raise DataError(
        f"{path}: column {time_col!r}: dates such as {str(example)[:30]!r} could be day/month or month/day "
        "and nothing in the file decides; pass --dayfirst or --monthfirst, or write ISO dates (2021-01-13)"
    )


def _parse_times(raw: pd.Series, time_col: str, path: str, given: bool | None) -> pd.Series:
    """Timestamps (NaT where unreadable); mixed time zones or formats are an error; numeric dates
    (13/01/2021) are read day-first or month-first as given or as the data decides (`day_first`)."""
    dayfirst = day_first(raw, time_col, path, given)
    try:
        with warnings.catch_warnings():  # mixed zones are said below, in one line: not pandas' warning beside it
            warnings.filterwarnings("ignore", "In a future version of pandas, parsing datetimes with mixed time zones")
            parsed = pd.to_datetime(raw, errors="coerce", format="mixed", dayfirst=dayfirst)
    except (ValueError, TypeError):
        raise DataError(
            f"{path}: column {time_col!r}: cannot read the timestamps: they mix time zones or formats; "
            "use one time zone (or none) and one date format"
        ) from None
    if parsed.dtype == object:
        raise DataError(f"{path}: column {time_col!r}: timestamps mix time zones; convert them to one zone")
    return parsed


FREQ_SAMPLE = 200  # series that vote on the frequency; the rest are checked against it in regularise


def infer_freq(
    times: Callable[[int, int], np.ndarray],
    blocks: list[tuple[int, int]],
    is_datetime: bool,
    path: str,
    name_of: Callable[[int], str] = str,
) -> str:
    """The most common step over (a sample of) the series: a pandas alias, or 'int:STEP' for integer time. A file
    whose series step regularly by different kinds of frequency (monthly and weekly) is refused, naming a series
    of each: one run forecasts one frequency. `name_of(row)`: the series id of a row, for that message."""
    votes: dict[str, int] = {}
    regular: dict[str, tuple[str, str]] = {}  # a kind of step (W, MS, h) -> (alias, series) of a regular series
    pick = np.unique(np.linspace(0, len(blocks) - 1, FREQ_SAMPLE).round().astype(int))
    for start, stop in (blocks[i] for i in pick):
        if stop - start < 3:
            continue
        series_times = pd.Series(times(start, stop))
        if is_datetime:
            alias = pd.infer_freq(pd.DatetimeIndex(series_times.iloc[:500]))
            if alias is not None:
                offset = pd.tseries.frequencies.to_offset(alias)
                regular.setdefault(f"{offset.n}{offset.name.split('-')[0]}", (alias, name_of(start)))
            if alias is None:  # gaps: the calendar's weeks, months, quarters or years, else the commonest step
                alias = calendar_alias(pd.DatetimeIndex(series_times))
            if alias is None:
                step = series_times.diff().dropna().mode().iloc[0]
                alias = pd.tseries.frequencies.to_offset(step).freqstr
        else:
            alias = f"int:{int(series_times.diff().dropna().mode().iloc[0])}"
        votes[alias] = votes.get(alias, 0) + stop - start
    if not votes:
        raise DataError(f"{path}: too few rows to infer the frequency; give --freq (e.g. D, h, W-SUN, MS)")
    if len(regular) > 1:
        (one, first), (other, second) = list(regular.values())[:2]
        raise DataError(
            f"{path}: the file mixes frequencies: series {first!r} steps {frequency_named(one)}, series "
            f"{second!r} {frequency_named(other)}; one run forecasts one frequency: split the file by frequency "
            "(or resample the series to one)"
        )
    return max(votes, key=lambda k: votes[k])


# the commonest step in days -> calendar frequencies whose grid such dates may lie on
CALENDAR_STEPS = (
    (range(7, 8), ("W",)),
    (range(28, 32), ("MS", "ME")),
    (range(89, 93), ("QS", "QE")),
    (range(365, 367), ("YS", "YE")),
)


def calendar_alias(times: pd.DatetimeIndex) -> str | None:
    """The week (anchored at the first date's weekday), month, quarter or year frequency (starts or ends,
    anchored at the first date's month) whose grid holds every date, when the commonest step is 7 (28-31,
    89-92, 365-366) days: a monthly file with gaps has steps of 59 or 90 days too, which no fixed step fits,
    and a weekly one with gaps steps of 14 days, which must not turn it into "every 7 days" without a season."""
    days = int(pd.Series(times).diff().dropna().dt.days.mode().iloc[0])
    anchors = {"W": times[0].strftime("%a").upper(), "MS": "", "ME": ""}
    for steps, aliases in CALENDAR_STEPS:
        if days not in steps:
            continue
        for alias in aliases:
            anchor = anchors.get(alias, times[0].strftime("%b").upper())
            anchored = f"{alias}-{anchor}" if anchor else alias
            if times.isin(pd.date_range(times[0], times[-1], freq=anchored)).all():
                return anchored
    return None
