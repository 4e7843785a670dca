"""`forecaster update`: a run that learns from newer data. The parent run's networks continue training from
their weights on the newer data (its newest part validates, as `train` splits), with the parent's scalers
(a series whose data has clearly moved gets a new one, said); the validation guard, the conformal table and
the adaptive bands are renewed on the newest windows. The new run names its parent (path and the sha256 of
its manifest) and what was renewed; the parent is never changed."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from forecaster.data.panel import read_training_panel
from forecaster.data.scaling import AffineScaler
from forecaster.data.series import Panel, Series, first_few
from forecaster.errors import DataError, SettingsError
from forecaster.io.files import check_replaceable
from forecaster.io.frames import Data
from forecaster.io.plain import plain_time
from forecaster.io.readers import data_digest
from forecaster.kinds import JSON, Log
from forecaster.scoring.adaptive import Realised
from forecaster.training.runs import VALIDATED_FILE, Run, load_run, rows_until, tail_digest, trained_until
from forecaster.training.train import TrainingJob, fit_and_write, prepare, say_prepared

# an update starts from the parent's networks as early stopping left them: the final epochs then trained them on
# the validation part, which the update's newest windows mostly are, and its guard and conformal table must be
# scored on windows its networks never trained on
BEFORE_FINAL = " as early stopping left them (before their final epochs: the windows it validates on are new to them)"
UPDATE_EPOCHS = 6  # a fifth of a full training's 30: the networks start where the parent's ended
# a series has clearly moved when its newer points, in the parent's scaled units, sit this far from the
# parent's training data (their mean beyond MOVED_LEVEL units, or their spread beyond MOVED_SPREAD units; a
# short newer stretch varies less than a whole history, so a small spread is no sign): its scaler is then
# fitted again on the newer training part
MOVED_LEVEL, MOVED_SPREAD = 4.0, 4.0


@dataclass(frozen=True)
class UpdateOptions:
    """How an update trains: at most `epochs` (default UPDATE_EPOCHS), Keras's output (`verbose`), `fresh` to
    start over an interrupted update, and `holdout` (None: the parent's) steps kept from training."""

    epochs: int | None = None
    verbose: int = 0
    fresh: bool = False
    holdout: int | None = None


# what the bands of the run being updated have learnt, for the new run (parent, the newer data, the holdout):
# `forecaster.serving.adapt.carried_forward`, which serves the parent's windows as `forecast` does
Carry = Callable[[Run, Panel, int], Realised | None]


def update_run(
    parent_dir: str | Path,
    data: Data,
    out: str | Path,
    log: Log = lambda _: None,
    options: UpdateOptions = UpdateOptions(),
    panel: Panel | None = None,
    carry: Carry | None = None,
) -> JSON:
    """The whole `forecaster update` job; returns the new run's validation metrics. `panel`: the data already
    read (a refitting backtest's data up to a cutoff), so it is not read again; `carry`: what the parent's
    adaptive bands learnt, kept in the new run (None: its bands start over from its conformal table)."""
    started = time.time()
    parent = load_run(parent_dir)
    out = Path(out)
    if out.resolve() == parent.path.resolve():
        raise SettingsError(f"--out {out}: that is the run being updated; an update writes a new run beside it")
    check_replaceable(out, "run")
    if panel is None:
        panel = read_training_panel(data, parent.config.data)
        for note in panel.notes:
            log(f"note: {note}")
    if panel.freq != parent.freq:
        raise DataError(f"{panel.path}: frequency {panel.freq}, where {parent.path} was trained on {parent.freq}")
    check_history(parent, panel)
    known, unseen = trained_panel(parent, panel)
    holdout = parent.config.window.holdout if options.holdout is None else options.holdout
    if learnt_all(parent, known, holdout):
        raise nothing_newer(
            parent, panel, known.series[0].series_id, holdout, "the run's" if options.holdout is None else "the"
        )
    if unseen:
        log(
            f"note: {len(unseen)} series {parent.path} never trained on are left out of the update (its networks "
            f"know the others); `forecast` forecasts them as it does any new series: {first_few(unseen)}"
        )
    scalers, moved = kept_scalers(parent, known)
    if moved:
        log(f"note: the data of {len(moved)} series moved far from what {parent.path} was trained on: their "
            f"scalers were fitted again on the newer data: {first_few(moved)}")  # fmt: skip
    train = replace(parent.config.train, epochs=options.epochs or UPDATE_EPOCHS, verbose=options.verbose)
    cfg = replace(parent.config, train=train, window=replace(parent.config.window, holdout=holdout))
    prepared = prepare(known, cfg, scalers)
    say_prepared(prepared, known, cfg, parent.season, log)
    before = BEFORE_FINAL if (parent.path / VALIDATED_FILE).is_file() else ""
    log(
        f"updating {parent.path}'s networks: {cfg.train.epochs} epochs at most from their weights{before}; the "
        "guard, the conformal table and the adaptive bands renewed on the newest windows"
    )
    renewed = ["weights", "validation guard", "conformal table", "adaptive bands"] + (["scalers"] if moved else [])
    lineage = {
        "path": str(parent.path),
        "sha256": hashlib.sha256((parent.path / "manifest.json").read_bytes()).hexdigest(),
        "renewed": renewed,
        "scalers_refitted": moved,
        "series_left_out": len(unseen),
    }
    realised = None if carry is None else carry(parent, known, holdout)
    if realised is not None:
        lineage["windows_carried"] = len(realised.series)
        log(f"the adaptive bands carry what they learnt from {len(realised.series):,} served windows whose actuals "
            f"are known (those of {parent.path} after its training, and those it carried)")  # fmt: skip
    described = json.loads((parent.path / "config.json").read_text()).get("season_found") or {"period": parent.season}
    job = TrainingJob(
        cfg,
        known,
        prepared,
        parent.season,
        described,
        panel.sha256 or data_digest(data),
        initial=parent.load_validated_model(),
        lineage=lineage,
        kind="update",
        realised=realised,
        standing=None if (chosen := parent.selection()) is None else chosen.method,
    )
    return fit_and_write(job, data, out, log, options.fresh, started)


def check_history(parent: Run, panel: Panel) -> None:
    """Refuse newer data that rewrites what the parent trained on: each series' last `tail_points` rows
    before the parent's end, where the newer data holds them, must be the very values it saw."""
    for series in panel.series:
        state = parent.series.get(series.series_id)
        if state is None or not state.tail_points:
            continue  # a new series, or a run made before the tails were kept: nothing to compare
        end = position_of(series, state.last_time)
        if end is None or end < state.tail_points:
            continue  # the newer data starts after the parent's end (or inside its tail): no overlap to compare
        if tail_digest(series.values[end - state.tail_points : end]) != state.tail_sha256:
            first = series.time_at(end - state.tail_points)
            raise DataError(
                f"{panel.path}: series {series.series_id!r}: its values from {plain_time(first)} to "
                f"{plain_time(state.last_time)} differ from those {parent.path} was trained on: this data rewrites "
                "the run's history; an update learns from what happened since, so train afresh on this data or "
                "give data that agrees with the run's"
            )


def learnt_all(parent: Run, panel: Panel, holdout: int = 0) -> bool:
    """Whether `parent` trained on every row of each series of `panel` it knows that lies before the last
    `holdout` (which an update keeps out of training, as `train` does): nothing newer to learn from."""
    known = [series for series in panel.series if series.series_id in parent.series]
    return bool(known) and all(len(series) - holdout <= trained_until(parent, series) for series in known)


def nothing_newer(parent: Run, panel: Panel, first: str, holdout: int, whose: str) -> DataError:
    """The refusal of data with no row to learn from past the parent's training (once `holdout` steps, `whose`
    --holdout, are kept out), naming series `first` and where its training ended."""
    kept = f" once {whose} --holdout of {holdout} steps is kept out of training, as it is" if holdout else ""
    return DataError(
        f"{panel.path}: no series has rows after those {parent.path} was trained on{kept} (series {first!r}: up to "
        f"{plain_time(parent.series[first].last_time)}): an update has nothing newer to learn from; give data that "
        f"holds the newer rows{' (or --holdout 0 to learn from those too)' if holdout else ''}"
    )


def position_of(series: Series, last_time: str) -> int | None:
    """How many of `series`' rows lie at or before `last_time` (the parent's last trained row), when that
    time is one of its rows; None otherwise."""
    found = rows_until(series, last_time)
    return found[0] if found is not None and found[1] else None


def trained_panel(parent: Run, panel: Panel) -> tuple[Panel, list[str]]:
    """The series of `panel` the parent trained on (a panel of its own), and the ids of the others."""
    known = [s for s in panel.series if s.series_id in parent.series]
    unseen = [s.series_id for s in panel.series if s.series_id not in parent.series]
    if not known:
        raise DataError(f"{panel.path}: none of its series was trained on by {parent.path}; train a new run on it")
    return replace(panel, series=known), unseen


def kept_scalers(parent: Run, panel: Panel) -> tuple[dict[str, AffineScaler], list[str]]:
    """The parent's scaler of each series, but for those whose newer points moved far from its training data
    (`MOVED_LEVEL`, `MOVED_SPREAD`), which get none (so `prepare` fits them anew): (scalers, moved ids)."""
    scalers: dict[str, AffineScaler] = {}
    moved: list[str] = []
    for series in panel.series:
        state = parent.series[series.series_id]
        end = position_of(series, state.last_time)
        newer = series.values[end if end is not None else 0 :]
        if len(newer) >= 2:
            scaled = state.scaler.transform(newer)[:, 0]
            spread = float(np.std(scaled))
            if abs(float(np.mean(scaled))) > MOVED_LEVEL or spread > MOVED_SPREAD:
                moved.append(series.series_id)
                continue
        scalers[series.series_id] = state.scaler
    return scalers, moved
