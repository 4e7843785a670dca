"""Typed configuration: what a run is made of, resolved once and saved as JSON in the run directory."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomllib

from forecaster.errors import ForecasterError

SCALERS = ("standard", "minmax", "robust", "none")
LOSSES = ("mse", "mae", "huber")
FILL_POLICIES = ("error", "interpolate", "ffill")
CELLS = ("lstm", "gru")
INSTANCE_NORMS = ("last", "mean", "last_std", "mean_std", "none")
POOLINGS = ("last", "attention")
LOSS_SCALES = ("series", "window")


@dataclass(frozen=True)
class DataConfig:
    """How to read the CSV: which columns hold what."""

    target: str
    time_col: str | None = None
    id_col: str | None = None
    features: tuple[str, ...] = ()
    wide: bool = False
    freq: str | None = None
    fill: str = "error"
    season: int | None = None


@dataclass(frozen=True)
class WindowConfig:
    """How series become (lookback -> horizon) windows, and how they are scaled and split."""

    horizon: int
    lookback: int
    patch: int = 1
    min_context: int = 1
    scaler: str = "standard"
    val_fraction: float = 0.2
    holdout: int = 0


@dataclass(frozen=True)
class ModelConfig:
    """The network: see `forecaster.model.build_model`."""

    lookback: int
    horizon: int
    n_features: int = 1
    patch: int = 1
    layers: tuple[int, ...] = (64, 64)
    cell: str = "lstm"
    bidirectional: bool = False
    dropout: float = 0.0
    instance_norm: str = "last"
    pooling: str = "last"
    linear_skip: bool = False
    l2: float = 0.0
    quantiles: tuple[float, ...] = ()
    calendar: tuple[str, ...] = ()  # cycles of known-future calendar features ("day", "week", "year")
    step_seconds: float = 0.0  # the length of one step, for the calendar features
    series_embedding: int = 0  # size of a learned per-series vector (0: none)
    n_series: int = 0  # rows of that embedding
    ensemble: int = 3  # networks trained with seeds seed, seed+1, ...; the forecast is their median
    use_cudnn: str | bool = "auto"


@dataclass(frozen=True)
class TrainConfig:
    """The optimisation: epochs, batches, early stopping, seeds."""

    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 1e-3
    loss: str = "mse"  # point forecasts only; quantile runs use the pinball loss
    loss_scale: str = "series"  # "window": each window's error divided by its inputs' spread (scale-free)
    clipnorm: float | None = 1.0
    patience: int = 5
    max_windows_per_epoch: int = 20_000
    max_val_windows: int = 20_000
    seed: int = 0
    deterministic: bool = True  # tf op determinism: identical runs for the same data, config and seed
    verbose: int = 1


@dataclass(frozen=True)
class RunConfig:
    """Everything a run was made from."""

    data: DataConfig
    window: WindowConfig
    model: ModelConfig
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunConfig:
        return cls(
            data=_build(DataConfig, raw["data"]),
            window=_build(WindowConfig, raw["window"]),
            model=_build(ModelConfig, raw["model"]),
            train=_build(TrainConfig, raw.get("train", {})),
        )


def _build(cls: Any, raw: dict[str, Any]) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = set(raw) - set(known)
    if unknown:
        raise ForecasterError(
            f"unknown {cls.__name__} setting(s): {', '.join(sorted(unknown))}; known: {', '.join(known)}"
        )
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    return cls(**values)


def read_config_file(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a TOML config with optional [data], [window], [model], [train] and [tune] tables."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ForecasterError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ForecasterError(f"{path}: not valid TOML ({exc})") from None
    sections = {"data", "window", "model", "train", "tune"}
    unknown = set(raw) - sections
    if unknown:
        raise ForecasterError(
            f"{path}: unknown section(s) {', '.join(sorted(unknown))}; use {', '.join(sorted(sections))}"
        )
    return {name: dict(raw.get(name, {})) for name in sections}


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ForecasterError(f"--{name.replace('_', '-')} must be one of {', '.join(choices)}, got {value!r}")
