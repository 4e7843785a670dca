"""What is refused before any work, one set for the CLI and the Python API: the CLI runs these as soon as its
options are parsed (before TensorFlow loads or data is read), and each `Forecaster` method runs the same ones
before its own work, so a mistake gets the same one-line error whichever way it is made.

Light on purpose: importing this module loads neither numpy, pandas nor TensorFlow."""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import TypeGuard

from forecaster.config import LEVEL_STEP, TOP_LEVEL
from forecaster.errors import DataError, SettingsError, install_line
from forecaster.io.outputs import check_output_file
from forecaster.io.readers import reader_for, readers
from forecaster.serving.clusters import clusters
from forecaster.settings import Settings

Levels = tuple[float, ...] | list[float] | float | str  # interval levels in %: (80, 95), 80 or "80,95"

WIDE_TARGET = "value"  # a wide file's values have no column to name: they are called this


def as_levels(level: Levels) -> tuple[float, ...]:
    """Checked interval levels, sorted (`parse_levels`); one number is one level."""

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


def check_data_path(data: object) -> None:
    """A data path that exists and is a file, or a directory some reader reads as shards (a DataFrame or a
    cluster frame passes: its own checks come when it is read)."""
    if not isinstance(data, (str, Path)) or Path(data).is_file():
        return

    if not Path(data).exists():
        raise DataError(f"{data}: file not found")
    if reader_for(data).fallback:
        shards = ", ".join(suffix for reader in readers() for suffix in reader.suffixes if not reader.fallback)
        raise DataError(f"{data}: not a file (a directory is read when it holds {shards} shards)")


def check_run_dir(run_dir: str | Path) -> None:
    if not Path(run_dir).is_dir():
        raise SettingsError(f"{run_dir}: no such run directory; train one with `forecaster train`")


def check_folds(folds: object, step: object) -> None:
    """Backtest origins and the steps between them: whole numbers of at least 1 (`step` None: the horizon)."""
    if not all(_whole(n) and n >= 1 for n in (folds, 1 if step is None else step)):
        raise SettingsError(f"--folds and --step must be whole numbers of at least 1, got {folds!r}, {step!r}")


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def plot_beside(out: str | Path | None, plot: str | Path | None) -> Path | None:
    """Where a forecast's plot goes: `plot`, else beside `out` as .png (None when neither is given)."""
    if out is None and plot is None:
        return None
    return Path(plot or Path(str(out)).with_suffix(".png"))


def check_forecast_outputs(
    out: str | Path | None,
    plot: str | Path | None,
    inputs: tuple[object, ...],
    engine: str = "local",
    series: list[str] | None = None,
) -> None:
    """Refuse an empty path, a plot asked of an engine (its workers keep the history), and an output (`out`, the
    plot `plot_beside` it) that would replace what forecaster did not make or cannot be written."""

    for option, given in (("out", out), ("plot", plot)):
        if given is not None and not str(given).strip():
            raise SettingsError(f"{option} {str(given)!r}: give a file path (or None for no file)")
    if engine != "local" and (plot is not None or series):
        raise SettingsError(f"--plot and --series draw with --engine local only; leave them out with --engine {engine}")
    sources = tuple(given for given in inputs if isinstance(given, (str, Path)))
    for option, target in (("out", out), ("plot", plot_beside(out, plot) if engine == "local" else None)):
        if target is not None:
            check_output_file(Path(target), option, sources)


def parse_levels(text: str | None) -> tuple[float, ...]:
    """'80,95' -> (80.0, 95.0), sorted and distinct; each level a percentage strictly between 0 and 100."""
    if text is None or text == "":
        return ()
    levels = []
    for part in str(text).split(","):
        try:
            level = float(part)
        except ValueError:
            raise SettingsError(f"--level takes percentages such as 80,95; got {part.strip()[:20]!r}") from None
        if not 0 < level < 100 or not math.isfinite(level):
            raise SettingsError(f"--level {part.strip()[:20]}: a level is a percentage between 0 and 100, e.g. 80,95")
        if level < 1:
            raise SettingsError(
                f"--level {part.strip()[:20]}: levels are percentages, so this asks for a {level:g}% interval; "
                f"for {100 * level:g}% write {100 * level:g}"
            )
        if level > TOP_LEVEL:
            raise SettingsError(
                f"--level {part.strip()[:20]}: the calibration keeps levels up to {TOP_LEVEL:g}% (in steps of "
                f"{LEVEL_STEP:g}); a finer tail cannot be told from the validation errors"
            )
        levels.append(level)
    return tuple(sorted(set(levels)))


ENGINES = ("local", *clusters())  # local: this process; the rest: forecaster/serving/clusters/, one module each


CLUSTERS = [name for name in ENGINES if name != "local"]  # forecaster/serving/clusters/, one module each


def either(names: list[str]) -> str:
    """ "a", "a or b", "a, b or c"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


EXTRAS = {name: cluster.module for name, cluster in clusters().items()}  # what each needs installed


def engine_of(data: object, engine: str) -> str:
    """The engine to use: the one a Dask, Ray or Spark frame belongs to, else `engine`."""
    kinds = {cluster.frame_module: name for name, cluster in clusters().items() if cluster.frame_module}
    return kinds.get(type(data).__module__.split(".")[0], engine)


def check_engine(engine: str, address: str | None) -> None:
    """Refuse an unknown engine, an address without an engine, or an engine whose extra is not installed."""
    import importlib.util

    if engine not in ENGINES:
        raise SettingsError(f"--engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if engine == "local":
        if address:
            clusters_named = either(CLUSTERS)
            raise SettingsError(f"--address names a {clusters_named} cluster: give --engine {clusters_named} too")
        return
    module = EXTRAS[engine]
    if importlib.util.find_spec(module.split(".")[0]) is None or importlib.util.find_spec("fugue") is None:
        extra = clusters()[engine].extra or engine
        raise SettingsError(f"--engine {engine}: {module.split('.')[0]} is not installed; {install_line(extra)}")
    if address:
        check_address(engine, address)


REACH_SECONDS = 5.0  # a cluster that does not answer by then is not there: said now, not after minutes


def check_address(engine: str, address: str) -> None:
    """Refuse a malformed `--address` for `engine`, and (where the cluster says so) one where nothing
    answers, before any work: a client would otherwise retry for minutes or end in a traceback."""
    import socket
    from urllib.parse import urlsplit

    cluster = clusters()[engine]
    if cluster.named_addresses(address):
        return
    scheme, _, rest = address.rpartition("://") if "://" in address else ("", "", address)
    try:
        parts = urlsplit(f"//{rest}")
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if scheme not in cluster.schemes or not host or port is None or parts.path not in ("", "/"):
        raise SettingsError(f"--address {address!r} is not a {engine} address; give one such as {cluster.example}")
    if not cluster.reachable:
        return
    try:
        socket.create_connection((host, port), timeout=REACH_SECONDS).close()
    except OSError as exc:
        raise SettingsError(
            f"--address {address}: nothing answers at {host}:{port} ({exc.strerror or exc}); start the {engine} "
            "cluster there or check the address"
        ) from None
