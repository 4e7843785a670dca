"""The run directory: everything needed to forecast again, written atomically and checked on load."""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from forecaster import __version__
from forecaster.config import RunConfig
from forecaster.data.scaling import AffineScaler
from forecaster.errors import ForecasterError
from forecaster.io.files import write_json

RUN_FORMAT = 1
MODEL_FILE = "model.keras"
CALIBRATION_FILE = (
    "calibration.json"  # conformal score quantiles (forecaster.scoring.calibration); runs before it lack it
)
SELECTION_FILE = "selection.json"  # which method serves each series (forecaster.scoring.selection)
REQUIRED = (MODEL_FILE, "config.json", "scalers.json", "manifest.json")


@dataclass
class SeriesState:
    """What training knew of one series: its scaler and where its data was cut."""

    scaler: AffineScaler
    n_train: int
    n_fit: int
    length: int
    last_time: str
    static: tuple[float, ...] = ()  # its encoded --static covariates (forecaster.data.static)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.scaler.to_json(),
            "n_train": self.n_train,
            "n_fit": self.n_fit,
            "length": self.length,
            "last_time": self.last_time,
            **({"static": list(self.static)} if self.static else {}),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SeriesState:
        static = tuple(float(v) for v in raw.get("static", ()))
        return cls(AffineScaler.from_json(raw), raw["n_train"], raw["n_fit"], raw["length"], raw["last_time"], static)


@dataclass
class Run:
    """A loaded run directory."""

    path: Path
    config: RunConfig
    freq: str
    season: int
    series: dict[str, SeriesState]
    manifest: dict[str, Any]
    dropped: list[str]  # series of the training file too short to train on

    def calibration(self) -> Any:
        """The run's conformal calibration (`forecaster.scoring.calibration.Calibration`), checked."""
        from forecaster.scoring.calibration import Calibration

        path = self.path / CALIBRATION_FILE
        if not path.is_file():
            raise ForecasterError(
                f"{self.path}: this run has no {CALIBRATION_FILE} (made before intervals); retrain it"
            )
        try:
            raw = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ForecasterError(f"{path}: corrupt ({exc}); retrain the run") from None
        return Calibration.from_json(raw, self.config.window.horizon)

    def selection(self) -> Any:
        """Which method serves each series (`forecaster.scoring.selection.Selection`); None for a run made
        before the validation guard (the network serves every series it can)."""
        from forecaster.scoring.selection import Selection

        path = self.path / SELECTION_FILE
        if not path.is_file():
            return None
        try:
            return Selection.from_json(json.loads(path.read_text()))
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, TypeError, ValueError) as exc:
            raise ForecasterError(f"{path}: corrupt ({exc}); retrain the run") from None

    def load_model(self) -> Any:
        import keras

        import forecaster.models.layers  # noqa: F401  (registers the custom layers)
        import forecaster.models.network  # noqa: F401  (registers the loss)

        try:
            return keras.saving.load_model(self.path / MODEL_FILE, safe_mode=True)
        except Exception as exc:  # a corrupt or foreign file: say which, not a traceback
            raise ForecasterError(f"{self.path / MODEL_FILE}: cannot load the model ({exc}); retrain the run") from None


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"forecaster": __version__}
    for name in ("tensorflow", "keras", "numpy", "pandas", "scikit-learn"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(directory: Path, extra: dict[str, Any]) -> None:
    """Checksum every file in `directory` into manifest.json (written last)."""
    files = {p.name: _sha256(p) for p in sorted(directory.iterdir()) if p.is_file() and p.name != "manifest.json"}
    write_json(
        directory / "manifest.json",
        {
            "format": RUN_FORMAT,
            "versions": library_versions(),
            **extra,
            "files": files,
        },
    )


def load_run(path: str | Path, verify: bool = True) -> Run:
    """Read and check a run directory (files present, checksums, format version)."""
    path = Path(path)
    if not path.is_dir():
        raise ForecasterError(f"{path}: no such run directory; train one with `forecaster train`")
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if missing and (path / "best" / "manifest.json").is_file():
        raise ForecasterError(f"{path}: a `forecaster tune` folder; its run directory is {path / 'best'}")
    if missing:
        raise ForecasterError(f"{path}: not a complete run directory (missing {', '.join(missing)}); retrain it")
    try:
        manifest = json.loads((path / "manifest.json").read_text())
        raw_config = json.loads((path / "config.json").read_text())
        raw_series = json.loads((path / "scalers.json").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ForecasterError(f"{path}: corrupt run directory ({exc}); retrain it") from None
    if manifest.get("format") != RUN_FORMAT:
        raise ForecasterError(
            f"{path}: written by run format {manifest.get('format')!r} (forecaster "
            f"{manifest.get('versions', {}).get('forecaster', '?')}); "
            f"this version reads format {RUN_FORMAT}: retrain it"
        )
    listed = manifest.get("files", {}) if isinstance(manifest, dict) else {}
    if not isinstance(listed, dict):
        raise ForecasterError(f"{path}: corrupt run directory (manifest files); retrain it")
    for name in listed:  # a run directory is untrusted input: it names only its own plain files
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
            raise ForecasterError(f"{path}: damaged run: its manifest names {str(name)[:60]!r}, not a file of the run")
    unlisted = [name for name in REQUIRED if name != "manifest.json" and name not in listed]
    if unlisted:
        raise ForecasterError(f"{path}: damaged run: its manifest does not list {', '.join(unlisted)}; retrain it")
    if verify:
        for name, digest in listed.items():
            file = path / name
            if not file.is_file() or _sha256(file) != digest:
                raise ForecasterError(f"{file}: missing or changed since training (checksum mismatch); retrain the run")
    try:
        config = RunConfig.from_dict(raw_config["run"])
        series = {sid: SeriesState.from_json(state) for sid, state in raw_series.items()}
        for sid, state in series.items():
            scaler = state.scaler
            if not (np.all(np.isfinite(scaler.center)) and np.all(np.isfinite(scaler.scale)) and np.all(
                (np.abs(scaler.scale) > 0) & (np.abs(scaler.scale) < 1e150))):  # fmt: skip
                raise ForecasterError(f"{path}: damaged run: series {sid!r} has scaler values out of range; retrain it")
        return Run(
            path,
            config,
            raw_config["freq"],
            raw_config["season"],
            series,
            manifest,
            list(raw_config.get("dropped_series", [])),
        )
    except (KeyError, TypeError) as exc:
        raise ForecasterError(f"{path}: corrupt run directory (bad field {exc}); retrain it") from None
    except ForecasterError as exc:  # a value out of range in config.json (checked as options are)
        raise ForecasterError(f"{path}: damaged run: config.json: {exc}; retrain it") from None
