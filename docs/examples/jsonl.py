"""JSON Lines: one JSON object a row, `{"id": "a", "time": "2024-01-01", "y": 1.5}`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from forecaster.io.readers import Reader
from forecaster.io.readers.csv import file_sha256


def columns(path: Path) -> list[str]:
    with open(path) as handle:
        return list(json.loads(handle.readline()))


def read(path: Path, keep: set[str] | None, shared: tuple[str, ...], text: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.read_json(path, lines=True, dtype={name: str for name in text}, convert_dates=False, precise_float=True)
    return frame[[c for c in frame.columns if c in keep]] if keep and keep <= set(frame.columns) else frame


@contextmanager
def sink(path: Path, kind: str) -> Iterator:
    with open(path, "w") as handle:  # json writes every float exactly (pandas' to_json rounds to 10 digits)
        yield lambda frame: handle.writelines(json.dumps(row, default=str) + "\n" for row in frame.to_dict("records"))


def ours(path: Path) -> bool:  # a forecast of ours: its rows carry our forecast and method fields
    try:
        return {"forecast", "method"} <= set(columns(path))
    except (OSError, ValueError):
        return False


READER = Reader(
    name="jsonl",
    suffixes=(".jsonl",),
    claims=lambda path: path.suffix.lower() == ".jsonl",
    columns=columns,
    read=read,
    digest=file_sha256,
    sink=sink,
    ours=ours,
)
