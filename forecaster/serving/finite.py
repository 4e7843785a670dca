"""No output holds a number the user did not give: data the network cannot compute with is refused before
it forecasts, and a forecast or band that still came out NaN or infinite is refused, naming its series,
rather than written as an empty cell or scored as `nan`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from forecaster.errors import DataError
from forecaster.io.plain import plain_time

# the largest |value| in training scales (distance from the series' training centre over its training scale)
# the network is given: it computes in float32, whose squares overflow past about 1.8e19 (its window norm
# squares its inputs); 1e9 training scales is no change of level a model learnt anything about
SCALED_LIMIT = 1e9


def check_scaled(scaled: np.ndarray, series: Any, path: str) -> np.ndarray:
    """`scaled` (rows, columns), the values of `series` (a `Series`) in its training scales, or a one-line
    DataError at its first value past SCALED_LIMIT."""
    with np.errstate(invalid="ignore", over="ignore"):
        wild = np.abs(scaled) > SCALED_LIMIT
    if not wild.any():
        return scaled
    row = int(np.flatnonzero(wild.any(axis=1))[0]) if scaled.ndim > 1 else int(np.flatnonzero(wild)[0])
    raise DataError(
        f"{path}: series {series.series_id!r} at {plain_time(series.time[row])}: a value more than "
        f"{SCALED_LIMIT:.0e} times the series' training scale away from its training level; the network cannot "
        "forecast from it. Check the data "
        "for a unit or entry error, or train a run on data like it"
    )


def check_finite(forecasts: dict[str, np.ndarray], series_ids: Sequence[str], path: str) -> None:
    """Each of `forecasts` (name -> (rows, ...), row i of series `series_ids[i]`) finite on every row, or a
    one-line DataError naming the first series whose forecast (or band) is NaN or infinite."""
    for name, values in forecasts.items():
        bad = ~np.isfinite(np.asarray(values, dtype="float64").reshape(len(values), -1)).all(axis=1)
        if bad.any():
            sid = series_ids[int(np.flatnonzero(bad)[0])]
            raise DataError(
                f"{path}: series {sid!r}: its {name} is not a finite number (its values are too large or too far "
                "apart to compute with); check the data for a unit or entry error, or rescale it"
            )
