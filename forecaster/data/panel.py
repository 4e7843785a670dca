"""Read a CSV of one or many series, validate it, and return a regular, gap-policed `Panel`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecaster.config import SINGLE_SERIES_ID, DataConfig
from forecaster.data.grid import SeriesRows, regularise
from forecaster.data.series import Panel, Series, cell, file_row, first_few
from forecaster.data.times import infer_freq, time_column
from forecaster.errors import DataError
from forecaster.io.frames import FRAME, Data, as_frame, frame_errors, readable
from forecaster.io.plain import plain_time
from forecaster.io.readers import data_digest, reader_for
from forecaster.io.readers.parquet import series_blocks

MAX_GUESSED_WIDE = 10_000  # columns: more than this, and a file is read as wide only when --wide says so


def load_panel(path: str | Path, cfg: DataConfig, problems: list[str] | None = None) -> Panel:
    """Read, validate and regularise the data at `path` into a Panel, in whatever format its reader
    (`forecaster.io.readers`) reads: a CSV, a `.parquet` file, a directory of shards (raises ForecasterError on
    bad input; with a `problems` list, what `panel_from_frame` can read past is said there instead)."""
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
    return panel_from_frame(frame, cfg, path, reader.decimal_comma(Path(path)), problems)


def read_panel(data: Data, cfg: DataConfig, problems: list[str] | None = None) -> Panel:
    """The Panel of `data`: a path through its reader (`load_panel`), a pandas DataFrame straight through
    `panel_from_frame` as the CSV reader would give the same rows (`forecaster.io.frames.readable`)."""
    if isinstance(data, (str, Path)):
        return load_panel(data, cfg, problems)
    frame = as_frame(data, cfg.id_col, cfg.time_col)
    with frame_errors():
        wanted = None if cfg.wide else needed_columns(cfg)
        names = [str(name).strip() for name in frame.columns]
        if wanted is not None and cfg.target not in names and len(names) > MAX_GUESSED_WIDE:
            raise DataError(
                f"{FRAME}: no column {cfg.target!r} among its {len(names):,} columns ({first_few(names, 5)}); "
                "give --wide to read one series per column, or name the target column"
            )
        return panel_from_frame(readable(frame, wanted, cfg.id_col, cfg.time_col), cfg, FRAME, problems=problems)


def read_training_panel(data: Data, cfg: DataConfig) -> Panel:
    """`read_panel`, with the sha256 of what was read (`Panel.sha256`): the data's digest is taken before it is
    read and again after, and data that changed in between (a file still being written, a frame changed by
    another thread) is refused, so a run's manifest names the data it trained on."""
    from dataclasses import replace

    before = data_digest(data)
    panel = read_panel(data, cfg)
    if data_digest(data) != before:
        raise DataError(
            f"{named(data)}: the data changed while it was read, so a run could not say what it trained on; "
            "train again once it is written whole"
        )
    return replace(panel, sha256=before)


def named(data: Data) -> str:
    """What messages call `data`: its path, or `FRAME`."""
    return str(data) if isinstance(data, (str, Path)) else FRAME


def columns_of(data: Data, cfg: DataConfig) -> list[str]:
    """The column names of `data` as a panel reads them (a DataFrame's index holding the time taken as a column)."""
    if isinstance(data, (str, Path)):
        return [name.strip() for name in reader_for(data).columns(Path(data))]
    return [str(name).strip() for name in as_frame(data, cfg.id_col, cfg.time_col).columns]


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


# the columns the reading adds beside the user's: names no file or frame can give (a NUL cannot stand in a
# CSV header or come from a click option), so a user's `_time` or `_id` column is only ever the user's
TIME, SERIES = "\0time", "\0series"


def panel_from_frame(
    frame: pd.DataFrame, cfg: DataConfig, path: str, decimal_comma: bool = False, problems: list[str] | None = None
) -> Panel:
    """Validate and regularise a frame read from `path` (named in errors) into a Panel: what `load_panel`
    does once the file is read, and what an engine's worker does with its partition of whole series.

    `problems`: None refuses the data at its first problem (train, forecast, evaluate); a list (`doctor`) gets
    one line for each kind of problem in the cells, the duplicates and the steps, and reading goes on without
    what they name (a cell that is not a number is empty, a duplicate row dropped, an irregular series left out),
    so that every kind is found in one read."""
    notes: list[str] = []
    frame, id_col, target = _to_long(frame, cfg, path, notes)
    value_cols = [target, *cfg.features, *cfg.future]
    for col in value_cols:
        frame[col] = _numeric_column(frame, col, path, decimal_comma, notes, problems)
    time_values, is_datetime, zone = time_column(frame, cfg.time_col, id_col, path, cfg.dayfirst, notes)
    frame[TIME] = time_values
    if cfg.time_col:
        frame = frame.drop(columns=[cfg.time_col])  # the parsed copy is enough; the strings are large

    codes, stamps = _series_codes(frame[id_col]), _time_order(frame[TIME])
    if not _grouped_and_increasing(codes, stamps):
        # series interleaved (a file sorted by time) or out of order: bring each series' rows together
        if not _in_time_order(codes, stamps):
            notes.append(f"rows were not in time order within each series; sorted them by {cfg.time_col}")
        order = np.lexsort((stamps, codes))
        frame, codes, stamps = frame.iloc[order], codes[order], stamps[order]
        duplicated = _duplicates(frame, codes, stamps, id_col, cfg.time_col, path, cfg.id_col is None, problems)
        if duplicated is not None:  # said in `problems`: the first row of each time is read
            frame, codes, stamps = frame[~duplicated], codes[~duplicated], stamps[~duplicated]

    blocks = _series_blocks(codes)
    del codes, stamps
    times = _time_values(frame[TIME])
    if cfg.freq and is_datetime == cfg.freq.startswith("int:"):
        raise DataError(
            f"{path}: --freq {cfg.freq} does not fit the time column, which holds "
            + ("dates: give a pandas frequency such as h, D, MS" if is_datetime else "step numbers (or there is none): "
               "leave out --freq, or give int:N for steps of N")
        )  # fmt: skip
    ids = frame[id_col]
    freq = cfg.freq or infer_freq(times, blocks, is_datetime, path, lambda row: str(ids.iat[row]))
    # one array of all values: each series' values are a view of its rows (one column: no copy at all)
    values = (
        frame[target].to_numpy("float64")[:, None] if len(value_cols) == 1 else frame[value_cols].to_numpy("float64")
    )
    series, read = [], []
    for a, b in blocks:
        try:
            rows = SeriesRows(str(ids.iat[a]), times(a, b), values[a:b], frame.index[a:b], freq, is_datetime, path)
            one = regularise(rows, cfg, notes)
        except DataError as error:
            if problems is None:
                raise
            problems.append(f"{error} (the series is left out of this report)")
            continue
        series.append(one)
        read.append((a, b))
    blocks = read
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


def _duplicates(
    frame: pd.DataFrame,
    codes: np.ndarray,
    stamps: np.ndarray,
    id_col: str,
    time_col: str | None,
    path: str,
    one_series: bool,
    problems: list[str] | None,
) -> np.ndarray | None:
    """Rows sorted by series and time: a row with its predecessor's series and time is a duplicate, refused (or
    said in `problems`, and the duplicate rows returned). In a file read as one series, repeated times most
    often mean several series: say --id-col."""
    duplicated = np.r_[False, (codes[1:] == codes[:-1]) & (stamps[1:] == stamps[:-1])]
    if not duplicated.any():
        return None
    first = int(duplicated.argmax())
    hint = "; if the file holds several series, name their id column with --id-col" if one_series else ""
    count = int(duplicated.sum())
    message = (
        f"{path}: row {file_row(frame, duplicated)}: duplicate timestamp {plain_time(frame[TIME].iloc[first])} "
        f"in series {cell(frame[id_col].iloc[first])} (column {time_col}"
        + (f"; {count} duplicate rows in all, e.g. rows {_rows(frame, duplicated)}" if count > 1 else "")
        + f"); remove or aggregate the duplicates{hint}"
    )
    if problems is None:
        raise DataError(message)
    problems.append(message)
    return duplicated


def _rows(frame: pd.DataFrame, picked: Any, few: int = 3) -> str:
    """The file rows of the first `few` picked rows, as a list (`first_few`)."""
    rows = sorted(int(row) + 2 for row in frame.index[np.asarray(picked)])  # as `file_row` counts them
    return first_few([str(row) for row in rows], few)


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
        long = frame.melt(id_vars=keep, value_vars=other, var_name=SERIES, value_name=cfg.target, ignore_index=False)
        return long, SERIES, cfg.target
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
                f"{path}: row {file_row(frame, ids.isna())}, column {cfg.id_col!r}: empty series id; "
                "fill or remove the row"
            )
        if isinstance(ids.dtype, pd.CategoricalDtype):  # ids as text, still one code per row
            frame[cfg.id_col] = ids.cat.rename_categories(ids.cat.categories.astype(str))
        else:
            frame[cfg.id_col] = ids.astype(str)
        return frame, cfg.id_col, cfg.target
    frame[SERIES] = SINGLE_SERIES_ID
    return frame, SERIES, cfg.target


MAX_MAGNITUDE = 1e150  # squares and sums of squares of such values still fit in float64


def _numeric_column(
    frame: pd.DataFrame,
    col: str,
    path: str,
    decimal_comma: bool = False,
    notes: list[str] | None = None,
    problems: list[str] | None = None,
) -> pd.Series:
    """`_numbers`, or where `problems` is a list, the column with what `_numbers` refuses said there and left
    empty (so that it counts as an empty cell)."""
    try:
        return _numbers(frame, col, path, decimal_comma, notes)
    except DataError as error:
        if problems is None:
            raise
        lenient = pd.to_numeric(frame[col].astype(str).str.strip().str.replace(",", "", regex=False), errors="coerce")
        wild = ~np.isfinite(lenient.to_numpy("float64")) | (lenient.abs().to_numpy() > MAX_MAGNITUDE)
        lenient[wild] = np.nan
        bad = int((lenient.isna() & frame[col].notna() & (frame[col].astype(str).str.strip() != "")).sum())
        problems.append(f"{error}" + (f" ({bad} such cells in column {col!r})" if bad > 1 else ""))
        return lenient.astype("float64")


def _numbers(
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
                    f"{path}: row {file_row(frame, european)}, column {col!r}: {cell(text[european].iloc[0])} has a "
                    "decimal comma; write numbers with a '.' decimal mark, or separate the columns with ';'"
                )
            text = text.str.replace(",", "", regex=False)
        raw = text.replace({"": None, "nan": None})
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        row = file_row(frame, bad)
        raise DataError(
            f"{path}: row {row}, column {col!r}: {cell(frame.loc[bad, col].iloc[0])} is not a number; "
            "fix or remove the row"
        )
    values = values.astype("float64")
    array = values.to_numpy()
    # a value whose square overflows float64 would overflow the scaler's variance: refuse it here, by row
    out_of_range = ~(np.isfinite(array) | np.isnan(array)) | (np.abs(np.nan_to_num(array)) > MAX_MAGNITUDE)
    if out_of_range.any():
        row = file_row(frame, out_of_range)
        raise DataError(
            f"{path}: row {row}, column {col!r}: infinite or too large a value (beyond 1e150); "
            "fix or remove the row, or rescale the column"
        )
    return values
