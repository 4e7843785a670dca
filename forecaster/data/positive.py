"""`--transform log` takes the natural logarithm of the target: where it may reach (every value above zero) and
the one-line refusal of a value that is not."""

from __future__ import annotations

import numpy as np

from forecaster.data.series import Panel
from forecaster.errors import DataError
from forecaster.io.plain import plain_time


def first_not_positive(panel: Panel) -> tuple[int, int] | None:
    """(series position, row) of the first target value at or below zero (gaps left empty are not values), or None."""
    for i, series in enumerate(panel.series):
        with np.errstate(invalid="ignore"):
            rows = np.flatnonzero(series.values[:, 0] <= 0)
        if len(rows):
            return i, int(rows[0])
    return None


def all_positive(panel: Panel) -> bool:
    """Whether every target value of `panel` is above zero: where `--transform log` may be the default."""
    return first_not_positive(panel) is None


def refuse_not_positive(panel: Panel, target: str, what_to_do: str) -> None:
    """A one-line DataError at the first target value of `panel` at or below zero; `what_to_do` ends it."""
    found = first_not_positive(panel)
    if found is None:
        return
    series = panel.series[found[0]]
    value = series.values[found[1], 0]
    raise DataError(
        f"{panel.path}: column {target!r}, series {series.series_id!r} at {plain_time(series.time_at(found[1]))}: "
        f"{value:g} is not above zero, and --transform log forecasts the logarithm of the values; {what_to_do}"
    )
