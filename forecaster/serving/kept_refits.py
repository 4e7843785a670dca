"""`evaluate --refit-every K --keep-refits DIR`: the refitted runs kept in DIR, each with a record of what it was
refitted from (the run it started from, the data up to its cutoff, how), so that the same backtest run again with
the same DIR, after an interruption or to score the windows anew, reuses every refit whose record still holds and
refits from the first that does not. A refit cut short resumes where its training stopped, as `train` does."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from forecaster.errors import OutputError
from forecaster.io.files import MARKER, REFITS_RECORD, atomic_file, write_json
from forecaster.training.runs import Run, load_run


@dataclass(frozen=True)
class RefitOf:
    """What one refit is made of: the sha256 of the manifest of the run it starts from (an update: the run the
    refit before made; anew: the backtest's run), the data's rows before `cutoff` (their sha256), and how (`how`:
    "update" or "anew", with at most `epochs` epochs, None: the command's default)."""

    start: str
    cutoff: str
    data: str
    how: str
    epochs: int | None


def manifest_digest(run_dir: Path) -> str:
    """The sha256 of a run directory's manifest: it names every file of the run by its own sha256."""
    return hashlib.sha256((Path(run_dir) / "manifest.json").read_bytes()).hexdigest()


class KeptRefits:
    """The folder a refitting backtest keeps its refitted runs in (checked before any work: `api.refit_of`), and
    their records."""

    def __init__(self, folder: Path):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / MARKER).write_text('{"made_by": "forecaster"}\n')
        except OSError as exc:
            raise OutputError(
                f"{folder}: cannot keep the refitted runs here ({exc.strerror}); choose another --keep-refits"
            ) from None
        self.folder = folder
        try:
            records = json.loads((folder / REFITS_RECORD).read_text())
        except (OSError, ValueError):  # none yet, or unreadable: every refit is made again
            records = {}
        self.records: dict[str, dict] = records if isinstance(records, dict) else {}

    def path(self, name: str) -> Path:
        return self.folder / name

    def reusable(self, name: str, made_of: RefitOf) -> tuple[Run, float] | None:
        """The kept run `name` and the seconds it took, when it was refitted from just what `made_of` says and
        is whole and unchanged since; None otherwise (it is refitted, replacing what is there)."""
        record = self.records.get(name)
        if record is None or record.get("made_of") != asdict(made_of):
            return None
        try:
            if manifest_digest(self.path(name)) != record.get("run"):
                return None
            return load_run(self.path(name)), float(record.get("seconds", 0.0))
        except (OSError, ValueError):  # gone, half-removed, no longer a run (a ForecasterError): refitted again
            return None

    def remember(self, name: str, made_of: RefitOf, seconds: float) -> None:
        """Record the run just refitted as `name` (whole: the refit wrote it atomically)."""
        self.records[name] = {"made_of": asdict(made_of), "run": manifest_digest(self.path(name)), "seconds": seconds}
        with atomic_file(self.folder / REFITS_RECORD) as staging:
            write_json(staging, self.records)
