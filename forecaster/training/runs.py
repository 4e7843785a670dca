"""The run directory: everything needed to forecast again, written atomically and checked on load."""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecaster.config import RunConfig
from forecaster.data.prepared import SeriesState
from forecaster.data.series import Series
from forecaster.errors import DamagedRunError, ForecasterError, SettingsError
from forecaster.io.files import write_json
from forecaster.kinds import JSON, Network
from forecaster.scoring.adaptive import Realised
from forecaster.scoring.calibration import Calibration
from forecaster.scoring.selection import Selection
from forecaster.version import __version__

RUN_FORMAT = 1
MODEL_FILE = "model.keras"
CALIBRATION_FILE = (
    "calibration.json"  # conformal score quantiles (forecaster.scoring.calibration); runs before it lack it
)
SELECTION_FILE = "selection.json"  # which method serves each series (forecaster.scoring.selection)
# the networks' weights as early stopping left them, where the final epochs then trained them on every window
# (the validation part's too): what an update starts from, so the windows it validates on are new to it
VALIDATED_FILE = "validated.weights.h5"
# an updated run's: the served windows whose actuals the update knew, those its parent carried and then the
# parent's after training (`forecaster.scoring.adaptive.Realised`), which its adaptive bands learn from first
REALISED_FILE = "realised.npz"
REQUIRED = (MODEL_FILE, "config.json", "scalers.json", "manifest.json")


@dataclass
class Run:
    """A loaded run directory."""

    path: Path
    config: RunConfig
    freq: str
    season: int
    series: dict[str, SeriesState]
    manifest: JSON
    dropped: list[str]  # series of the training file too short to train on

    def calibration(self) -> Calibration:
        """The run's conformal calibration (`forecaster.scoring.calibration.Calibration`), checked."""

        path = self.path / CALIBRATION_FILE
        if not path.is_file():
            raise DamagedRunError(
                f"{self.path}: this run has no {CALIBRATION_FILE} (made before intervals); retrain it"
            )
        try:
            raw = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DamagedRunError(f"{path}: corrupt ({exc}); retrain the run") from None
        return Calibration.from_json(raw, self.config.window.horizon)

    def selection(self) -> Selection | None:
        """Which method serves each series (`forecaster.scoring.selection.Selection`); None for a run made
        before the validation guard (the network serves every series it can)."""

        path = self.path / SELECTION_FILE
        if not path.is_file():
            return None
        try:
            return Selection.from_json(json.loads(path.read_text()))
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, TypeError, ValueError, LookupError) as exc:
            raise DamagedRunError(f"{path}: corrupt ({exc}); retrain the run") from None

    def realised(self) -> Realised | None:
        """The windows this run's adaptive bands learn from before its own (`REALISED_FILE`), checked; None for
        a run trained from scratch."""
        path = self.path / REALISED_FILE
        if not path.is_file():
            return None
        return Realised.load(path, self.config.window.horizon, len(self.config.model.quantiles))

    def load_model(self) -> Network:
        import keras

        import forecaster.models.layers  # noqa: F401  (registers the custom layers)
        import forecaster.models.network  # noqa: F401  (registers the loss)

        try:
            model = keras.saving.load_model(self.path / MODEL_FILE, safe_mode=True)
        except Exception as exc:  # a corrupt or foreign file: say which, not a traceback
            raise DamagedRunError(f"{self.path / MODEL_FILE}: cannot load the model ({exc}); retrain the run") from None
        self._check_shapes(model)
        return model

    def load_validated_model(self) -> Network:
        """The run's networks as early stopping left them, before the final epochs trained them on the
        validation part (`VALIDATED_FILE`); the served ones where there were no final epochs."""
        model = self.load_model()
        path = self.path / VALIDATED_FILE
        if path.is_file():
            try:
                model.load_weights(path)
            except Exception as exc:  # a corrupt or foreign file: say which, not a traceback
                raise DamagedRunError(f"{path}: cannot load the weights ({exc}); retrain the run") from None
        return model

    def _check_shapes(self, model: Network) -> None:
        """The model's windows and forecasts must have the shapes config.json describes (a config edited and
        rehashed after training would otherwise fail deep inside a forecast)."""
        cfg = self.config
        values = next((tuple(i.shape[1:]) for i in model.inputs if i.name == "values"), ())
        expected = (cfg.model.lookback, cfg.model.n_features)
        found = (values, model.outputs[0].shape[1])
        agree = (cfg.window.horizon, cfg.window.lookback, cfg.window.patch) == (
            cfg.model.horizon, cfg.model.lookback, cfg.model.patch
        )  # fmt: skip
        if not agree or found != (expected, cfg.model.horizon):
            raise DamagedRunError(
                f"{self.path}: damaged run: config.json describes windows of {cfg.window.lookback} steps and a "
                f"horizon of {cfg.window.horizon}, the model takes {found[0][0] if found[0] else '?'} and forecasts "
                f"{found[1]}; retrain it"
            )


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"forecaster": __version__}
    for name in ("tensorflow", "keras", "numpy", "pandas", "scikit-learn"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(directory: Path, extra: JSON) -> None:
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


# optional files of a run, and the train setting that came with each: a run whose config.json has the
# setting was written with the file, so the file must be listed in its manifest (and so hashed): deleting
# a file together with its manifest entry does not turn a run into an older one
NEEDED_WITH_SETTING = {CALIBRATION_FILE: "interval_spread", SELECTION_FILE: "select"}
NEEDED_IF_THERE = (VALIDATED_FILE, REALISED_FILE)  # written only where final epochs ran, and by updates


def _needed_files(path: Path, raw_config: JSON) -> list[str]:
    """The files the manifest of the run in `path` must list: the required ones, those its settings say
    it was written with, and any of the run's known files that is there at all."""
    train = raw_config.get("run", {}).get("train", {}) if isinstance(raw_config.get("run"), dict) else {}
    needed = [name for name in REQUIRED if name != "manifest.json"]
    for name, setting in NEEDED_WITH_SETTING.items():
        if (isinstance(train, dict) and setting in train) or (path / name).exists():
            needed.append(name)
    return needed + [name for name in NEEDED_IF_THERE if (path / name).exists()]


def check_lineage(path: Path, parent: object) -> None:
    """An updated run's manifest names its parent: the path it was updated from, the sha256 of that run's
    manifest (64 hex digits) and what the update renewed (a list of words). Anything else there is damage."""
    if parent is None:
        return
    ok = (
        isinstance(parent, dict)
        and isinstance(parent.get("path"), str)
        and isinstance(parent.get("sha256"), str)
        and len(parent["sha256"]) == 64
        and all(c in "0123456789abcdef" for c in parent["sha256"])
        and isinstance(parent.get("renewed"), list)
        and all(isinstance(word, str) for word in parent["renewed"])
    )
    if not ok:
        raise DamagedRunError(f"{path}: damaged run: its manifest's parent (the run it was updated from) is malformed")


def load_run(path: str | Path, verify: bool = True) -> Run:
    """Read and check a run directory (files present, checksums, format version)."""
    path = Path(path)
    if not path.is_dir():
        raise SettingsError(f"{path}: no such run directory; train one with `forecaster train`")
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if missing and (path / "best" / "manifest.json").is_file():
        raise SettingsError(f"{path}: a `forecaster tune` folder; its run directory is {path / 'best'}")
    if missing:
        raise DamagedRunError(f"{path}: not a complete run directory (missing {', '.join(missing)}); retrain it")
    try:
        manifest = json.loads((path / "manifest.json").read_text())
        raw_config = json.loads((path / "config.json").read_text())
        raw_series = json.loads((path / "scalers.json").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DamagedRunError(f"{path}: corrupt run directory ({exc}); retrain it") from None
    if not isinstance(manifest, dict) or not isinstance(raw_config, dict) or not isinstance(raw_series, dict):
        raise DamagedRunError(f"{path}: damaged run: manifest.json, config.json and scalers.json must be objects")
    if manifest.get("format") != RUN_FORMAT:
        raise DamagedRunError(
            f"{path}: written by run format {manifest.get('format')!r} (forecaster "
            f"{manifest.get('versions', {}).get('forecaster', '?')}); "
            f"this version reads format {RUN_FORMAT}: retrain it"
        )
    listed = manifest.get("files", {}) if isinstance(manifest, dict) else {}
    if not isinstance(listed, dict):
        raise DamagedRunError(f"{path}: corrupt run directory (manifest files); retrain it")
    for name in listed:  # a run directory is untrusted input: it names only its own plain files
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
            raise DamagedRunError(f"{path}: damaged run: its manifest names {str(name)[:60]!r}, not a file of the run")
    check_lineage(path, manifest.get("parent"))
    unlisted = [name for name in _needed_files(path, raw_config) if name not in listed]
    if unlisted:
        raise DamagedRunError(f"{path}: damaged run: its manifest does not list {', '.join(unlisted)}; retrain it")
    if verify:
        for name, digest in listed.items():
            file = path / name
            if file.is_symlink():  # a link could lead out of the run, to a file nobody checked
                raise DamagedRunError(f"{file}: damaged run: a symbolic link, not a file of the run; retrain it")
            if not file.is_file() or _sha256(file) != digest:
                raise DamagedRunError(f"{file}: missing or changed since training (checksum mismatch); retrain the run")
    try:
        config = RunConfig.from_dict(raw_config["run"])
        encoding = config.model.static_encoding
        series = {sid: SeriesState.from_json(state, encoding) for sid, state in raw_series.items()}
        for sid, state in series.items():
            scaler = state.scaler
            if len(scaler.center) != config.model.n_features:
                raise TypeError(f"series {str(sid)[:40]!r} has {len(scaler.center)} scaler columns, the model "
                                f"{config.model.n_features}")  # fmt: skip
            if not (np.all(np.isfinite(scaler.center)) and np.all(np.isfinite(scaler.scale)) and np.all(
                (np.abs(scaler.scale) > 0) & (np.abs(scaler.scale) < 1e150))):  # fmt: skip
                raise DamagedRunError(f"{path}: damaged run: series {sid!r} has scaler values out of range; retrain it")
        season = raw_config["season"]
        longest = max([config.window.lookback, *(state.length for state in series.values())])
        if not (isinstance(season, int) and not isinstance(season, bool) and 1 <= season <= longest):
            raise SettingsError(f"season {str(season)[:20]!r} is not a whole number from 1 to {longest}")
        return Run(
            path,
            config,
            raw_config["freq"],
            season,
            series,
            manifest,
            list(raw_config.get("dropped_series", [])),
        )
    except ForecasterError as exc:  # a value out of range in config.json (checked as options are)
        raise DamagedRunError(f"{path}: damaged run: config.json: {exc}; retrain it") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DamagedRunError(f"{path}: damaged run: bad field ({str(exc)[:80]}); retrain it") from None


def tail_digest(values: np.ndarray) -> str:
    """The sha256 of rows of a series' values (float64, as read), as `SeriesState.tail_sha256` keeps it."""
    return hashlib.sha256(np.ascontiguousarray(values, dtype="float64").tobytes()).hexdigest()


def trained_until(run: Run, series: Series) -> int:
    """How many of `series`' points (as given now) lie at or before the last point training used: found by
    time, not by position, so a file with older rows prepended is still cut where training stopped."""
    state = run.series[series.series_id]
    found = rows_until(series, state.last_time)
    return state.n_fit if found is None else found[0]  # a run from a file of another kind of time: the position


def rows_until(series: Series, last_time: str) -> tuple[int, bool] | None:
    """How many of `series`' rows lie at or before `last_time` (a run's last trained time, as scalers.json keeps
    it), found by time, not position, and whether that time is one of its rows; None when the series' times
    are of another kind (dates against step numbers)."""
    import pandas as pd

    times = np.asarray(series.time)
    try:
        stamp = np.asarray(int(last_time) if times.dtype.kind in "iu" else pd.Timestamp(last_time), dtype=times.dtype)
    except (TypeError, ValueError):
        return None
    end = int(np.searchsorted(times, stamp, side="right"))
    return end, bool(end and times[end - 1] == stamp)
