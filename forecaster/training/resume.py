"""Training that survives `kill -9`: the state after every epoch, saved atomically, resumed on rerun.

The state lives beside the run directory (`models/.NAME.training/`) until the run is written. It
holds the model and optimizer weights, the dropout layers' random-seed states, the best weights early
stopping has seen, the early-stopping and learning-rate-schedule counters and the history so far; with
the training stream moved on to the epoch it resumes at (`resumed_stream`), a resumed run carries on
exactly as the uninterrupted one would have. A fingerprint of the data file and the configuration guards it: state
saved by another command is never resumed.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import keras
import numpy as np

from forecaster.errors import OutputError
from forecaster.io.files import atomic_file
from forecaster.kinds import JSON, Dataset

STATE_FILE = "state.json"


def save_arrays(path: Path, arrays: JSON) -> None:
    """numpy's own file writing, not h5py's: a full disk is a plain OSError (h5py segfaulted on it), and a
    partly written file is removed."""
    try:
        with path.open("wb") as handle:
            np.savez(handle, **arrays)
    except OSError:
        path.unlink(missing_ok=True)
        raise


def load_arrays(path: Path) -> list[np.ndarray]:
    with np.load(path, allow_pickle=False) as saved:
        return [saved[f"w{i}"] for i in range(len(saved.files))]


def seed_states(model: keras.Model) -> list[keras.Variable]:
    """The random-seed states of the model's dropout layers (variables, but not among its weights)."""
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


def resumed_stream(train: Dataset, first_epoch: int, steps_per_epoch: int | None) -> Dataset:
    """The training windows as epoch `first_epoch` of an uninterrupted fit sees them.

    An endless sample (fitted with steps_per_epoch, one iterator for all epochs) skips the batches
    already drawn. A shuffled pass is reshuffled each time an iterator is made of it, and Keras makes two
    an epoch (keras/src/trainers/epoch_iterator.py: one it reads, and a fresh one once the pass is
    done), so as many are made and dropped here; tests/test_faults.py checks that the losses then match.
    """
    if steps_per_epoch:
        return train.skip(first_epoch * steps_per_epoch)
    for _ in range(2 * first_epoch):
        iter(train)
    return train


def state_dir(out: Path) -> Path:
    """Where the training state of the run directory `out` is kept while it trains."""
    out = Path(out)
    return out.parent / f".{out.name}.training"


class ResumableTraining(keras.callbacks.Callback):
    """Saves the training state after every epoch and restores it into a fresh model.

    Args:
        directory: the state directory (created on the first save).
        fingerprint: identifies the data and configuration; state with another one is discarded.
        early_stopping, plateau: the callbacks whose counters are saved and restored with the weights.

    `restore()` is called after `compile` and before `fit(initial_epoch=...)`; the callback must come
    after `early_stopping` and `plateau` in the callback list, so it can put their counters back after
    their own `on_train_begin` has reset them.
    """

    def __init__(
        self,
        directory: Path,
        fingerprint: str,
        early_stopping: keras.callbacks.EarlyStopping,
        plateau: keras.callbacks.ReduceLROnPlateau,
    ):
        super().__init__()
        self.directory, self.fingerprint = Path(directory), fingerprint
        self.early_stopping, self.plateau = early_stopping, plateau
        self.history: list[dict[str, float]] = []
        self._counters: JSON | None = None
        self._best_weights: list[np.ndarray] | None = None

    def saved_state(self) -> JSON | None:
        """The state saved by this same command, or None (state from another command is removed)."""
        path = self.directory / STATE_FILE
        try:
            state = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None
        if state.get("fingerprint") != self.fingerprint:
            self.discard()
            return None
        return state

    def restore(self, model: keras.Model) -> tuple[int, bool]:
        """Load the saved state into `model` (compiled).

        Returns the epoch to start from (0 when there is no state) and whether training had finished.
        """
        state = self.saved_state()
        if state is None:
            return 0, False
        model.optimizer.build(model.trainable_variables)
        with np.load(self.directory / state["weights"], allow_pickle=False) as saved:
            model.set_weights([saved[f"w{i}"] for i in range(len(model.weights))])
            for i, variable in enumerate(model.optimizer.variables):
                variable.assign(saved[f"o{i}"])
            for i, variable in enumerate(seed_states(model)):
                if f"s{i}" in saved:  # state saved before seeds were kept has none
                    variable.assign(saved[f"s{i}"])
        if state.get("best_weights"):
            self._best_weights = load_arrays(self.directory / state["best_weights"])
        self.history = state["history"]
        self._counters = state["counters"]
        return int(state["epoch"]), bool(state.get("finished"))

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        if self._counters is None:
            return
        es, plateau = self.early_stopping, self.plateau
        es.wait, es.best, es.best_epoch = (
            self._counters["es_wait"],
            self._counters["es_best"],
            self._counters["es_epoch"],
        )
        es.best_weights = self._best_weights
        plateau.wait, plateau.best = self._counters["lr_wait"], self._counters["lr_best"]
        plateau.cooldown_counter = self._counters["lr_cooldown"]

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.history.append({key: float(value) for key, value in (logs or {}).items()})
        weights = f"epoch-{epoch + 1}.npz"
        arrays = {f"w{i}": w for i, w in enumerate(self.model.get_weights())}
        arrays.update({f"o{i}": np.asarray(v) for i, v in enumerate(self.model.optimizer.variables)})
        arrays.update({f"s{i}": np.asarray(v) for i, v in enumerate(seed_states(self.model))})
        best_weights = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            save_arrays(self.directory / weights, arrays)
            if self.early_stopping.best_weights is not None:
                best_weights = f"best-{epoch + 1}.npz"
                save_arrays(
                    self.directory / best_weights, {f"w{i}": w for i, w in enumerate(self.early_stopping.best_weights)}
                )
        except OSError as exc:  # disk full, read-only: the previous epoch's state stays valid
            with contextlib.suppress(OSError):
                self.directory.rmdir()  # only if nothing was ever saved there
            raise OutputError(
                f"{self.directory}: cannot save the training state after epoch {epoch + 1} ({exc.strerror or exc}); "
                "free some space or choose another --out, then run the same command again"
            ) from None
        es, plateau = self.early_stopping, self.plateau
        state = {
            "fingerprint": self.fingerprint,
            "epoch": epoch + 1,
            "finished": bool(self.model.stop_training),  # early stopping ended training here
            "weights": weights,
            "best_weights": best_weights,
            "history": self.history,
            "counters": {
                "es_wait": es.wait,
                "es_best": None if es.best is None else float(es.best),
                "es_epoch": es.best_epoch,
                "lr_wait": plateau.wait,
                "lr_best": float(plateau.best),
                "lr_cooldown": plateau.cooldown_counter,
            },
        }
        with atomic_file(self.directory / STATE_FILE) as staging:  # the commit point of this epoch
            staging.write_text(json.dumps(state))
        for old in self.directory.glob("*.npz"):
            if old.name not in (weights, best_weights):
                old.unlink()

    def discard(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def interrupted_message(out: Path) -> str:
    """What Ctrl-C says: where the state is and how to go on (for an ensemble: its latest member's)."""
    directory = state_dir(out)
    saved = sorted(directory.glob(f"member_*/{STATE_FILE}"), key=lambda path: int(path.parent.name.split("_")[1]))
    path = saved[-1] if saved else directory / STATE_FILE
    try:
        epoch = json.loads(path.read_text())["epoch"]
    except (OSError, json.JSONDecodeError, KeyError):
        return "interrupted before the first epoch ended; nothing was saved"
    member = f" of ensemble member {int(path.parent.name.split('_')[1]) + 1}" if saved else ""
    return (
        f"interrupted: the state after epoch {epoch}{member} is kept in {directory}/; run the same command again "
        "to resume from there (--fresh starts over)"
    )
