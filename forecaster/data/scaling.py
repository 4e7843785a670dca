"""Per-series scaling fitted on each series' training part only, stored as JSON numbers (no pickle)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecaster.config import SCALERS, check_choice


@dataclass(frozen=True)
class AffineScaler:
    """`scaled = (raw - center) / scale`, one (center, scale) per column.

    Every scikit-learn scaler we offer (standard, minmax, robust) is affine, so after fitting we keep
    only these two vectors: they go to JSON, into a SavedModel graph, or anywhere else.
    """

    center: np.ndarray  # float64 (n_columns,)
    scale: np.ndarray  # float64 (n_columns,)

    def transform(self, raw: np.ndarray) -> np.ndarray:
        return (raw - self.center) / self.scale

    def inverse(self, scaled: np.ndarray, column: int = 0) -> np.ndarray:
        return scaled * self.scale[column] + self.center[column]

    def to_json(self) -> dict[str, list[float]]:
        return {"center": self.center.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_json(cls, raw: dict[str, list[float]]) -> AffineScaler:
        return cls(np.asarray(raw["center"], dtype="float64"), np.asarray(raw["scale"], dtype="float64"))


def fit_scaler(kind: str, train_values: np.ndarray) -> AffineScaler:
    """Fit a scikit-learn scaler on `train_values` (n, columns) and keep its affine parameters.

    A column whose spread is below 1e-9 of its largest magnitude gets that magnitude as its scale (1
    when it is all zeros) instead of a division by zero or a scale unrelated to its size.
    """
    check_choice("scaler", kind, SCALERS)
    n_columns = train_values.shape[1]
    if kind == "none":
        return AffineScaler(np.zeros(n_columns), np.ones(n_columns))
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    if kind == "standard":  # StandardScaler's own numbers, without its "tiny spread -> scale 1" (see below)
        fitted = StandardScaler().fit(train_values)
        center, scale = fitted.mean_, np.sqrt(fitted.var_)
    elif kind == "minmax":
        fitted = MinMaxScaler().fit(train_values)
        # MinMaxScaler computes raw * scale_ + min_; rewrite as (raw - center) / scale
        scale = 1.0 / fitted.scale_
        center = -fitted.min_ * scale
    else:
        fitted = RobustScaler().fit(train_values)
        center, scale = fitted.center_, fitted.scale_
    # a spread tiny against the column's size (a constant series) is no spread: scale by the size itself
    # (1 for zeros), so later values stay near 1; a column that lives at 1e-13 keeps its own spread
    # (a fixed 1e-12 cut-off scaled it by 1, and its forecasts were noise of the wrong sign)
    size = np.max(np.abs(train_values), axis=0) if len(train_values) else np.zeros(n_columns)
    fallback = np.where(size > 0, size, 1.0)
    scale = np.where(np.isfinite(scale) & (np.abs(scale) > 1e-9 * size) & (scale != 0), scale, fallback)
    return AffineScaler(np.asarray(center, dtype="float64"), np.asarray(scale, dtype="float64"))
