"""Columns assembled from parsed chunks or record batches, each in one array sized for the whole data:
what the CSV and Parquet readers share."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


class _Column:
    """One column of a file parsed in chunks, written into one array sized for the whole file, so no
    chunk outlives its parse and no concatenation doubles the data at the end.

    Categorical chunks (each with its own categories) become int32 codes into one growing set of
    categories; numeric chunks fill one array; a chunk of anything else (text in a number column)
    turns the column into a list of parts, concatenated at the end (bad data is not the large case).
    """

    def __init__(self, rows: int):
        self.rows = rows
        self.array: np.ndarray | None = None
        self.categories: dict[Any, int] | None = None
        self.parts: list[Any] | None = None

    def add(self, part: pd.Series, at: int) -> None:
        """Write `part`, the rows from `at` on."""
        categorical = isinstance(part.dtype, pd.CategoricalDtype)
        numeric = isinstance(part.dtype, np.dtype) and part.dtype.kind in "biuf"
        if self.parts is None and self.array is None:
            if categorical or numeric:
                self.array = np.empty(self.rows, dtype="int32" if categorical else part.dtype)
                self.categories = {} if categorical else None
            else:
                self.parts = []
        if self.parts is None and categorical and self.categories is not None:
            known = self.categories
            lookup = [known.setdefault(c, len(known)) for c in part.cat.categories]
            codes = np.array([*lookup, -1], dtype="int32")[part.cat.codes.to_numpy()]  # -1 (empty) stays -1
            self._write(codes, at)
        elif self.parts is None and numeric and self.categories is None:
            self._write(part.to_numpy(), at)
        else:
            if self.parts is None:
                self.parts = [pd.Series(self.result(at))]
            self.parts.append(part)

    def _write(self, values: np.ndarray, at: int) -> None:
        assert self.array is not None
        if not np.can_cast(values.dtype, self.array.dtype):
            self.array = self.array.astype(np.result_type(self.array, values))
        self.array[at : at + len(values)] = values

    def result(self, rows: int) -> Any:
        """The column's first `rows` values: an array, a Categorical, or (mixed parts) a Series."""
        if self.parts is not None:
            return pd.concat(self.parts, ignore_index=True)
        assert self.array is not None
        if self.categories is not None:
            return pd.Categorical.from_codes(self.array[:rows], categories=list(self.categories))
        return self.array[:rows]


def assemble(chunks: Any, rows: int) -> pd.DataFrame:
    """One frame from parsed chunks, each column built in place (see `_Column`)."""
    columns: dict[str, _Column] = {}
    at = 0
    for chunk in chunks:
        for name in chunk.columns:
            columns.setdefault(name, _Column(rows)).add(chunk[name], at)
        at += len(chunk)
    return pd.DataFrame({name: column.result(at) for name, column in columns.items()}, copy=False)
