"""Read a CSV of one or many series, validate it, and return a regular, gap-policed `Panel`."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecaster.config import DataConfig
from forecaster.errors import ForecasterError

CHUNK_ROWS = 1_000_000  # long files are parsed this many rows at a time, so only one chunk's strings exist at once


def _row(frame: pd.DataFrame, mask: Any) -> int:
    """The file line of the first row where `mask` holds: the frame's index is the 0-based data row."""
    return int(frame.index[np.asarray(mask)][0]) + 2


SINGLE_SERIES_ID = "series"


@dataclass
class Series:
    """One series on a regular grid.

    Attributes:
        series_id: the value of the id column ("series" for a one-series file).
        time: timestamps (DatetimeIndex) or integer steps (Index of int64), one per row.
        values: float64 (n, 1 + n_covariates); column 0 is the target.
    """

    series_id: str
    time: pd.Index
    values: np.ndarray
    n_filled: int = 0  # rows that were gaps or empty cells, filled by the --fill policy

    def __len__(self) -> int:
        return len(self.values)


@dataclass
class Panel:
    """All series of a file, with what was done to them on the way in."""

    series: list[Series]
    freq: str  # a pandas offset alias, or "int:STEP" for integer steps
    path: str
    notes: list[str] = field(default_factory=list)

    @property
    def n_points(self) -> int:
        return sum(len(s) for s in self.series)

    @property
    def span_seconds(self) -> float:
        """The longest series' time span in seconds (0 for integer steps)."""
        spans = [s.time[-1] - s.time[0] for s in self.series if isinstance(s.time, pd.DatetimeIndex)]
        return max((span.total_seconds() for span in spans), default=0.0)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_frame(path: str | Path, keep: set[str] | None = None, categories: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read the CSV as strings-and-numbers, detecting `,` `;` or tab and a UTF-8 BOM.

    `keep`: read only these columns (when the file has them all; else read everything, so the
    caller's checks name what is missing). `categories`: columns to read as categorical, which saves
    most of the memory a long file's repeated ids and timestamps would take.
    """
    path = Path(path)
    if not path.is_file():
        raise ForecasterError(f"{path}: file not found")
    with open(path, "rb") as handle:
        head = handle.read(64 * 1024)
    if not head.strip():
        raise ForecasterError(f"{path}: the file is empty; give a CSV with a header line and rows")
    if b"\x00" in head:
        raise ForecasterError(f"{path}: this is not a text CSV file (it holds binary data)")
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ForecasterError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None
    first_line = text.splitlines()[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    header = {name.strip(): name for name in next(csv.reader([first_line], delimiter=delimiter))}
    options: dict[str, object] = {}
    if keep and keep <= set(header):
        options["usecols"] = [header[name] for name in header if name in keep]
    if any(name in header for name in categories):
        options["dtype"] = {header[name]: "category" for name in categories if name in header}
    try:
        chunks = pd.read_csv(
            path, sep=delimiter, encoding="utf-8-sig", skipinitialspace=True, chunksize=CHUNK_ROWS, **options
        )
        frame = _concat_chunks(list(chunks))
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
        raise ForecasterError(f"{path}: cannot parse as CSV ({str(exc).splitlines()[0]})") from None
    if frame.empty:
        raise ForecasterError(f"{path}: the file has a header but no rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _concat_chunks(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    """One frame from parsed chunks; categorical columns keep one set of categories (not object)."""
    if len(chunks) == 1:
        return chunks[0]
    columns = {}
    for name in chunks[0].columns:
        parts = [chunk[name] for chunk in chunks]
        if all(isinstance(part.dtype, pd.CategoricalDtype) for part in parts):
            columns[name] = pd.Series(pd.api.types.union_categoricals(parts), name=name)
        else:
            columns[name] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(columns)


def load_panel(path: str | Path, cfg: DataConfig) -> Panel:
    """Read, validate and regularise a CSV into a Panel (raises ForecasterError on bad input)."""
    path = str(path)
    long_format = bool(cfg.id_col) and not cfg.wide
    needed = {cfg.target, *cfg.features, *[c for c in (cfg.time_col, cfg.id_col) if c]}
    shared = tuple(c for c in (cfg.id_col, cfg.time_col) if c) if long_format else ()
    frame = read_frame(path, keep=needed if long_format else None, categories=shared)
    notes: list[str] = []
    frame, id_col, target = _to_long(frame, cfg, path, notes)
    value_cols = [target, *cfg.features]
    for col in value_cols:
        frame[col] = _numeric_column(frame, col, path)
    time_values, is_datetime = _time_column(frame, cfg.time_col, id_col, path)
    frame["_time"] = time_values
    if cfg.time_col:
        frame = frame.drop(columns=[cfg.time_col])  # the parsed copy is enough; the strings are large

    if not _grouped_and_increasing(frame[id_col], frame["_time"]):
        # series interleaved (a file sorted by time) or out of order: bring each series' rows together
        in_order = frame.groupby(id_col, sort=False, observed=True)["_time"].apply(lambda t: t.is_monotonic_increasing)
        if not in_order.all():
            notes.append(f"rows were not in time order within each series; sorted them by {cfg.time_col}")
        frame = frame.sort_values([id_col, "_time"], kind="stable")
        _refuse_duplicates(frame, id_col, cfg.time_col, path)

    blocks = _series_blocks(frame[id_col])
    freq = cfg.freq or _infer_freq([frame["_time"].iloc[a:b] for a, b in blocks], is_datetime, path)
    series = [
        _regularise(str(frame[id_col].iat[a]), frame.iloc[a:b], value_cols, freq, is_datetime, cfg, path, notes)
        for a, b in blocks
    ]
    return Panel(series=series, freq=freq, path=path, notes=notes)


def _series_codes(ids: pd.Series) -> np.ndarray:
    """One integer per row naming its series (the categorical codes when there are some)."""
    return ids.cat.codes.to_numpy() if isinstance(ids.dtype, pd.CategoricalDtype) else pd.factorize(ids)[0]


def _series_blocks(ids: pd.Series) -> list[tuple[int, int]]:
    """(start, stop) row positions of each series in a frame whose series' rows are together."""
    codes = _series_codes(ids)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    return list(zip(starts.tolist(), np.r_[starts[1:], len(codes)].tolist()))


def _grouped_and_increasing(ids: pd.Series, times: pd.Series) -> bool:
    """True when each series' rows are together and strictly increasing in time (the usual file):
    then nothing needs sorting and no timestamp can repeat. Plain array passes, no hashing."""
    codes = _series_codes(ids)
    stamps = times.to_numpy().view("int64") if times.dtype.kind == "M" else times.to_numpy()
    same = codes[1:] == codes[:-1]
    changes = len(same) - int(same.sum())
    return changes == len(np.unique(codes)) - 1 and bool((stamps[1:] > stamps[:-1])[same].all())


def _refuse_duplicates(frame: pd.DataFrame, id_col: str, time_col: str | None, path: str) -> None:
    duplicated = frame.duplicated([id_col, "_time"])
    if duplicated.any():
        row = _row(frame, duplicated)
        raise ForecasterError(
            f"{path}: row {row}: duplicate timestamp {frame.loc[duplicated, '_time'].iloc[0]} "
            f"in series {frame.loc[duplicated, id_col].iloc[0]!r} (column {time_col}); "
            "remove or aggregate the duplicates"
        )


def _to_long(frame: pd.DataFrame, cfg: DataConfig, path: str, notes: list[str]) -> tuple[pd.DataFrame, str, str]:
    """Return a long frame, the id column to group by, and the target column."""
    columns = list(frame.columns)
    if cfg.time_col and cfg.time_col not in frame.columns:
        raise ForecasterError(f"{path}: no time column {cfg.time_col!r}; columns are: {', '.join(columns)}")
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
        if cfg.features:
            raise ForecasterError(f"{path}: --features needs a long-format file (one row per series and time)")
        keep = [cfg.time_col] if cfg.time_col else []
        long = frame.melt(id_vars=keep, value_vars=other, var_name="_id", value_name=cfg.target, ignore_index=False)
        return long, "_id", cfg.target
    for col, what in [(cfg.target, "target"), (cfg.id_col, "id"), *[(f, "feature") for f in cfg.features]]:
        if col and col not in frame.columns:
            raise ForecasterError(f"{path}: no {what} column {col!r}; columns are: {', '.join(columns)}")
    if cfg.id_col:
        ids = frame[cfg.id_col]
        if ids.isna().any():
            raise ForecasterError(
                f"{path}: row {_row(frame, ids.isna())}, column {cfg.id_col!r}: empty series id; fill or remove the row"
            )
        if isinstance(ids.dtype, pd.CategoricalDtype):  # ids as text, still one code per row
            frame[cfg.id_col] = ids.cat.rename_categories(ids.cat.categories.astype(str))
        else:
            frame[cfg.id_col] = ids.astype(str)
        return frame, cfg.id_col, cfg.target
    frame["_id"] = SINGLE_SERIES_ID
    return frame, "_id", cfg.target


def _numeric_column(frame: pd.DataFrame, col: str, path: str) -> pd.Series:
    raw = frame[col]
    if not pd.api.types.is_numeric_dtype(raw):
        # quoted numbers with thousands separators ("1,234.5") are numbers
        raw = raw.astype(str).str.replace(",", "", regex=False).str.strip().replace({"": None, "nan": None})
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        row = _row(frame, bad)
        raise ForecasterError(
            f"{path}: row {row}, column {col!r}: {frame.loc[bad, col].iloc[0]!r} is not a number; fix or remove the row"
        )
    values = values.astype("float64")
    infinite = ~np.isfinite(values) & values.notna()
    huge = values.abs() > 1e300
    if (infinite | huge).any():
        row = _row(frame, infinite | huge)
        raise ForecasterError(
            f"{path}: row {row}, column {col!r}: infinite or overflowing value; fix or remove the row"
        )
    return values


def _time_column(frame: pd.DataFrame, time_col: str | None, id_col: str, path: str) -> tuple[pd.Series, bool]:
    if time_col is None:
        return frame.groupby(id_col, sort=False, observed=True).cumcount().astype("int64"), False
    raw = frame[time_col]
    if raw.isna().any():
        row = _row(frame, raw.isna())
        raise ForecasterError(f"{path}: row {row}, column {time_col!r}: empty timestamp; fill or remove the row")
    if isinstance(raw.dtype, pd.CategoricalDtype):  # long files repeat their timestamps: parse each one once
        codes = raw.cat.codes.to_numpy()
        categories = pd.Series(raw.cat.categories.astype(str))
        numbers = pd.to_numeric(categories, errors="coerce")
        if numbers.notna().all() and (numbers == numbers.round()).all():
            return pd.Series(numbers.astype("int64").to_numpy()[codes], index=raw.index), False
        parsed = _parse_times(categories, time_col, path).take(codes).set_axis(raw.index)
    elif pd.api.types.is_integer_dtype(raw):
        return raw.astype("int64"), False
    else:
        parsed = _parse_times(raw, time_col, path)
    bad = parsed.isna()
    if bad.any():
        row = _row(frame, bad)
        raise ForecasterError(
            f"{path}: row {row}, column {time_col!r}: cannot read {raw[bad].iloc[0]!r} as a date or time"
        )
    if parsed.dt.tz is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed, True


def _parse_times(raw: pd.Series, time_col: str, path: str) -> pd.Series:
    """Timestamps (NaT where unreadable); mixed time zones or formats are an error."""
    try:
        parsed = pd.to_datetime(raw, errors="coerce", format="mixed")
    except (ValueError, TypeError):
        raise ForecasterError(
            f"{path}: column {time_col!r}: cannot read the timestamps: they mix time zones or formats; "
            "use one time zone (or none) and one date format"
        ) from None
    if parsed.dtype == object:
        raise ForecasterError(f"{path}: column {time_col!r}: timestamps mix time zones; convert them to one zone")
    return parsed


FREQ_SAMPLE = 200  # series that vote on the frequency; the rest are checked against it in _regularise


def _infer_freq(series_times: list[pd.Series], is_datetime: bool, path: str) -> str:
    """The most common step over (a sample of) the series: a pandas alias, or 'int:STEP' for integer time."""
    votes: dict[str, int] = {}
    pick = np.unique(np.linspace(0, len(series_times) - 1, FREQ_SAMPLE).round().astype(int))
    for times in (series_times[i] for i in pick):
        if len(times) < 3:
            continue
        if is_datetime:
            alias = pd.infer_freq(pd.DatetimeIndex(times.iloc[: min(len(times), 500)]))
            if alias is None:
                step = times.diff().dropna().mode().iloc[0]
                alias = pd.tseries.frequencies.to_offset(step).freqstr
        else:
            alias = f"int:{int(times.diff().dropna().mode().iloc[0])}"
        votes[alias] = votes.get(alias, 0) + len(times)
    if not votes:
        raise ForecasterError(f"{path}: too few rows to infer the frequency; give --freq (e.g. D, h, W-SUN, MS)")
    return max(votes, key=lambda k: votes[k])


def _regularise(
    sid: str,
    group: pd.DataFrame,
    value_cols: list[str],
    freq: str,
    is_datetime: bool,
    cfg: DataConfig,
    path: str,
    notes: list[str],
) -> Series:
    """Put one series on the full grid of its frequency and apply the gap policy."""
    times = group["_time"]
    if is_datetime:
        grid: pd.Index = pd.date_range(times.iloc[0], times.iloc[-1], freq=freq)
    else:
        step = int(freq.split(":")[1]) if freq.startswith("int:") else 1
        grid = pd.Index(np.arange(times.iloc[0], times.iloc[-1] + 1, step), dtype="int64")
    if len(grid) == len(times) and np.array_equal(grid.to_numpy(), times.to_numpy()):
        values = group[value_cols].to_numpy("float64")
        if not np.isnan(values).any():  # the usual series: complete, on the grid, nothing to fill
            return Series(series_id=sid, time=grid, values=values)
    off_grid = ~pd.Index(times).isin(grid)
    if off_grid.any():
        row = _row(group, off_grid)
        raise ForecasterError(
            f"{path}: row {row}: series {sid!r} has an irregular step at {times[off_grid].iloc[0]} "
            f"(frequency {freq}); resample the data to a regular step or give --freq"
        )
    indexed = group.set_index("_time")[value_cols].reindex(grid)
    missing = indexed.isna().any(axis=1)
    if missing.any():
        first = indexed.index[missing.argmax()]
        if cfg.fill == "error":
            raise ForecasterError(
                f"{path}: series {sid!r} has {int(missing.sum())} missing or empty value(s) from {first} "
                "(gaps or NaN cells); pass --fill interpolate or --fill ffill, or fix the file"
            )
        method = "linear" if cfg.fill == "interpolate" else None
        filled = indexed.interpolate(method=method, limit_direction="both") if method else indexed.ffill().bfill()
        notes.append(f"series {sid!r}: filled {int(missing.sum())} missing value(s) by {cfg.fill}")
        indexed = filled
    return Series(series_id=sid, time=grid, values=indexed.to_numpy("float64"), n_filled=int(missing.sum()))


def future_times(last: object, freq: str, horizon: int) -> pd.Index:
    """The `horizon` timestamps (or integer steps) after `last`."""
    if freq.startswith("int:"):
        step = int(freq.split(":")[1])
        return pd.Index(int(last) + step * np.arange(1, horizon + 1), dtype="int64")  # type: ignore[call-overload]
    return pd.date_range(last, periods=horizon + 1, freq=freq)[1:]


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
