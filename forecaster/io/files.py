"""Writing outputs safely: atomically (a temporary name, then one rename), only over what forecaster
made, following the umask, and cleaning what a killed command left."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import cast

from forecaster.errors import OutputError
from forecaster.kinds import JSON, Frame


def write_json(path: Path, payload: object) -> None:
    """`payload` as strict JSON: a number that is not finite (a MASE undefined where the scale is zero) is
    written as null, never as the bare NaN or Infinity token JSON readers refuse."""
    path.write_text(json.dumps(json_safe(payload), indent=2, default=str, allow_nan=False) + "\n")


def json_safe(value: object) -> object:
    """`value` with every float that is not finite (a numpy float too) made None, through dicts, lists, tuples."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, float) or getattr(getattr(value, "dtype", None), "kind", "") == "f":
        return value if math.isfinite(cast(float, value)) else None
    return value


MARKER = ".forecaster"  # in every directory this tool writes: only such a directory is ever replaced
REFITS_RECORD = "refits.json"  # in a backtest's kept refits (`forecaster.serving.kept_refits`): what each was made of


def made_by_forecaster(path: Path) -> bool:
    """Whether the directory `path` is an output of this tool: it holds our marker, or (made before the
    marker) a run or export manifest, or a tune search."""
    if (path / MARKER).is_file() or (path / "search" / "forecaster").is_dir():
        return True
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and (
        {"format", "files"} <= set(manifest) or {"signature", "inputs"} <= set(manifest)
    )


def output_kind(path: Path) -> str | None:
    """What a directory of ours holds: a "run", an "export", a tune "search", an "evaluation", the "refits" a
    backtest kept, or None."""
    if (path / "search" / "forecaster").is_dir():
        return "search"
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except (OSError, ValueError):
        manifest = None
    if isinstance(manifest, dict) and {"format", "files"} <= set(manifest):
        return "run"
    if isinstance(manifest, dict) and {"signature", "inputs"} <= set(manifest):
        return "export"
    if (path / "metrics.json").is_file() and (path / "per_series.csv").is_file():
        return "evaluation"
    if (path / REFITS_RECORD).is_file():
        return "refits"
    return None


def check_replaceable(target: Path, kind: str | None = None, option: str = "--out") -> None:
    """Refuse an output path (given as `option`) that holds anything this tool did not make (a user's folder, a
    file), or (with `kind`, what the command writes) one of our directories of another kind: a trained run is never
    replaced by an evaluation or an export, nor an export by a run, nor either kept as a backtest's refits."""
    target = Path(target)
    if str(target).strip() in ("", "."):
        raise OutputError(f"{option} {str(target)!r}: give a directory name for the output")
    if target.is_dir() and not made_by_forecaster(target) and any(target.iterdir()):
        raise OutputError(
            f"{target}: exists and was not made by forecaster; nothing was changed: choose a new {option} "
            "(forecaster only ever replaces its own run, evaluation, export, search and refits directories)"
        )
    existing = output_kind(target) if kind and target.is_dir() else None
    if kind and existing and existing != kind:
        writes = "kept refits" if kind == "refits" else f"{'an' if kind[0] in 'ae' else 'a'} {kind}"
        raise OutputError(
            f"{target}: holds a forecaster {existing} directory, and this writes {writes}; nothing was changed: "
            f"choose another {option}"
        )
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target}: is a file, not a directory; nothing was changed: choose another {option}")
    check_writable(target)


def check_writable(target: Path) -> None:
    """Refuse, before any work, an output whose nearest existing folder cannot take a new entry (read-only,
    no permission) — rather than fail after training."""
    folder = Path(target).absolute().parent
    while not folder.exists():
        folder = folder.parent
    try:
        Path(tempfile.mkdtemp(dir=folder, prefix=".forecaster-probe-")).rmdir()
    except OSError as exc:
        raise OutputError(f"{target}: cannot write in {folder} ({exc.strerror}); choose another --out") from None


def follow_umask(path: Path, directory: bool) -> None:
    """Give a path made by mkdtemp/mkstemp (0700/0600) the permissions the user's umask asks for."""
    mask = os.umask(0)
    os.umask(mask)
    path.chmod((0o777 if directory else 0o666) & ~mask)


def _staging_prefix(name: str) -> str:
    """Staging names carry the process id: debris is what a process that is gone left, never the live
    staging of another command writing the same output at the same time."""
    return f".{name}.tmp-{os.getpid()}-"


def process_gone(pid: str) -> bool:
    """Whether `pid` (digits from a file name) is a process that no longer runs; False when it cannot be
    told (no pid in the name: made before names had one), so nothing of a live process is removed."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # someone else's process
        return False
    return False


def left_by_the_dead(staging: Path, name: str) -> bool:
    """Whether `staging` (a `.NAME.tmp-PID-...` entry) belongs to a process that no longer runs."""
    return process_gone(staging.name.removeprefix(f".{name}.tmp-").split("-")[0])


def recover(target: Path) -> None:
    """Finish or roll back what a killed command left beside `target`: a swap cut between its two renames
    is rolled back (the previous output put back), and the staging folders of gone processes are removed."""
    for retired in sorted(target.parent.glob(f".{target.name}.old-*")):
        previous = retired / "previous"
        if previous.is_dir() and not target.exists():
            os.replace(previous, target)
        shutil.rmtree(retired, ignore_errors=True)
    for staging in target.parent.glob(f".{target.name}.tmp-*"):
        if staging.is_dir() and left_by_the_dead(staging, target.name):
            shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def atomic_directory(target: Path, kind: str | None = None) -> Iterator[Path]:
    """Yield a fresh temporary directory beside `target`; on success it replaces `target` in one rename.

    Only a directory this tool made (or an empty one) is replaced (`check_replaceable`). On any error
    the temporary directory is removed and a previous `target` is left untouched; a swap cut short by
    a kill is rolled back by the next call (`recover`).
    """
    target = Path(target)
    check_replaceable(target, kind)
    staging = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        recover(target)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=_staging_prefix(target.name)))
        follow_umask(staging, directory=True)
        (staging / MARKER).write_text('{"made_by": "forecaster"}\n')
    except OSError as exc:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"{target}: cannot write here ({exc.strerror}); choose another --out") from None
    try:
        try:
            yield staging
        except OSError as exc:  # disk full or the like while writing: the previous output is untouched
            raise OutputError(
                f"{target}: cannot write the output ({exc.strerror or exc}); nothing was changed there"
            ) from None
        retired = None
        if target.exists():
            retired = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
            os.replace(target, retired / "previous")
        os.replace(staging, target)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target` (same suffix); on success it replaces `target` in one rename."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        for debris in target.parent.glob(f".{target.stem}.tmp-*{target.suffix}"):  # left by a killed command
            if left_by_the_dead(debris, target.stem):
                debris.unlink(missing_ok=True)
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=_staging_prefix(target.stem), suffix=target.suffix)
        os.close(handle)
        follow_umask(Path(name), directory=False)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write here ({exc.strerror}); choose another path") from None
    staging = Path(name)
    try:
        yield staging
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet takes as the start of a formula


def _neutral(text: object) -> object:
    """A cell as a spreadsheet shows it without running it: text that starts like a formula (OWASP's list)
    gets a leading apostrophe; numbers written as text (-5, +1e3) are left alone."""
    if not isinstance(text, str) or not text.startswith(FORMULA_STARTS):
        return text
    try:
        float(text)
    except ValueError:
        return "'" + text
    return text


def csv_safe(frame: Frame) -> Frame:
    """`frame` with its text cells and column names neutralised for a CSV file (`_neutral`), so that ids
    such as `=HYPERLINK(...)`, `+1+1` or `@SUM(1)` open as text in a spreadsheet. Only text columns are
    looked at; a categorical column's categories are renamed, not its rows."""
    import pandas as pd

    changed: JSON = {}
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            categories = [_neutral(c) for c in column.cat.categories]
            if categories != list(column.cat.categories):
                changed[name] = (
                    column.cat.rename_categories(categories)
                    if len(set(categories)) == len(categories)
                    else column.astype(object).map(_neutral)
                )
        elif column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            risky = column.astype(str).str[:1].isin(FORMULA_STARTS)
            if risky.any():
                changed[name] = column.where(~risky, column[risky].map(_neutral))
    names = {name: _neutral(name) for name in frame.columns if _neutral(name) != name}
    if not changed and not names:
        return frame
    safe = frame.copy(deep=False)
    for name, column in changed.items():
        safe[name] = column
    return safe.rename(columns=names)
