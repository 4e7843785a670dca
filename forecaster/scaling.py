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

    A zero-variance column gets scale 1 (so a constant series stays finite) instead of a division by zero.
    """
    check_choice("scaler", kind, SCALERS)
    n_columns = train_values.shape[1]
    if kind == "none":
        return AffineScaler(np.zeros(n_columns), np.ones(n_columns))
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    if kind == "standard":
        fitted = StandardScaler().fit(train_values)
        center, scale = fitted.mean_, fitted.scale_
    elif kind == "minmax":
        fitted = MinMaxScaler().fit(train_values)
        # MinMaxScaler computes raw * scale_ + min_; rewrite as (raw - center) / scale
        scale = 1.0 / fitted.scale_
        center = -fitted.min_ * scale
    else:
        fitted = RobustScaler().fit(train_values)
        center, scale = fitted.center_, fitted.scale_
    scale = np.where(np.isfinite(scale) & (np.abs(scale) > 1e-12), scale, 1.0)
    return AffineScaler(np.asarray(center, dtype="float64"), np.asarray(scale, dtype="float64"))
