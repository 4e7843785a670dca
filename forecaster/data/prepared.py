"""What training knows of each series and of its windows: each series' scaler and cuts (`SeriesState`, kept
in a run's scalers.json) and the panel cut, scaled and indexed for training (`Prepared`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecaster.data.scaling import AffineScaler
from forecaster.data.static import codes, expand
from forecaster.data.windowing import WindowIndex, WindowSource
from forecaster.kinds import JSON


@dataclass
class SeriesState:
    """What training knew of one series: its scaler and where its data was cut."""

    scaler: AffineScaler
    n_train: int
    n_fit: int
    length: int
    last_time: str
    static: tuple[float, ...] = ()  # its encoded --static covariates (forecaster.data.static)
    tail_sha256: str = ""  # of the last `tail_points` rows training saw (all columns, float64): `update` compares
    tail_points: int = 0

    def to_json(self, encoding: tuple[JSON, ...] = ()) -> JSON:
        """As scalers.json keeps it; with the run's static `encoding`, the statics as one code a column."""

        statics = {"static_codes": codes(self.static, encoding)} if encoding else {"static": list(self.static)}
        return {
            **self.scaler.to_json(),
            "n_train": self.n_train,
            "n_fit": self.n_fit,
            "length": self.length,
            "last_time": self.last_time,
            **(statics if self.static else {}),
            **({"tail_sha256": self.tail_sha256, "tail_points": self.tail_points} if self.tail_points else {}),
        }

    @classmethod
    def from_json(cls, raw: JSON, encoding: tuple[JSON, ...] = ()) -> SeriesState:
        """Read back, checked (a run directory is untrusted input): counts are whole numbers, the time
        is text, the scaler has one finite (center, scale) per column and the encoded statics are finite.
        Statics kept as codes (`static_codes`) are expanded with the run's `encoding`."""

        kept = raw.get("static_codes")
        static = tuple(expand(list(kept), encoding).tolist()) if kept is not None else ()
        static = static or tuple(float(v) for v in raw.get("static", ()))
        counts = [raw["n_train"], raw["n_fit"], raw["length"]]
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
            raise TypeError("n_train, n_fit and length must be whole numbers")
        if not isinstance(raw["last_time"], str) or not all(np.isfinite(static)):
            raise TypeError("last_time must be text and static values finite numbers")
        scaler = AffineScaler.from_json(raw)
        if scaler.center.ndim != 1 or scaler.center.shape != scaler.scale.shape:
            raise TypeError("center and scale must be lists of one number per column")
        tail, points = raw.get("tail_sha256", ""), raw.get("tail_points", 0)  # runs made before it have none
        if not (isinstance(tail, str) and isinstance(points, int) and not isinstance(points, bool) and points >= 0):
            raise TypeError("tail_sha256 must be text and tail_points a whole number")
        return cls(scaler, raw["n_train"], raw["n_fit"], raw["length"], raw["last_time"], static, tail, points)


@dataclass
class Prepared:
    """The panel cut, scaled and indexed for training."""

    states: dict[str, SeriesState]
    source: WindowSource
    train_index: WindowIndex
    val_index: WindowIndex
    fit_index: WindowIndex  # every window before the holdout: what the final epochs train on
    kept: list[int]  # panel positions of the series used
    dropped: list[str]
