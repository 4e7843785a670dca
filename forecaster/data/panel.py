"""Read a CSV of one or many series, validate it, and return a regular, gap-policed `Panel`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecaster.config import SINGLE_SERIES_ID, DataConfig
from forecaster.errors import DataError
from forecaster.io.readers import reader_for
from forecaster.io.readers.parquet import series_blocks


def _row(rows: pd.DataFrame | pd.Index, mask: Any) -> int:
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
    start: Any
    freq: str
    values: np.ndarray
    n_filled: int = 0  # rows that were gaps or empty cells, filled by the --fill policy
    future: np.ndarray | None = None  # (k, n_future) --future values of the k steps after the last row, raw
    static: dict[str, Any] = field(default_factory=dict)  # --static column -> the series' one value (or None)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def time(self) -> pd.Index:
        """The timestamps (DatetimeIndex) or integer steps, one per row; built when asked for (for
        10,000 series they would take as much memory as the values)."""
        return time_grid(self.start, len(self), self.freq)

    def time_at(self, position: int) -> Any:
        """The time of one row (negative positions count from the end)."""
        position = position % len(self)
        if self.freq.startswith("int:"):
            return self.start + int(self.freq.split(":")[1]) * position
        return self.start + position * offset_of(self.freq)


@functools.lru_cache(maxsize=64)
def offset_of(freq: str) -> Any:
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


MAX_GUESSED_WIDE = 10_000  # columns: more than this, and a file is read as wide only when --wide says so


def load_panel(path: str | Path, cfg: DataConfig) -> Panel:
    """Read, validate and regularise the data at `path` into a Panel, in whatever format its reader
    (`forecaster.io.readers`) reads: a CSV, a `.parquet` file, a directory of shards (raises ForecasterError on
    bad input)."""
    path = str(path)
    reader = reader_for(path)
    long_format = bool(cfg.id_col) and not cfg.wide
    needed = needed_columns(cfg)
    shared = tuple(c for c in (cfg.id_col, cfg.time_col) if c) if long_format else ()
    # only the named columns are read (a file of a million columns costs what its few used ones do); a wide
    # file needs them all, and so does a missing target (the file may be wide, or the error lists the columns)
    if not cfg.wide:
        names = [name.strip() for name in reader.columns(Path(path))]
        if len(names) > MAX_GUESSED_WIDE and cfg.target not in names:
            raise DataError(
                f"{path}: no column {cfg.target!r} among its {len(names):,} columns ({first_few(names, 5)}); "
                "give --wide to read one series per column, or name the target column"
            )
    shards = reader.series_shards(Path(path), cfg.id_col) if long_format else None
    if shards:
        return _panel_in_blocks(path, cfg, [shard for shard, _ in shards])
    keep = None if cfg.wide else needed
    ids = (cfg.id_col,) if cfg.id_col else ()  # ids such as NA or null are ids, not missing
    frame = reader.read(Path(path), keep, shared, ids)
    return panel_from_frame(frame, cfg, path, reader.decimal_comma(Path(path)))


def _panel_in_blocks(path: str, cfg: DataConfig, shards: list[Path]) -> Panel:
    """The panel of shards whose series' rows lie together, built block by block (`panels_in_blocks`):
    memory holds the series' values and one block's frame, never the whole panel as a frame with its
    parsing copies (40,000 series x 400 points: see benchmarks/SCALE.md). A note on many blocks is said
    once, naming the first shard it is about."""
    series: list[Series] = []
    notes: list[str] = []
    said: set[str] = set()
    freq, zone = cfg.freq, None
    for shard, part in panels_in_blocks(cfg, shards):
        freq, zone = part.freq, zone or part.zone
        series += part.series
        notes += [f"{shard.name}: {note}" for note in part.notes if note not in said]
        said.update(part.notes)
    if not series:
        raise DataError(f"{path}: the Parquet data has columns but no rows")
    return Panel(series=series, freq=str(freq), path=path, notes=notes, zone=zone)


def panels_in_blocks(cfg: DataConfig, shards: list[Path]) -> Iterator[tuple[Path, Panel]]:
    """(shard, panel) for each block of whole series of shards whose series' rows lie together
    (`forecaster.io.readers.parquet.series_blocks`), only the named columns read. The first block's frequency
    holds for the rest, as one read infers one for the panel."""
    from dataclasses import replace

    freq = cfg.freq
    shared = tuple(c for c in (cfg.id_col, cfg.time_col) if c)
    for shard, frame in series_blocks(shards, needed_columns(cfg), str(cfg.id_col), shared):
        part = panel_from_frame(frame, replace(cfg, freq=freq), str(shard))
        freq = freq or part.freq
        yield shard, part


def needed_columns(cfg: DataConfig) -> set[str]:
    """The columns a run reads: the target, its covariates, and the time and id columns."""
    return {cfg.target, *cfg.features, *cfg.future, *cfg.static, *[c for c in (cfg.time_col, cfg.id_col) if c]}


def panel_from_frame(frame: pd.DataFrame, cfg: DataConfig, path: str, decimal_comma: bool = False) -> Panel:
    """Validate and regularise a frame read from `path` (named in errors) into a Panel: what `load_panel`
    does once the file is read, and what an engine's worker does with its partition of whole series."""
    notes: list[str] = []
    frame, id_col, target = _to_long(frame, cfg, path, notes)
    value_cols = [target, *cfg.features, *cfg.future]
    for col in value_cols:
        frame[col] = _numeric_column(frame, col, path, decimal_comma, notes)
    time_values, is_datetime, zone = _time_column(frame, cfg.time_col, id_col, path, cfg.dayfirst, notes)
    frame["_time"] = time_values
    if cfg.time_col:
        frame = frame.drop(columns=[cfg.time_col])  # the parsed copy is enough; the strings are large

    codes, stamps = _series_codes(frame[id_col]), _time_order(frame["_time"])
    if not _grouped_and_increasing(codes, stamps):
        # series interleaved (a file sorted by time) or out of order: bring each series' rows together
        if not _in_time_order(codes, stamps):
            notes.append(f"rows were not in time order within each series; sorted them by {cfg.time_col}")
        order = np.lexsort((stamps, codes))
        frame, codes, stamps = frame.iloc[order], codes[order], stamps[order]
        _refuse_duplicates(frame, codes, stamps, id_col, cfg.time_col, path, one_series=cfg.id_col is None)

    blocks = _series_blocks(codes)
    del codes, stamps
    times = _time_values(frame["_time"])
    if cfg.freq and is_datetime == cfg.freq.startswith("int:"):
        raise DataError(
            f"{path}: --freq {cfg.freq} does not fit the time column, which holds "
            + ("dates: give a pandas frequency such as h, D, MS" if is_datetime else "step numbers (or there is none): "
               "leave out --freq, or give int:N for steps of N")
        )  # fmt: skip
    freq = cfg.freq or _infer_freq(times, blocks, is_datetime, path)
    ids = frame[id_col]
    # one array of all values: each series' values are a view of its rows (one column: no copy at all)
    values = (
        frame[target].to_numpy("float64")[:, None] if len(value_cols) == 1 else frame[value_cols].to_numpy("float64")
    )
    series = [
        _regularise(str(ids.iat[a]), times(a, b), values[a:b], frame.index[a:b], freq, is_datetime, cfg, path, notes)
        for a, b in blocks
    ]
    for column in cfg.static:
        for one, (a, b) in zip(series, blocks):
            one.static[column] = _static_value(frame[column].iloc[a:b], one.series_id, column, path)
    return Panel(series=series, freq=freq, path=path, notes=notes, zone=zone)


def _static_value(cells: pd.Series, sid: str, column: str, path: str) -> Any:
    """A --static column's one value in a series (None when every cell is empty); a second value is refused."""
    given = pd.unique(cells.dropna())
    if len(given) > 1:
        raise DataError(
            f"{path}: series {sid!r}: --static column {column!r} holds {cell(given[0])} and {cell(given[1])}; "
            "a static covariate has one value a series (give time-varying columns with --features or --future)"
        )
    if not len(given):
        return None
    value = given[0]
    return float(value) if isinstance(value, (int, float, np.number)) and not isinstance(value, bool) else str(value)


def _series_codes(ids: pd.Series) -> np.ndarray:
    """One integer per row naming its series (the categorical codes when there are some)."""
    return ids.cat.codes.to_numpy() if isinstance(ids.dtype, pd.CategoricalDtype) else pd.factorize(ids)[0]


def _time_order(times: pd.Series) -> np.ndarray:
    """One integer per row that orders the rows as their times do (the codes of sorted categories)."""
    if isinstance(times.dtype, pd.CategoricalDtype):
        return times.cat.codes.to_numpy()
    return times.to_numpy().view("int64") if times.dtype.kind == "M" else times.to_numpy()


def _time_values(times: pd.Series) -> Callable[[int, int], np.ndarray]:
    """A function giving the times of rows [a, b) as an array (datetime64 or int64), whatever the column's storage."""
    if isinstance(times.dtype, pd.CategoricalDtype):
        categories, codes = times.cat.categories.to_numpy(), times.cat.codes.to_numpy()
        return lambda a, b: categories[codes[a:b]]
    array = times.to_numpy()
    return lambda a, b: array[a:b]


def _series_blocks(codes: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) row positions of each series in rows whose series are together."""
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    return list(zip(starts.tolist(), np.r_[starts[1:], len(codes)].tolist()))


def _grouped_and_increasing(codes: np.ndarray, stamps: np.ndarray) -> bool:
    """True when each series' rows are together and strictly increasing in time (the usual file):
    then nothing needs sorting and no timestamp can repeat. Plain array passes, no hashing."""
    same = codes[1:] == codes[:-1]
    changes = len(same) - int(same.sum())
    return changes == len(np.unique(codes)) - 1 and bool((stamps[1:] > stamps[:-1])[same].all())


def _in_time_order(codes: np.ndarray, stamps: np.ndarray) -> bool:
    """True when each series' rows, wherever they are in the file, come in time order."""
    by_series = np.argsort(codes, kind="stable")
    same = codes[by_series][1:] == codes[by_series][:-1]
    ordered = stamps[by_series]
    return bool((ordered[1:] >= ordered[:-1])[same].all())


def _refuse_duplicates(
    frame: pd.DataFrame,
    codes: np.ndarray,
    stamps: np.ndarray,
    id_col: str,
    time_col: str | None,
    path: str,
    one_series: bool = False,
) -> None:
    """Rows sorted by series and time: a row with its predecessor's series and time is a duplicate. In a
    file read as one series, repeated times most often mean several series: say --id-col."""
    duplicated = np.r_[False, (codes[1:] == codes[:-1]) & (stamps[1:] == stamps[:-1])]
    if duplicated.any():
        first = int(duplicated.argmax())
        hint = "; if the file holds several series, name their id column with --id-col" if one_series else ""
        raise DataError(
            f"{path}: row {_row(frame, duplicated)}: duplicate timestamp {frame['_time'].iloc[first]} "
            f"in series {cell(frame[id_col].iloc[first])} (column {time_col}); remove or aggregate the duplicates"
            + hint
        )


def _to_long(frame: pd.DataFrame, cfg: DataConfig, path: str, notes: list[str]) -> tuple[pd.DataFrame, str, str]:
    """Return a long frame, the id column to group by, and the target column."""
    columns = list(frame.columns)
    if cfg.time_col and cfg.time_col not in frame.columns:
        raise DataError(f"{path}: no time column {cfg.time_col!r}; columns are: {first_few(columns, 20)}")
    other = [c for c in columns if c != cfg.time_col]
    wide = cfg.wide or (
        not cfg.id_col
        and cfg.target not in frame.columns
        and len(other) > 1
        and all(pd.to_numeric(frame[c], errors="coerce").notna().any() for c in other)
    )
    if wide:
        if not cfg.wide:
            notes.append(
                f"no column {cfg.target!r}; read the file as wide (one series per column: "
                f"{', '.join(other[:5])}{', ...' if len(other) > 5 else ''})"
            )
        if cfg.features or cfg.future or cfg.static:
            raise DataError(
                f"{path}: --features, --future and --static need a long-format file (one row per series and time)"
            )
        keep = [cfg.time_col] if cfg.time_col else []
        long = frame.melt(id_vars=keep, value_vars=other, var_name="_id", value_name=cfg.target, ignore_index=False)
        return long, "_id", cfg.target
    roles = [(cfg.target, "target"), (cfg.id_col, "id"), *[(f, "feature") for f in cfg.features]]
    roles += [(cfg.time_col, "time"), *[(f, "future covariate") for f in cfg.future]]
    roles += [(f, "static covariate") for f in cfg.static]
    named = [col for col, _ in roles if col]
    twice = sorted({col for col in named if named.count(col) > 1})
    if twice:
        raise DataError(
            f"{path}: column {twice[0]!r} is given two roles (target, id, time, --features, --future, --static)"
        )
    for col, what in roles:
        if col and col not in frame.columns:
            raise DataError(f"{path}: no {what} column {col!r}; columns are: {first_few(columns, 20)}")
    if cfg.id_col:
        ids = frame[cfg.id_col]
        if ids.isna().any():
            raise DataError(
                f"{path}: row {_row(frame, ids.isna())}, column {cfg.id_col!r}: empty series id; fill or remove the row"
            )
        if isinstance(ids.dtype, pd.CategoricalDtype):  # ids as text, still one code per row
            frame[cfg.id_col] = ids.cat.rename_categories(ids.cat.categories.astype(str))
        else:
            frame[cfg.id_col] = ids.astype(str)
        return frame, cfg.id_col, cfg.target
    frame["_id"] = SINGLE_SERIES_ID
    return frame, "_id", cfg.target


MAX_MAGNITUDE = 1e150  # squares and sums of squares of such values still fit in float64


def _numeric_column(
    frame: pd.DataFrame, col: str, path: str, decimal_comma: bool = False, notes: list[str] | None = None
) -> pd.Series:
    """The column as float64, refused (by row) where a cell is not a number or is out of range.

    Text cells: in a `,`-separated file quoted numbers with thousands separators ("1,234.5") are
    numbers; in a `;`-separated file the comma is the decimal mark and a dot groups thousands ("5,841" is
    5.841, "1.234,5" is 1234.5), as such files are written, and a note says so."""
    raw = frame[col]
    if not pd.api.types.is_numeric_dtype(raw):
        text = raw.astype(str).str.strip()
        commas = text.str.contains(",", regex=False)
        if decimal_comma and commas.any():
            if notes is not None:
                notes.append(f"column {col!r}: read ',' as the decimal mark and '.' as a thousands separator "
                             f"(a ';'-separated file), e.g. {cell(text[commas].iloc[0])}")  # fmt: skip
            text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        else:
            european = text.str.fullmatch(r"-?\d{1,3}(\.\d{3})+,\d+")
            if european.any():
                raise DataError(
                    f"{path}: row {_row(frame, european)}, column {col!r}: {cell(text[european].iloc[0])} has a "
                    "decimal comma; write numbers with a '.' decimal mark, or separate the columns with ';'"
                )
            text = text.str.replace(",", "", regex=False)
        raw = text.replace({"": None, "nan": None})
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        row = _row(frame, bad)
        raise DataError(
            f"{path}: row {row}, column {col!r}: {cell(frame.loc[bad, col].iloc[0])} is not a number; "
            "fix or remove the row"
        )
    values = values.astype("float64")
    array = values.to_numpy()
    # a value whose square overflows float64 would overflow the scaler's variance: refuse it here, by row
    out_of_range = ~(np.isfinite(array) | np.isnan(array)) | (np.abs(np.nan_to_num(array)) > MAX_MAGNITUDE)
    if out_of_range.any():
        row = _row(frame, out_of_range)
        raise DataError(
            f"{path}: row {row}, column {col!r}: infinite or too large a value (beyond 1e150); "
            "fix or remove the row, or rescale the column"
        )
    return values


def _time_column(
    frame: pd.DataFrame, time_col: str | None, id_col: str, path: str, dayfirst: bool | None, notes: list[str]
) -> tuple[pd.Series, bool, str | None]:
    """The parsed time column, whether it holds dates, and their time zone (None: none given)."""
    if time_col is None:
        return frame.groupby(id_col, sort=False, observed=True).cumcount().astype("int64"), False, None
    raw = frame[time_col]
    if raw.isna().any():
        row = _row(frame, raw.isna())
        raise DataError(f"{path}: row {row}, column {time_col!r}: empty timestamp; fill or remove the row")
    if isinstance(raw.dtype, pd.CategoricalDtype):  # long files repeat their timestamps: parse each one once
        return _time_categories(frame, raw, time_col, path, dayfirst, notes)
    elif pd.api.types.is_integer_dtype(raw):
        return raw.astype("int64"), False, None
    elif pd.api.types.is_float_dtype(raw):  # 1700.0: a year or a step, never nanoseconds since 1970
        fractional = raw != raw.round()
        if fractional.any():
            raise DataError(
                f"{path}: row {_row(frame, fractional)}, column {time_col!r}: {cell(raw[fractional].iloc[0])} is not a "
                "whole time step; give whole numbers (years, steps) or dates"
            )
        return raw.astype("int64"), False, None
    else:
        parsed = _in_nanoseconds(_parse_times(raw, time_col, path, dayfirst), frame, time_col, path)
    bad = parsed.isna()
    if bad.any():
        row = _row(frame, bad)
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
            f"{path}: row {_row(frame, outside)}, column {time_col!r}: {wall[outside].iloc[0]} is outside the "
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
            f"{path}: row {_row(frame, bad)}, column {time_col!r}: {cell(raw[bad].iloc[0])} is not a whole time "
            "step; give whole numbers (years, steps) or dates"
        )
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
                f"{path}: row {_row(frame, bad)}, column {time_col!r}: "
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
        parsed = pd.to_datetime(raw, errors="coerce", format="mixed", dayfirst=dayfirst)
    except (ValueError, TypeError):
        raise DataError(
            f"{path}: column {time_col!r}: cannot read the timestamps: they mix time zones or formats; "
            "use one time zone (or none) and one date format"
        ) from None
    if parsed.dtype == object:
        raise DataError(f"{path}: column {time_col!r}: timestamps mix time zones; convert them to one zone")
    return parsed


FREQ_SAMPLE = 200  # series that vote on the frequency; the rest are checked against it in _regularise


def _infer_freq(
    times: Callable[[int, int], np.ndarray], blocks: list[tuple[int, int]], is_datetime: bool, path: str
) -> str:
    """The most common step over (a sample of) the series: a pandas alias, or 'int:STEP' for integer time."""
    votes: dict[str, int] = {}
    pick = np.unique(np.linspace(0, len(blocks) - 1, FREQ_SAMPLE).round().astype(int))
    for start, stop in (blocks[i] for i in pick):
        if stop - start < 3:
            continue
        series_times = pd.Series(times(start, stop))
        if is_datetime:
            alias = pd.infer_freq(pd.DatetimeIndex(series_times.iloc[:500]))
            if alias is None:  # gaps: the calendar's months, quarters or years, else the commonest step
                alias = calendar_alias(pd.DatetimeIndex(series_times))
            if alias is None:
                step = series_times.diff().dropna().mode().iloc[0]
                alias = pd.tseries.frequencies.to_offset(step).freqstr
        else:
            alias = f"int:{int(series_times.diff().dropna().mode().iloc[0])}"
        votes[alias] = votes.get(alias, 0) + stop - start
    if not votes:
        raise DataError(f"{path}: too few rows to infer the frequency; give --freq (e.g. D, h, W-SUN, MS)")
    return max(votes, key=lambda k: votes[k])


# the commonest step in days -> calendar frequencies whose grid such dates may lie on
CALENDAR_STEPS = ((range(28, 32), ("MS", "ME")), (range(89, 93), ("QS", "QE")), (range(365, 367), ("YS", "YE")))


def calendar_alias(times: pd.DatetimeIndex) -> str | None:
    """The month, quarter or year frequency (starts or ends, anchored at the first date's month) whose grid
    holds every date, when the commonest step is 28-31 (89-92, 365-366) days: a monthly file with gaps
    has steps of 59 or 90 days too, which no fixed step fits."""
    days = int(pd.Series(times).diff().dropna().dt.days.mode().iloc[0])
    month = times[0].strftime("%b").upper()
    for steps, aliases in CALENDAR_STEPS:
        if days not in steps:
            continue
        for alias in aliases:
            anchored = alias if alias in ("MS", "ME") else f"{alias}-{month}"
            if times.isin(pd.date_range(times[0], times[-1], freq=anchored)).all():
                return anchored
    return None


def filled_note(sid: str, count: int, fill: str) -> str:
    return f"series {sid!r}: filled {count} missing value(s) by {fill}"


def _regularise(
    sid: str,
    times: np.ndarray,
    values: np.ndarray,
    rows: pd.Index,
    freq: str,
    is_datetime: bool,
    cfg: DataConfig,
    path: str,
    notes: list[str],
) -> Series:
    """Put one series (its rows' times, values and file rows) on the full grid of its frequency and
    apply the gap policy. With --future columns, the rows after the last target value are the
    covariates' known future (`Series.future`), not gaps."""
    future = None
    if cfg.future:
        observed = np.flatnonzero(~np.isnan(values[:, 0]))
        end = int(observed[-1]) + 1 if len(observed) else 0
        if end == 0:
            raise DataError(f"{path}: row {_row(rows, np.ones(len(rows), bool))}: series {sid!r} has no target value")
        if end < len(values):
            future = _future_rows(sid, times, values, rows, end, freq, is_datetime, path, len(cfg.future))
            times, values, rows = times[:end], values[:end], rows[:end]
    if is_datetime and _evenly_stepped(times, freq) and not np.isnan(values).any():
        return Series(sid, pd.Timestamp(times[0]), freq, values, future=future)  # the usual series, found fast
    _check_grid_size(sid, times, rows, freq, is_datetime, path)
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
        raise DataError(
            f"{path}: row {_row(rows, off_grid)}: series {sid!r} has an irregular step at {times[off_grid][0]} "
            f"(frequency {freq}); resample the data to a regular step or give --freq"
        )
    indexed = pd.DataFrame(values, index=pd.Index(times)).reindex(grid)
    missing = indexed.isna().any(axis=1)
    if missing.any():
        first = indexed.index[missing.argmax()]
        if cfg.fill == "error":
            raise DataError(
                f"{path}: series {sid!r} has {int(missing.sum())} missing or empty value(s) from {first} "
                "(gaps or NaN cells); pass --fill interpolate or --fill ffill, or fix the file"
            )
        method = "linear" if cfg.fill == "interpolate" else None
        filled = indexed.interpolate(method=method, limit_direction="both") if method else indexed.ffill().bfill()
        empty = filled.isna().all(axis=0).to_numpy()
        if empty.any():  # nothing to fill from: it would stay NaN, and training would "diverge"
            column = (cfg.target, *cfg.features, *cfg.future)[int(empty.argmax())]
            raise DataError(
                f"{path}: row {_row(rows, np.ones(len(rows), bool))}, column {column!r}: series {sid!r} has no "
                "value in that column at all (no --fill can fill it); give it values or remove the series"
            )
        notes.append(filled_note(sid, int(missing.sum()), cfg.fill))
        indexed = filled
    return Series(sid, grid[0], freq, indexed.to_numpy("float64"), n_filled=int(missing.sum()), future=future)


MAX_GRID_STEPS = 1_000_000  # a grid this long may hold at most GRID_SPARSITY times as many steps as rows
GRID_SPARSITY = 10


def _check_grid_size(sid: str, times: np.ndarray, rows: pd.Index, freq: str, is_datetime: bool, path: str) -> None:
    """Refuse, before allocating it, a grid with far more steps than the series has rows: one mistyped
    date (2260 for 2026) or integer step (10**12) would otherwise ask for gigabytes or terabytes."""
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
        f"{path}: row {_row(rows[k + 1 :], np.ones(len(rows) - k - 1, bool))}: series {sid!r} jumps from "
        f"{before} to {after}, which would put {steps:,} steps of {freq} on a grid for {len(times):,} "
        "rows; fix that time (a typo?) or give the right --freq"
    )


def _evenly_stepped(times: np.ndarray, freq: str) -> bool:
    """Whether datetimes follow one another exactly one fixed-length step (an hour, a day) apart."""
    offset = offset_of(freq)
    if not isinstance(offset, pd.offsets.Tick) or times.dtype != np.dtype("datetime64[ns]"):
        return False  # months, business days: the calendar decides (pd.date_range)
    return bool(np.all(np.diff(times.view("int64")) == offset.nanos))


def _future_rows(
    sid: str,
    times: np.ndarray,
    values: np.ndarray,
    rows: pd.Index,
    end: int,
    freq: str,
    is_datetime: bool,
    path: str,
    n_future: int,
) -> np.ndarray:
    """The --future columns of the rows after a series' last target value (rows `end` on): they must
    continue its grid step by step (a gap there would shift every later step)."""
    last = times[end - 1]
    expected = future_times(pd.Timestamp(last) if is_datetime else int(last), freq, len(times) - end).to_numpy()
    given = times[end:]
    wrong = given != expected
    if wrong.any():
        k = int(wrong.argmax())
        raise DataError(
            f"{path}: row {_row(rows[end:], wrong)}: series {sid!r}: the rows after its last target value "
            f"({last}) hold the --future columns' known values and must follow step by step; expected "
            f"{expected[k]}, found {given[k]} (a gap, or an empty target cell inside the series)"
        )
    return values[end:, -n_future:]


def time_grid(start: Any, periods: int, freq: str) -> pd.Index:
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
