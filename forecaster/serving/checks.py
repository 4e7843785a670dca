"""What is refused before any work, one set for the CLI and the Python API: the CLI runs these as soon as its
options are parsed (before TensorFlow loads or data is read), and each `Forecaster` method runs the same ones
before its own work, so a mistake gets the same one-line error whichever way it is made.

Light on purpose: importing this module loads neither numpy, pandas nor TensorFlow."""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import Any

from forecaster.errors import DataError, SettingsError
from forecaster.settings import Settings

Levels = tuple[float, ...] | list[float] | float | str  # interval levels in %: (80, 95), 80 or "80,95"

WIDE_TARGET = "value"  # a wide file's values have no column to name: they are called this


def as_levels(level: Levels) -> tuple[float, ...]:
    """Checked interval levels, sorted (`forecaster.scoring.calibration.parse_levels`); one number is one level."""
    from forecaster.scoring.calibration import parse_levels

    if isinstance(level, (int, float)) and not isinstance(level, bool):
        level = (level,)
    if level is None or not isinstance(level, (str, tuple, list)):
        raise SettingsError(f"level: give interval levels in % such as 80 or (80, 95), not {level!r}")
    return parse_levels(level if isinstance(level, str) else ",".join(map(str, level)))


def with_target(settings: Settings) -> Settings:
    """`settings`, which must name a target column to forecast (a wide file's, when none is named, is
    `WIDE_TARGET`)."""
    if "target" not in settings.data and settings.data.get("wide"):
        settings = settings.with_values("data", target=WIDE_TARGET)
    if "target" not in settings.data:
        raise SettingsError("--target is required: the column to forecast")
    return settings


def require_horizon(settings: Settings) -> None:
    if "horizon" not in settings.window:
        raise SettingsError("--horizon is required (how many steps ahead to forecast)")


def check_data_path(data: Any) -> None:
    """A data path that exists and is a file, or a directory some reader reads as shards (a DataFrame or a
    cluster frame passes: its own checks come when it is read)."""
    if not isinstance(data, (str, Path)) or Path(data).is_file():
        return
    from forecaster.io.readers import reader_for, readers

    if not Path(data).exists():
        raise DataError(f"{data}: file not found")
    if reader_for(data).fallback:
        shards = ", ".join(suffix for reader in readers() for suffix in reader.suffixes if not reader.fallback)
        raise DataError(f"{data}: not a file (a directory is read when it holds {shards} shards)")


def check_run_dir(run_dir: str | Path) -> None:
    if not Path(run_dir).is_dir():
        raise SettingsError(f"{run_dir}: no such run directory; train one with `forecaster train`")


def check_folds(folds: Any, step: Any) -> None:
    """Backtest origins and the steps between them: whole numbers of at least 1 (`step` None: the horizon)."""
    if not all(_whole(n) and n >= 1 for n in (folds, 1 if step is None else step)):
        raise SettingsError(f"--folds and --step must be whole numbers of at least 1, got {folds!r}, {step!r}")


def _whole(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def plot_beside(out: str | Path | None, plot: str | Path | None) -> Path | None:
    """Where a forecast's plot goes: `plot`, else beside `out` as .png (None when neither is given)."""
    if out is None and plot is None:
        return None
    return Path(plot or Path(str(out)).with_suffix(".png"))


def check_forecast_outputs(
    out: str | Path | None,
    plot: str | Path | None,
    inputs: tuple[Any, ...],
    engine: str = "local",
    series: Any = None,
) -> None:
    """Refuse an empty path, a plot asked of an engine (its workers keep the history), and an output (`out`, the
    plot `plot_beside` it) that would replace what forecaster did not make or cannot be written."""
    from forecaster.io.files import check_output_file

    for option, given in (("out", out), ("plot", plot)):
        if given is not None and not str(given).strip():
            raise SettingsError(f"{option} {str(given)!r}: give a file path (or None for no file)")
    if engine != "local" and (plot is not None or series):
        raise SettingsError(f"--plot and --series draw with --engine local only; leave them out with --engine {engine}")
    sources = tuple(given for given in inputs if isinstance(given, (str, Path)))
    for option, target in (("out", out), ("plot", plot_beside(out, plot) if engine == "local" else None)):
        if target is not None:
            check_output_file(Path(target), option, sources)
