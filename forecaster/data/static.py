"""Static covariates (`--static`): one value per series, made into numbers the network reads beside
each window. A column whose values are all numbers is standardised over the training series (a
missing value is the mean: 0); any other is one-hot over the values training saw (an unseen or missing
one: all zeros). The encoding is fitted once, on the training panel, and kept in the run's config."""

from __future__ import annotations

from typing import Any

import numpy as np

from forecaster.errors import DataError
from forecaster.kinds import JSON

MAX_CATEGORIES = 1000  # a text column with more distinct values is an id, not a covariate


def fit_encoding(statics: list[JSON], columns: tuple[str, ...]) -> tuple[JSON, ...]:
    """One spec a column: {"column", "mean", "std"} for numbers, {"column", "categories"} for text."""
    specs = []
    for column in columns:
        values = [s.get(column) for s in statics]
        given = [v for v in values if v is not None]
        if given and all(isinstance(v, float) for v in given):
            numbers = np.asarray(given, dtype="float64")
            std = float(numbers.std())
            specs.append({"column": column, "mean": float(numbers.mean()), "std": std if std > 0 else 1.0})
            continue
        categories = sorted({str(v) for v in given})
        if len(categories) > MAX_CATEGORIES:
            raise DataError(
                f"--static {column}: {len(categories):,} distinct values; a static covariate names a few groups "
                f"(at most {MAX_CATEGORIES:,}): a per-series id is --series-embedding's job"
            )
        specs.append({"column": column, "categories": categories})
    return tuple(specs)


def width(encoding: tuple[JSON, ...]) -> int:
    """How many numbers the encoding makes of a series' static values."""
    return sum(len(spec["categories"]) if "categories" in spec else 1 for spec in encoding)


def encode(static: JSON, encoding: tuple[JSON, ...]) -> np.ndarray:
    """float32 (width,) for one series' static values."""
    parts: list[float] = []
    for spec in encoding:
        value = static.get(spec["column"])
        if "categories" in spec:
            parts += [float(value is not None and str(value) == c) for c in spec["categories"]]
        elif value is None:
            parts.append(0.0)
        else:
            try:
                parts.append((float(value) - spec["mean"]) / spec["std"])
            except (TypeError, ValueError):
                raise DataError(
                    f"--static {spec['column']}: {value!r} is not a number, as the column was in training"
                ) from None
    return np.asarray(parts, dtype="float32")


def codes(encoded: Any, encoding: tuple[JSON, ...]) -> list[float]:
    """An encoded vector kept small (scalers.json): a column's category index (-1: none of them) or its
    standardised number, one value a column, not its one-hot vector (1,000 categories over 20,000 series
    were 224 MB of JSON)."""
    vector, at, kept = np.asarray(encoded, dtype="float64"), 0, []
    for spec in encoding:
        if "categories" in spec:
            hot = vector[at : at + len(spec["categories"])]
            kept.append(float(np.argmax(hot)) if hot.any() else -1.0)
            at += len(spec["categories"])
        else:
            kept.append(float(vector[at]))
            at += 1
    return kept


def expand(kept: list[Any], encoding: tuple[JSON, ...]) -> np.ndarray:
    """The encoded vector of `codes`' output: float32 (width,)."""
    if len(kept) != len(encoding):
        raise ValueError(f"{len(kept)} static codes for {len(encoding)} static columns")
    parts: list[float] = []
    for value, spec in zip(kept, encoding):
        if "categories" in spec:
            index = int(value)
            if not (value == index and -1 <= index < len(spec["categories"])):
                raise ValueError(f"static code {value!r} is no category of column {spec['column']!r}")
            parts += [float(k == index) for k in range(len(spec["categories"]))]
        else:
            parts.append(float(value))
    return np.asarray(parts, dtype="float32")
