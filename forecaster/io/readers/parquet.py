"""Parquet in and out: a `.parquet` file or a directory of Parquet shards, read with pyarrow.dataset
(only the named columns, in record batches, assembled column by column as CSV chunks are:
`forecaster.io.readers.csv`), and forecasts written as Parquet when the output path ends in `.parquet`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from forecaster.errors import DataError
from forecaster.io.readers import Reader
from forecaster.io.readers._columns import assemble

if TYPE_CHECKING:  # pyarrow loads when a Parquet file is read
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

SUFFIXES = (".parquet", ".pq")
MADE_BY = b"forecaster"  # the key of the file metadata our Parquet outputs carry
BATCH_ROWS = 250_000  # rows a record batch holds at most: one batch's pandas copy exists at once


def is_parquet(path: str | Path) -> bool:
    """A `.parquet` / `.pq` file, or a directory holding such shards."""
    path = Path(path)
    if path.is_dir():
        return any(shards(path))
    return path.suffix.lower() in SUFFIXES


def shards(directory: Path) -> Iterator[Path]:
    """The Parquet files under `directory`, in name order (hidden and `_` files, such as Spark's
    `_SUCCESS`, left out as pyarrow leaves them out)."""
    for path in sorted(directory.rglob("*")):
        hidden = any(part.startswith((".", "_")) for part in path.relative_to(directory).parts)
        if path.is_file() and path.suffix.lower() in SUFFIXES and not hidden:
            yield path


def _dataset(path: Path) -> ds.Dataset:
    import pyarrow as pa
    import pyarrow.dataset as ds

    if not path.exists():
        raise DataError(f"{path}: file not found")
    try:
        if path.is_dir():
            found = list(shards(path))
            _check_alike(found)
            return ds.dataset(list(map(str, found)), format="parquet")
        return ds.dataset(str(path), format="parquet")
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: cannot read as Parquet ({str(exc).splitlines()[0][:200]})") from None


def check_shards(path: str | Path, id_col: str | None) -> None:
    """`_check_alike` for a directory of shards, before an engine reads it."""
    if Path(path).is_dir():
        _check_alike(list(shards(Path(path))), id_col)


def _check_alike(found: list[Path], id_col: str | None = None) -> None:
    """Every shard has the first shard's columns, and its timestamps in the same zone: a dataset of unlike
    shards would read a column a shard names differently as empty (then "filled"), and shift one zone's
    times into another's without a word. The id column (`id_col`) is text in every shard or in none."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if len(found) < 2:
        return
    first = pq.read_schema(found[0])
    for shard in found[1:]:
        schema = pq.read_schema(shard)
        missing = [name for name in first.names if name not in schema.names]
        if missing:
            raise DataError(
                f"{shard}: no column {missing[0]!r}, which {found[0].name} has; every shard needs the same columns "
                f"(this one has {', '.join(schema.names[:8])})"
            )
        for name in first.names:
            one, other = first.field(name).type, schema.field(name).type
            if name == id_col and _is_text(one) != _is_text(other):  # ids 1 and "1": one series or two? (Ray failed)
                raise DataError(
                    f"{shard}: column {name!r} holds {other}, {found[0].name}'s holds {one}; write the column with "
                    "one type in every shard"
                )
            if pa.types.is_timestamp(one) and pa.types.is_timestamp(other) and one.tz != other.tz:
                raise DataError(
                    f"{shard}: column {name!r} is in time zone {other.tz or 'none'}, {found[0].name}'s in "
                    f"{one.tz or 'none'}; write every shard's times in one zone"
                )


def parquet_columns(path: str | Path) -> list[str]:
    """The column names of a Parquet file or directory of shards (one schema for all shards)."""
    return list(_dataset(Path(path)).schema.names)


def read_parquet_frame(
    path: str | Path, keep: set[str] | None = None, categories: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Read the named columns (`keep`, when the data has them all; else every column, so the caller's
    checks name what is missing) in record batches, `categories` as categorical (one growing set of
    categories, int32 codes) so a long panel's repeated ids and times cost little."""
    import pyarrow as pa

    path = Path(path)
    dataset = _dataset(path)
    names = list(dataset.schema.names)
    columns = [name for name in names if name in keep] if keep and keep <= set(names) else names
    _check_flat(dataset.schema, columns, path)
    try:
        rows = dataset.count_rows()
        batches = dataset.to_batches(columns=columns, batch_size=BATCH_ROWS)
        chunks = (_as_frame(batch, categories) for batch in batches)
        frame = assemble(chunks, rows)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: cannot read as Parquet ({str(exc).splitlines()[0][:200]})") from None
    if frame.empty:
        raise DataError(f"{path}: the Parquet data has columns but no rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _is_text(kind: pa.DataType) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _check_flat(schema: pa.Schema, columns: list[str], where: Path) -> None:
    """Refuse a column of nested values (struct, list, map): no id, time or value is one of those."""
    import pyarrow as pa

    for name in columns:
        kind = schema.field(name).type
        if pa.types.is_nested(kind):
            raise DataError(
                f"{where}: column {str(name).strip()!r} holds nested values ({str(kind)[:60]}); give ids as text or "
                "numbers, times as timestamps, values as numbers"
            )


def _as_frame(batch: pa.RecordBatch | pa.Table, categories: tuple[str, ...], named: bool = False) -> pd.DataFrame:
    """A record batch (or table) as pandas, `categories` categorical; `named`: column names stripped."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    zones = {  # a dictionary of zoned timestamps comes to pandas as naive UTC: its zone is put back below
        name: kind.tz for name, kind in zip(table.column_names, table.schema.types)
        if pa.types.is_timestamp(kind) and kind.tz and str(name).strip() in categories
    }  # fmt: skip
    for at, name in enumerate(table.column_names):
        if str(name).strip() in categories and not pa.types.is_dictionary(table.schema.field(at).type):
            # encoded by arrow, so pandas gets codes and the distinct values, never a Python object per row
            table = table.set_column(at, name, pc.dictionary_encode(table.column(at)))
    frame = table.to_pandas()
    if named:
        frame.columns = [str(c).strip() for c in frame.columns]
    for name in frame.columns:  # arrow keeps first-seen order: sorted, as astype("category") sorts (ids in order)
        if str(name).strip() in categories:
            column = frame[name].cat
            frame[name] = column.reorder_categories(column.categories.sort_values())
            known = frame[name].cat.categories
            if name in zones and isinstance(known, pd.DatetimeIndex) and known.tz is None:
                frame[name] = frame[name].cat.rename_categories(known.tz_localize("UTC").tz_convert(zones[name]))
    return frame


def series_shards(path: str | Path, id_col: str | None) -> list[tuple[Path, set[str]]] | None:
    """The shards of a Parquet directory with the series ids each holds, when each series' rows lie
    together in one shard (so the panel can be read a block of whole series at a time: `series_blocks`);
    else None. Only the id column is read."""
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = Path(path)
    if not id_col or not path.is_dir():
        return None
    found = list(shards(path))
    if len(found) < 2:
        return None
    _check_alike(found, id_col)
    blocks: list[tuple[Path, set[str]]] = []
    seen: set[str] = set()
    for shard in found:
        try:
            codes = pc.dictionary_encode(pq.read_table(shard, columns=[id_col]).column(0)).combine_chunks()
        except Exception:  # a missing or nested column, an unreadable shard: the whole read names the problem
            return None
        indices = codes.indices.to_numpy(zero_copy_only=False)
        ids = {str(value) for value in codes.dictionary.to_pylist() if value is not None}
        runs = 1 + int(np.count_nonzero(indices[1:] != indices[:-1])) if len(indices) else 0
        if ids & seen or runs != len(codes.dictionary):  # a series in two shards, or its rows apart
            return None
        seen |= ids
        blocks.append((shard, ids))
    return blocks


BLOCK_ROWS = 1_000_000  # rows of whole series read (and forecast) at a time from a shard


def series_blocks(
    shards: list[Path], keep: set[str], id_col: str, categories: tuple[str, ...], rows: int = BLOCK_ROWS
) -> Iterator[tuple[Path, pd.DataFrame]]:
    """(shard, frame): frames of whole series, about `rows` rows each (a shard's last block may be smaller),
    from shards whose series' rows lie together (`series_shards`). Record batches are read in turn until
    `rows` are held; they are given out when the next batch starts a new series, else up to the series it
    continues. A frame's index is its rows' 0-based places in the shard, as a whole read numbers them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for shard in shards:
        handle = pq.ParquetFile(shard)
        names = handle.schema_arrow.names
        columns = [name for name in names if name.strip() in keep] if keep <= {n.strip() for n in names} else None
        _check_flat(handle.schema_arrow, columns or names, shard)
        at = [name.strip() for name in (columns or names)].index(id_col)
        pending: pa.Table | None = None  # rows read and not given out: whole series, but perhaps the last
        first = 0  # the shard row of pending's first row
        for batch in handle.iter_batches(batch_size=rows, columns=columns):
            if pending is not None and pending.num_rows >= rows:  # due: up to where this batch's series begin
                ids = pending.column(at)
                whole = pending.num_rows if ids[-1] != batch.column(at)[0] else _last_run(ids)
                if whole:  # else one series longer than a block: read on
                    yield shard, _numbered(_as_frame(pending.slice(0, whole), categories, named=True), first)
                    pending, first = pending.slice(whole), first + whole
            table = pa.Table.from_batches([batch])
            pending = table if pending is None else pa.concat_tables([pending, table])
        if pending is not None and pending.num_rows:
            yield shard, _numbered(_as_frame(pending, categories, named=True), first)


def _numbered(frame: pd.DataFrame, first: int) -> pd.DataFrame:
    frame.index = pd.RangeIndex(first, first + len(frame))
    return frame


def _last_run(ids: pa.Array | pa.ChunkedArray) -> int:
    """Where the last series of an id column begins (0 when it is all one series)."""
    import numpy as np
    import pyarrow.compute as pc

    other = np.flatnonzero(pc.not_equal(ids, ids[-1]).to_numpy(zero_copy_only=False))
    return int(other[-1]) + 1 if len(other) else 0


def parquet_sha256(path: str | Path) -> str:
    """One digest of a Parquet file, or of every shard of a directory (names and bytes, in name order)."""
    path = Path(path)
    digest = hashlib.sha256()
    for shard in shards(path) if path.is_dir() else [path]:
        digest.update(str(shard.relative_to(path) if path.is_dir() else shard.name).encode())
        with open(shard, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def parquet_writer(path: Path, kind: str) -> Iterator[Callable[[pd.DataFrame], None]]:
    """A function that appends frames (of one schema) to the Parquet file `path` as row groups, the file
    marked in its metadata as forecaster's `kind` output (`made_by_forecaster`); closed when the context ends."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer: pq.ParquetWriter | None = None

    def append(frame: pd.DataFrame) -> None:
        nonlocal writer
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if writer is None:
            schema = table.schema.with_metadata({**(table.schema.metadata or {}), MADE_BY: kind.encode()})
            writer = pq.ParquetWriter(path, schema)
        writer.write_table(table.cast(writer.schema))

    try:
        yield append
    finally:
        if writer is not None:
            writer.close()


def made_by_forecaster(path: Path) -> bool:
    """Whether the Parquet file `path` is one of our outputs (its metadata says so)."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
    except Exception:  # not Parquet, unreadable: not ours
        return False
    return MADE_BY in metadata


def read(path: Path, keep: set[str] | None, shared: tuple[str, ...], text: tuple[str, ...]) -> pd.DataFrame:
    """`read_parquet_frame`; text columns need no care: Parquet keeps text as written."""
    return read_parquet_frame(path, keep, shared)


def engine_load(path: Path, columns: list[str], id_col: str | None, session: object) -> object:
    """The named columns as the engine's own frame (Fugue's loader), the shards checked alike first."""
    import fugue.api as fa

    check_shards(path, id_col)
    return fa.load(str(path), format_hint="parquet", columns=columns, engine=session)


READER = Reader(
    name="parquet",
    suffixes=SUFFIXES,
    claims=is_parquet,
    columns=parquet_columns,
    read=read,
    digest=parquet_sha256,
    sink=parquet_writer,
    ours=made_by_forecaster,
    series_shards=series_shards,
    engine_load=engine_load,
)
