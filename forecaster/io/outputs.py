"""Which files an output may replace: only what this tool wrote (a forecast, a plot), never a user's file,
a run's own file or the command's input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from forecaster.errors import OutputError
from forecaster.io.files import MARKER, check_writable, made_by_forecaster
from forecaster.io.readers import written_by_forecaster

PNG_SIGNATURE = b"Software\x00forecaster"  # the tEXt chunk every plot of ours carries (forecaster.io.plots)


def part_of_a_run(path: Path) -> bool:
    """Whether the file `path` belongs to one of our run or export directories (its manifest, or a file the
    manifest lists): such a file is never an output target, whoever made it."""
    if not made_by_forecaster(path.parent):
        return False
    try:
        manifest = json.loads((path.parent / "manifest.json").read_text())
    except (OSError, ValueError):
        manifest = {}
    listed = manifest.get("files", {}) if isinstance(manifest, dict) else {}
    return path.name in ("manifest.json", MARKER) or (isinstance(listed, dict) and path.name in listed)


def made_file_by_forecaster(path: Path) -> bool:
    """Whether the file `path` is an output of this tool, by its content: a forecast CSV (its header has
    our `forecast` and `method` columns), a forecast Parquet file (marked in its metadata) or a plot of
    ours. Where it lies says nothing: a user's file
    inside a run directory is still the user's."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    if path.suffix.lower() == ".png":
        return PNG_SIGNATURE in head

    return written_by_forecaster(path)


def check_replaceable_file(target: Path, option: str, inputs: tuple[Any, ...] = ()) -> None:
    """Refuse an output file path that holds something this tool did not make (a user's file, a folder),
    a file of a run directory, or one of the command's `inputs`."""
    if not str(target).strip() or Path(target).name in ("", ".", ".."):
        raise OutputError(f"{option} {str(target)!r}: give a file path")
    target = Path(target)
    if option.lstrip("-") == "plot" and target.suffix.lower() != ".png":
        raise OutputError(f"{option} {target}: plots are PNG images; give a path ending in .png")
    if target.is_dir():
        raise OutputError(f"{option} {target}: is a directory; give a file path")
    if any(item is not None and Path(item).exists() and Path(item).resolve() == target.resolve() for item in inputs):
        raise OutputError(f"{option} {target}: is the input data; nothing was changed: choose another path")
    folders = [Path(item).resolve() for item in inputs if item is not None and Path(item).is_dir()]
    if any(folder in target.resolve().parents for folder in folders):  # a shard directory's next read takes it in
        raise OutputError(
            f"{option} {target}: is inside the input data's directory, where it would be read as a shard next time; "
            "choose a path outside it"
        )
    if target.exists() and part_of_a_run(target):
        raise OutputError(
            f"{option} {target}: is a file of the run in {target.parent}; nothing was changed: choose another path"
        )
    if target.exists() and not made_file_by_forecaster(target):
        raise OutputError(
            f"{option} {target}: exists and was not written by forecaster; nothing was changed: choose another "
            "path (forecaster only ever replaces its own forecasts and plots)"
        )


def check_output_file(target: Path, option: str, inputs: tuple[Any, ...] = ()) -> None:
    """The one check of an output file, for the CLI and the Python API alike: replaceable (see
    `check_replaceable_file`) and writable."""
    check_replaceable_file(target, option, inputs)
    check_writable(target)
