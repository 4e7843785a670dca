"""Per-series scaling fitted on each series' training part only, stored as JSON numbers (no pickle)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from forecaster.config import SCALERS, check_choice


@dataclass(frozen=True)
class AffineScaler:
    """`scaled = (raw - center) / scale`, one (center, scale) per column; with `log`, the target (column 0)
    is taken as its natural logarithm first (`--transform log`: positive series, errors relative to the level).

    Every scikit-learn scaler we offer (standard, minmax, robust) is affine, so after fitting we keep
    only these two vectors (and the flag): they go to JSON, into a SavedModel graph, or anywhere else.
    """

    center: np.ndarray  # float64 (n_columns,)
    scale: np.ndarray  # float64 (n_columns,)
    log: bool = False

    def transform(self, raw: np.ndarray) -> np.ndarray:
        if self.log:
            raw = logged(raw)
        return (raw - self.center) / self.scale

    def inverse(self, scaled: np.ndarray, column: int = 0) -> np.ndarray:
        return unscaled(scaled, self.center[column], self.scale[column], self.log and column == 0)

    @property
    def spread(self) -> float:
        """The target's scale in original units: `scale[0]`, or with `log` exp(center) x scale (the spread of
        values whose logarithm has that mean and spread, to first order)."""
        return float(np.exp(self.center[0]) * self.scale[0] if self.log else self.scale[0])

    def to_json(self) -> dict[str, list[float] | bool]:
        return {"center": self.center.tolist(), "scale": self.scale.tolist(), **({"log": True} if self.log else {})}

    @classmethod
    def from_json(cls, raw: dict[str, list[float]]) -> AffineScaler:
        log = raw.get("log", False)  # runs made before `--transform` have none
        if not isinstance(log, bool):
            raise TypeError("log must be true or false")
        return cls(np.asarray(raw["center"], dtype="float64"), np.asarray(raw["scale"], dtype="float64"), log)


def fit_scaler(kind: str, train_values: np.ndarray, log: bool = False) -> AffineScaler:
    """Fit a scikit-learn-style scaler on `train_values` (n, columns) and keep its affine parameters; with
    `log`, on the logarithm of the target column (its values above zero: `forecaster.data.positive`).

    The numbers are scikit-learn's (StandardScaler's mean and population std, MinMaxScaler's range,
    RobustScaler's median and interquartile range, NaN ignored), computed with numpy: a forecast of 10,000
    unseen series fits 10,000 scalers, and sklearn's checks cost 0.6 ms a fit (6 s), numpy's 0.05 ms.
    A column whose spread is below 1e-9 of its largest magnitude gets that magnitude as its scale (1
    when it is all zeros) instead of a division by zero or a scale unrelated to its size.
    """
    check_choice("scaler", kind, SCALERS)
    if log:
        return replace(fit_scaler(kind, logged(train_values)), log=True)
    n_columns = train_values.shape[1]
    if kind == "none" or not len(train_values):
        return AffineScaler(np.zeros(n_columns), np.ones(n_columns))
    values = np.asarray(train_values, dtype="float64")
    if kind == "standard" and not np.isnan(values).any():  # the usual case, without nan-functions' cost
        center = values.mean(axis=0)
        scale = np.sqrt(((values - center) ** 2).mean(axis=0))
        return affine(center, scale, np.abs(values).max(axis=0))
    with warnings.catch_warnings():  # an all-NaN column: NaN, replaced below as sklearn's would be
        warnings.simplefilter("ignore", RuntimeWarning)
        if kind == "standard":
            center = np.nanmean(values, axis=0)
            scale = np.sqrt(np.nanmean((values - center) ** 2, axis=0))
        elif kind == "minmax":  # sklearn maps a zero range to 1
            center = np.nanmin(values, axis=0)
            scale = without_zeros(np.nanmax(values, axis=0) - center)
        else:
            low, center, high = np.nanpercentile(values, [25.0, 50.0, 75.0], axis=0)
            scale = without_zeros(high - low)
        # a spread tiny against the column's size (a constant series) is no spread: scale by the size itself
        # (1 for zeros), so later values stay near 1; a column that lives at 1e-13 keeps its own spread
        # (a fixed 1e-12 cut-off scaled it by 1, and its forecasts were noise of the wrong sign)
        size = np.nanmax(np.abs(values), axis=0)
    return affine(center, scale, size)


def fit_scalers(kind: str, series: list[np.ndarray], log: bool = False) -> list[AffineScaler]:
    """`fit_scaler` for each array of `series`, the standard scaler of complete series fitted for all at
    once (each series' sums taken on its own, so its scaler does not depend on which others come along):
    a forecast of 40,000 unseen series fitted one at a time spent a second on numpy's per-call cost."""
    if log:
        return [replace(scaler, log=True) for scaler in fit_scalers(kind, [logged(values) for values in series])]
    lengths = np.array([len(values) for values in series], dtype="int64")
    if kind != "standard" or not len(series) or not lengths.all():
        return [fit_scaler(kind, values) for values in series]
    flat = np.concatenate(series).astype("float64", copy=False)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    gappy = np.add.reduceat(np.isnan(flat).any(axis=1), starts) > 0
    center = np.add.reduceat(flat, starts, axis=0) / lengths[:, None]
    spread = np.sqrt(
        np.add.reduceat((flat - np.repeat(center, lengths, axis=0)) ** 2, starts, axis=0) / lengths[:, None]
    )
    size = np.maximum.reduceat(np.abs(flat), starts, axis=0)
    whole = affine(center, spread, size)
    return [
        fit_scaler(kind, values) if gappy[i] else AffineScaler(whole.center[i], whole.scale[i])
        for i, values in enumerate(series)
    ]


def unscaled(scaled: np.ndarray, center: np.ndarray | float, scale: np.ndarray | float, log: bool) -> np.ndarray:
    """`scaled` back in the data's units: the affine map undone, then with `log` the exponential (the target of a
    `--transform log` run); `center` and `scale` broadcast against `scaled`."""
    values = scaled * scale + center
    return np.exp(values) if log else values


def logged(values: np.ndarray) -> np.ndarray:
    """(..., columns) `values` with the target column (0) as its natural logarithm (a value at or below zero,
    which callers refuse first (`forecaster.data.positive`), as NaN or -inf, without a warning)."""
    out = np.array(values, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out[..., 0] = np.log(out[..., 0])
    return out


def affine(center: np.ndarray, scale: np.ndarray, size: np.ndarray) -> AffineScaler:
    """The scaler, a spread tiny against the column's size (`fit_scaler`) replaced by that size."""
    size = np.where(np.isfinite(size), size, 0.0)
    fallback = np.where(size > 0, size, 1.0)
    scale = np.where(np.isfinite(scale) & (np.abs(scale) > 1e-9 * size) & (scale != 0), scale, fallback)
    return AffineScaler(np.asarray(center, dtype="float64"), np.asarray(scale, dtype="float64"))


def without_zeros(spread: np.ndarray) -> np.ndarray:
    """scikit-learn's `_handle_zeros_in_scale`: a spread below 10 machine epsilons becomes 1."""
    return np.where(spread < 10 * np.finfo("float64").eps, 1.0, spread)
