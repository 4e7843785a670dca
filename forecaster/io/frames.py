"""A pandas DataFrame given as data: read exactly as a file is, through a temporary CSV that the same
loader reads (so the Python API and the CLI check, scale and forecast it identically); its errors name the
frame and the row's position, not the temporary file."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from forecaster.errors import DataError, ForecasterError

Data = Any  # a CSV path (str or Path) or a pandas DataFrame


DATA_FOLDER = "forecaster-data-"  # + pid: a DataFrame's temporary CSV, removed after (or by a later start)
RUN_FOLDER = "forecaster-run-"  # + pid: the run of a Forecaster fitted without `out`, removed with it


def temporary_folder(prefix: str) -> Path:
    """A new temporary folder named by this process, after removing those of processes that are gone
    (what a kill -9 during `fit(frame)` left: a copy of the user's data, a half-made run)."""
    from forecaster.io.files import process_gone

    for folder in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        if process_gone(folder.name.removeprefix(prefix).split("-")[0]):
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))


def _frame_with_index(data: Any, time_col: str | None) -> Any:
    """A DataFrame whose index holds data (a DatetimeIndex, an id/time MultiIndex) with the index made
    columns, as pandas users keep time: an unnamed DatetimeIndex becomes the time column."""
    import pandas as pd

    index = data.index
    if isinstance(index, pd.RangeIndex):
        return data
    names = [name for name in index.names if name is not None]
    if isinstance(index, pd.DatetimeIndex) and index.name is None and time_col and time_col not in data.columns:
        return data.reset_index(names=time_col)
    if names and len(names) == index.nlevels and not set(names) & set(map(str, data.columns)):
        return data.reset_index()
    return data


@contextmanager
def as_csv(data: Data, id_col: str | None = None, time_col: str | None = None) -> Iterator[Path]:
    """A path to read `data` from: the path itself, or a temporary CSV of a DataFrame (removed after; one
    left by a killed process is removed by the next). A DataFrame's index is taken as columns when it holds
    the time (and ids); its errors name the DataFrame and the row's position, not the temporary file.

    A DataFrame whose `id_col` mixes numbers and text is refused: written to CSV, the ids 1 and "1" would
    become one series."""
    if isinstance(data, (str, Path)):
        yield Path(data)
        return
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a CSV path or a pandas DataFrame, got {type(data).__name__}")
    data = _frame_with_index(data, time_col)
    ids = data[id_col] if id_col and id_col in data.columns and data[id_col].dtype == object else None
    if ids is not None and ids.map(type).eq(bytes).any():  # b"s0" is the id s0
        try:
            decoded = data[id_col].map(lambda v: v.decode() if isinstance(v, bytes) else v)
            data = data.copy(deep=False)
            data[id_col] = decoded
        except UnicodeDecodeError:
            raise DataError(f"column {id_col!r}: bytes ids that are not UTF-8 text; decode them first") from None
    if id_col and id_col in data.columns and data[id_col].dtype == object:
        kinds = {type(value).__name__ for value in data[id_col].dropna().unique()}
        if "str" in kinds and len(kinds) > 1:
            raise DataError(
                f"column {id_col!r} mixes text and {', '.join(sorted(kinds - {'str'}))} ids (1 and '1' would be one "
                f"series): give every id one type, e.g. frame[{id_col!r}].astype(str)"
            )
    folder = temporary_folder(DATA_FOLDER)
    path = folder / "data.csv"
    try:
        data.to_csv(path, index=False)
        yield path
    except ForecasterError as exc:
        message = str(exc).replace(str(path), "DataFrame")
        raise type(exc)(  # the same kind of error (data, settings, damaged run), about the frame
            re.sub(r"\brow (\d+)", lambda found: f"row at position {int(found.group(1)) - 2}", message)
        ) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
