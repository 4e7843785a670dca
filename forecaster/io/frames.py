"""A pandas DataFrame given as data: made into the frame the CSV reader gives for the same data in a file
(`readable`), which `forecaster.data.panel.panel_from_frame` then checks and regularises as it does a file's,
so the Python API and the CLI forecast it identically with no temporary file; its errors name the frame and
the row's position. Also the temporary run folder of a Forecaster fitted without `out`."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from forecaster.errors import DataError, ForecasterError
from forecaster.io.files import process_gone
from forecaster.kinds import Frame

if TYPE_CHECKING:
    import pandas as pd

Data: TypeAlias = "str | Path | pd.DataFrame"
"""What data is given as: a CSV or Parquet path (a file, or a folder of Parquet shards) or a pandas DataFrame; for
`--engine`, a Dask, Ray or Spark frame too (`forecaster.serving.checks.engine_of`)."""

# what pandas reads as missing by default (its STR_NA_VALUES): in every column but the text ones
NA_WORDS = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
            "NA", "NULL", "NaN", "None", "n/a", "nan", "null")  # fmt: skip


RUN_FOLDER = "forecaster-run-"  # + pid: the run of a Forecaster fitted without `out`, removed with it


def temporary_folder(prefix: str) -> Path:
    """A new temporary folder named by this process, after removing those of processes that are gone
    (what a kill -9 during `fit(frame)` left: a copy of the user's data, a half-made run)."""

    for folder in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        if process_gone(folder.name.removeprefix(prefix).split("-")[0]):
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))


def _frame_with_index(data: Frame, time_col: str | None) -> Frame:
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


FRAME = "DataFrame"  # what errors, notes and the run's manifest call a DataFrame given as data


def check_frame_type(data: object) -> None:
    """Refuse data that is neither a path nor a pandas DataFrame, naming its type and the way to pandas."""
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        kind = f"{type(data).__module__.split('.')[0]}.{type(data).__name__}"
        hint = "; make it one with .to_pandas()" if hasattr(data, "to_pandas") else ""
        raise DataError(f"data must be a CSV path or a pandas DataFrame, got a {kind}{hint}")


def as_frame(data: Frame, id_col: str | None, time_col: str | None) -> Frame:
    """The DataFrame `data` with its index taken as columns when it holds the time (and ids), and its ids
    checked: bytes ids decoded, ids mixing text and numbers refused (1 and "1" would be one series)."""
    import pandas as pd

    check_frame_type(data)
    if data.shape[0] == 0:
        raise DataError(f"{FRAME}: the frame has no rows; give one that holds the series")
    if isinstance(data.columns, pd.MultiIndex):
        raise DataError(
            f"{FRAME}: its columns have {data.columns.nlevels} levels (a MultiIndex); give one level of names, "
            "e.g. frame.columns = ['_'.join(map(str, name)) for name in frame.columns]"
        )
    names = [str(name).strip() for name in data.columns]
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    if twice:
        raise DataError(f"{FRAME}: column {twice[0]!r} appears twice; rename one of them")
    data = _frame_with_index(data, time_col)
    ids = data[id_col] if id_col and id_col in data.columns and data[id_col].dtype == object else None
    if ids is not None and ids.map(type).eq(bytes).any():  # b"s0" is the id s0
        try:
            decoded = ids.map(lambda v: v.decode() if isinstance(v, bytes) else v)
        except UnicodeDecodeError:
            raise DataError(f"column {id_col!r}: bytes ids that are not UTF-8 text; decode them first") from None
        data = data.copy(deep=False)
        data[id_col] = ids = decoded
    if ids is not None:
        kinds = {type(value).__name__ for value in ids.dropna().unique()}
        if "str" in kinds and len(kinds) > 1:
            raise DataError(
                f"column {id_col!r} mixes text and {', '.join(sorted(kinds - {'str'}))} ids (1 and '1' would be one "
                f"series): give every id one type, e.g. frame[{id_col!r}].astype(str)"
            )
    return data


def readable(frame: Frame, needed: set[str] | None, id_col: str | None, time_col: str | None) -> Frame:
    """The frame as the CSV reader gives the same data written to a file, so a DataFrame and its CSV make one
    panel without the file:
    - column names as text, stripped (two alike were refused by `as_frame`); only the `needed` columns when
      it has them all (None: every column); rows named by position;
    - ids as text categories in sorted order (the series' order); text times as categories (each parsed once);
    - empty and NA-word cells of text number columns, categorical and nullable numbers as float with NaN.
    Typed times stay typed: a named time zone is kept, where a CSV holds only offsets. The caller's frame is
    not changed."""
    import numpy as np
    import pandas as pd

    names = [str(name).strip() for name in frame.columns]  # none twice: `as_frame` refused that
    keep = needed is None or not needed <= set(names)  # every column, or only the needed ones (taken alone)
    made = {}
    for at, name in enumerate(names):
        if not keep and name not in needed:  # type: ignore[operator]
            continue
        values = frame.iloc[:, at].reset_index(drop=True)
        if name == id_col and values.dtype.kind == "M":  # as a CSV writes them: 2020-01-01 when all are midnight
            values = values.astype(str).where(values.notna()).astype("category")
        elif name == id_col:
            text = values.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore")
            values = text.where(text != "").astype("category")  # an empty id is missing, as in a file
        elif name == time_col and values.dtype == object:
            values = values.where(values != "").astype("category")  # an empty time is missing, as in a file
        elif name != time_col and values.dtype.kind in "cmM":  # complex numbers, durations, dates: their text,
            values = values.astype(str).where(values.notna())  # which the number reader refuses as in a file
        elif isinstance(values.dtype, pd.CategoricalDtype) and pd.api.types.is_numeric_dtype(values.cat.categories):
            values = values.astype("float64")  # int categories with a missing one: floats with NaN, as in a file
        elif isinstance(values.dtype, pd.CategoricalDtype):
            values = pd.Series(np.asarray(values, dtype=object), dtype=values.cat.categories.dtype)
        elif pd.api.types.is_extension_array_dtype(values.dtype) and pd.api.types.is_numeric_dtype(values.dtype):
            values = values.astype("float64")
        elif values.dtype == object or isinstance(values.dtype, pd.StringDtype):  # pd.NA is a gap, as NaN is
            missing = values.isna() | values.isin(NA_WORDS)
            values = values.astype(object).where(~missing, np.nan)
        made[name] = values
    return pd.DataFrame(made, copy=False)


@contextmanager
def frame_errors() -> Iterator[None]:
    """Errors about a DataFrame name its rows by position (what `frame.iloc` takes), not by a file's line."""
    try:
        yield
    except ForecasterError as exc:
        raise type(exc)(  # the same kind of error (data, settings, damaged run), about the frame
            re.sub(r"\brow (\d+)", lambda found: f"row at position {int(found.group(1)) - 2}", str(exc))
        ) from None


def frame_digest(frame: Frame) -> str:
    """The sha256 of a DataFrame's names, types and values (a file's is of its bytes): the same frame, the same
    digest, which is what resuming an interrupted `fit` checks."""
    import hashlib

    import pandas as pd

    check_frame_type(frame)
    digest = hashlib.sha256(repr([(str(n), str(t)) for n, t in frame.dtypes.items()]).encode())
    try:
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    except TypeError:  # cells pandas cannot hash (lists): their text
        digest.update(frame.to_csv().encode())
    return digest.hexdigest()
