"""CSV in and out: the header, the columns parsed in chunks into arrays sized for the whole file
(`forecaster.data.panel` turns them into series), and forecasts written with one header. The reader of
whatever no other reader claims."""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from forecaster.errors import DataError
from forecaster.io.files import csv_safe
from forecaster.io.frames import NA_WORDS
from forecaster.io.readers import Reader
from forecaster.io.readers._columns import assemble

CHUNK_ROWS = 250_000  # long files are parsed this many rows at a time: one chunk's strings exist at once


def file_sha256(path: str | Path) -> str:
    """The digest of one file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_header(path: Path) -> tuple[str, list[str]]:
    """The delimiter (`,` `;` or tab) and the column names as written; refuses an empty, binary or
    non-UTF-8 file and duplicate names."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    head = _header_bytes(path)
    if not head.strip():
        raise DataError(f"{path}: the file is empty; give a CSV with a header line and rows")
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)  # a block may end mid-letter
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None
    lines = text.splitlines()
    first_line = lines[0] if lines else ""
    delimiter = max([",", ";", "\t"], key=first_line.count)
    try:
        names = next(csv.reader([first_line], delimiter=delimiter))
    except csv.Error:
        raise DataError(
            f"{path}: the header holds a column name over {csv.field_size_limit():,} characters; "
            "give a CSV whose first line names its columns"
        ) from None
    seen: set[str] = set()
    for name in names:
        if name.strip() in seen:
            raise DataError(f"{path}: column {name.strip()!r} appears twice in the header; rename one of them")
        seen.add(name.strip())
    return delimiter, names


MAX_HEADER_BYTES = 256 << 20  # a header of a million columns is megabytes long; hundreds of them is no header


def _header_bytes(path: Path) -> bytes:
    """The file's first line (with a little of what follows), read in blocks: each block is checked for
    binary data as it comes, and a first line past MAX_HEADER_BYTES is refused, so a huge file with no
    line break (or a sparse one of zeros) is refused after one block, not after reading gigabytes."""
    head = bytearray()
    with open(path, "rb") as handle:
        while len(head) <= MAX_HEADER_BYTES:
            block = handle.read(64 * 1024 if not head else 1 << 20)
            if b"\x00" in block:
                raise DataError(f"{path}: this is not a text CSV file (it holds binary data)")
            head += block
            if not block or b"\n" in block or b"\r" in block:
                return bytes(head)
    raise DataError(
        f"{path}: no line break in the first {MAX_HEADER_BYTES >> 20} MiB; give a CSV with a header line and rows"
    )


def read_frame(
    path: str | Path, keep: set[str] | None = None, categories: tuple[str, ...] = (), text: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Read the CSV as strings-and-numbers, detecting `,` `;` or tab and a UTF-8 BOM.

    `keep`: read only these columns (when the file has them all; else read everything, so the
    caller's checks name what is missing). `categories`: columns to read as categorical, which saves
    most of the memory a long file's repeated ids and timestamps would take. `text`: columns read as
    written, where only an empty cell is missing (series ids such as NA or null are ids).
    """
    path = Path(path)
    delimiter, names = read_header(path)
    header = {name.strip(): name for name in names}
    options: dict[str, object] = {}
    if keep and keep <= set(header):  # names as the user types them: " Grid load" is "Grid load"
        options["usecols"] = lambda name: str(name).strip() in keep
    if any(name in header for name in categories):  # the parser strips the spaces before a name
        options["dtype"] = {header[name].lstrip(): "category" for name in categories if name in header}
    if any(name in header for name in text):
        options["keep_default_na"] = False
        options["na_values"] = {raw.lstrip(): [""] if name in text else list(NA_WORDS) for name, raw in header.items()}
    try:
        chunks = pd.read_csv(
            path,
            sep=delimiter,
            encoding="utf-8-sig",
            skipinitialspace=True,
            chunksize=CHUNK_ROWS,
            float_precision="round_trip",
            **options,
        )  # round_trip: every number exactly as written (pandas 2's default parser is off by an ulp at times)
        rows, spaced = _scan(path, delimiter)
        frame = assemble(chunks, rows)
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot parse as CSV ({str(exc).splitlines()[0]})") from None
    if frame.empty:
        raise DataError(f"{path}: the file has a header but no rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    for name in text:  # the parser dropped the spaces after each delimiter: " a" and "a" would be one series
        written = _as_written(path, delimiter, name, len(frame)) if spaced and name in frame.columns else None
        if written is not None:
            frame[name] = written
    return frame


def _as_written(path: Path, delimiter: str, name: str, rows: int) -> Any:
    """Column `name` with its cells' leading spaces kept, as Parquet keeps them (only an empty cell
    missing), when some cell starts with one; else (or when it reads differently) None."""
    try:
        column = pd.read_csv(
            path, sep=delimiter, encoding="utf-8-sig", usecols=lambda c: str(c).strip() == name,
            dtype="category", keep_default_na=False, na_values=[""],
        ).iloc[:, 0]  # fmt: skip
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error, ValueError):
        return None
    spaced = column.cat.categories.astype(str).str.match(r"\s")
    return column.array if len(column) == rows and spaced.any() else None


def _scan(path: Path, delimiter: str) -> tuple[int, bool]:
    """In one pass over the bytes: at least the number of data rows (the file's line breaks, plus one for a
    last line without one), and whether a delimiter or a line break is followed by a space (a cell that may
    start with one, the first column's too)."""
    lines, spaced, tail = 0, False, b""
    patterns = [(delimiter + " ").encode(), b"\n ", b"\r "]
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            lines += max(block.count(b"\n"), block.count(b"\r"))  # \n, \r\n or old Mac \r alone
            spaced = spaced or any(pattern in tail + block[:2] or pattern in block for pattern in patterns)
            tail = block[-1:]
    return lines + 1, spaced


def decimal_comma(path: Path) -> bool:
    """Whether numbers are written with a decimal comma: as `;` files write them (5,841 is 5.841)."""
    return read_header(path)[0] == ";"


def columns(path: Path) -> list[str]:
    return read_header(path)[1]


def read(path: Path, keep: set[str] | None, shared: tuple[str, ...], text: tuple[str, ...]) -> pd.DataFrame:
    return read_frame(path, keep, shared, text=text)


@contextmanager
def csv_sink(path: Path, kind: str) -> Iterator[Callable[[pd.DataFrame], None]]:
    """A function that appends frames to the CSV file `path`, the header written once; formulas a spreadsheet
    would run are quoted (`csv_safe`)."""

    with open(path, "w", newline="") as handle:
        written = [False]

        def append(frame: pd.DataFrame) -> None:
            csv_safe(frame).to_csv(handle, index=False, header=not written[0])
            written[0] = True

        yield append


def ours(path: Path) -> bool:
    """A forecast CSV of ours: its header has our `forecast` and `method` columns."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    header = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip().split(",")
    return {"forecast", "method"} <= set(header)


READER = Reader(
    name="csv",
    suffixes=(".csv", ".tsv", ".txt"),
    claims=lambda path: False,  # the fallback: whatever no other reader claims is read as CSV
    columns=columns,
    read=read,
    digest=file_sha256,
    sink=csv_sink,
    ours=ours,
    decimal_comma=decimal_comma,
    fallback=True,
)
