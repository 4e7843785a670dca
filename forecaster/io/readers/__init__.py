"""Data sources: each module here reads (and writes) one format, and says so in one `READER`. Adding a
format is adding a module: `readers()` lists this folder (a leading _ keeps a module out), and every
place that reads data, digests it, writes a forecast or forecasts on an engine asks `reader_for(path)`.

A reader claims the paths in its format (by suffix, or a directory of such files); the one marked
`fallback` (CSV) reads whatever no other reader claims, so its errors say what was expected.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from forecaster.io.frames import Data, frame_digest
from forecaster.kinds import Frame

Append = Callable[[Frame], None]  # takes a pandas frame of rows


@dataclass(frozen=True)
class Reader:
    """One data format: what `forecaster` needs to read it, digest it, and write forecasts in it."""

    name: str
    suffixes: tuple[str, ...]
    claims: Callable[[Path], bool]  # the path is in this format (a file, or a directory of such files)
    columns: Callable[[Path], list[str]]  # the column names as written
    # (path, keep, shared, text) -> frame: `keep` only these columns when the data has them all; `shared` read as
    # categories (ids, times); `text` read as written, only an empty cell missing
    read: Callable[[Path, set[str] | None, tuple[str, ...], tuple[str, ...]], Frame]
    digest: Callable[[Path], str]  # sha256 of the data (of every file, for a directory)
    sink: Callable[[Path, str], AbstractContextManager[Append]]  # (staging path, kind) -> rows appended there
    ours: Callable[[Path], bool]  # a file of this format that forecaster wrote (so it may replace it)
    decimal_comma: Callable[[Path], bool] = lambda path: False  # numbers written 5,841 for 5.841
    # (path, id_col) -> [(shard, its series ids)] when every series' rows lie together in one shard, else None:
    # such data is read and forecast a block of whole series at a time
    series_shards: Callable[[Path, str | None], list[tuple[Path, set[str]]] | None] = lambda path, id_col: None
    # (path, columns, id_col, session) -> the engine's own frame; None: read here and handed to the engine
    engine_load: Callable[[Path, list[str], str | None, object], object] | None = None
    fallback: bool = False  # reads whatever no other reader claims


@functools.cache
def readers() -> tuple[Reader, ...]:
    """Every reader in this folder, the fallback last."""
    found = [
        importlib.import_module(f"{__name__}.{module.name}").READER
        for module in pkgutil.iter_modules(__path__)
        if not module.name.startswith("_")
    ]
    return tuple(sorted(found, key=lambda reader: (reader.fallback, reader.name)))


def reader_for(path: str | Path) -> Reader:
    """The reader whose format `path` is in: the first that claims it, else the fallback (CSV)."""
    path = Path(path)
    for reader in readers():
        if reader.fallback or reader.claims(path):
            return reader
    raise LookupError("no fallback reader")  # a reader module marks itself fallback; CSV does


def data_digest(data: Data) -> str:
    """The sha256 of the data at a path, as its reader digests it (every shard of a directory), or of a
    DataFrame's names, types and values (`forecaster.io.frames.frame_digest`)."""
    if not isinstance(data, (str, Path)):
        return frame_digest(data)
    return reader_for(data).digest(Path(data))


def written_by_forecaster(path: Path) -> bool:
    """Whether the file `path` is a forecast this tool wrote, in any format: its reader recognises its mark."""
    return any(reader.ours(path) for reader in readers())
