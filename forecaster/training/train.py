"""Training: CSV -> validated panel -> scaled windows -> fitted model -> a complete run directory."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from forecaster.config import FULL_BATCH, FULL_EPOCHS, RunConfig, TrainConfig
from forecaster.data.calendar import unix_seconds
from forecaster.data.panel import named, read_training_panel
from forecaster.data.positive import refuse_not_positive
from forecaster.data.prepared import Prepared, SeriesState
from forecaster.data.resolve import resolve_config, sized_training
from forecaster.data.scaling import AffineScaler, fit_scaler
from forecaster.data.series import Panel, first_few
from forecaster.data.static import encode
from forecaster.data.windowing import (
    FORWARD_BATCH,
    Carried,
    Weighing,
    WindowIndex,
    WindowSource,
    evenly_spaced,
    fit_origins,
    min_length,
    split_series,
    train_origins,
    val_origins,
)
from forecaster.errors import DataError, TrainingError
from forecaster.io.files import atomic_directory, check_replaceable, write_json
from forecaster.io.frames import Data
from forecaster.io.plain import frequency_named
from forecaster.io.plots import plot_loss, plot_validation
from forecaster.io.readers import data_digest
from forecaster.kinds import JSON, Dataset, Log, Network
from forecaster.models.network import build_model, member_config, member_name
from forecaster.scoring.adaptive import Realised
from forecaster.scoring.statistical import StatisticalFits
from forecaster.scoring.validation import guard_fits, validation_report
from forecaster.settings import Settings
from forecaster.training.fitting import compile_network, fit_callbacks, seeded, tensorflow_settings
from forecaster.training.resume import ResumableTraining, resumed_stream, state_dir
from forecaster.training.runs import (
    CALIBRATION_FILE,
    MODEL_FILE,
    REALISED_FILE,
    SELECTION_FILE,
    VALIDATED_FILE,
    tail_digest,
    write_manifest,
)


def prepare(panel: Panel, cfg: RunConfig, scalers: dict[str, AffineScaler] | None = None) -> Prepared:
    """Split each series chronologically, fit its scaler on its training part (or take the one `scalers`
    gives it: an update keeps its parent's), and index its windows."""
    w = cfg.window
    if w.transform == "log":
        refuse_not_positive(panel, cfg.data.target, "give values above zero, or train with --transform none")
    states: dict[str, SeriesState] = {}
    kept: list[int] = []
    dropped: list[str] = []
    train_runs: list[tuple[int, range]] = []
    val_runs: list[tuple[int, range]] = []
    fit_runs: list[tuple[int, range]] = []
    for position, series in enumerate(panel.series):
        split = split_series(len(series), w)
        if split is None:
            dropped.append(series.series_id)
            continue
        given = (scalers or {}).get(series.series_id)
        scaler = (
            given if given is not None else fit_scaler(w.scaler, series.values[: split.n_train], w.transform == "log")
        )
        static = tuple(encode(series.static, cfg.model.static_encoding).tolist())
        tail = series.values[max(0, split.n_fit - w.lookback) : split.n_fit]
        states[series.series_id] = SeriesState(
            scaler, split.n_train, split.n_fit, len(series), str(series.time_at(split.n_fit - 1)), static,
            tail_digest(tail), len(tail),
        )  # fmt: skip
        train_runs.append((len(kept), train_origins(split, w)))
        val_runs.append((len(kept), val_origins(split, w)))
        fit_runs.append((len(kept), fit_origins(split, w)))
        kept.append(position)
    if not kept:
        raise DataError(
            f"{panel.path}: every series is too short: training needs at least {min_length(w)} points per "
            f"series for lookback {w.lookback}, horizon {w.horizon}, holdout {w.holdout}; "
            "use a shorter --horizon or more data"
        )
    used = [(panel.series[p], states[panel.series[p].series_id]) for p in kept]
    source = WindowSource(
        (state.scaler.transform(s.values[: state.n_fit]) for s, state in used),
        w.lookback,
        w.horizon,
        w.patch,
        lengths=[state.n_fit for _, state in used],
        carried=Carried(
            times=(unix_seconds(s.time[: state.n_fit]) for s, state in used) if cfg.model.calendar else None,
            codes=np.arange(len(kept)) if cfg.model.series_embedding else None,
            statics=np.array([state.static for _, state in used]) if cfg.model.static_encoding else None,
        ),
        weighing=Weighing(
            loss_weight_power(cfg),
            np.array([[state.scaler.center[0], state.scaler.scale[0]] for _, state in used])
            if cfg.train.loss_scale == "level"
            else None,
        ),
        n_future=cfg.model.n_future,
    )
    return Prepared(
        states,
        source,
        WindowIndex.from_runs(train_runs),
        WindowIndex.from_runs(val_runs),
        WindowIndex.from_runs(fit_runs),
        kept,
        dropped,
    )


def loss_weight_power(cfg: RunConfig) -> int:
    """How windows are weighted in the loss (see `WindowSource`): not at all with loss_scale "series";
    with "window", by 1/spread for absolute losses (mae, huber, pinball) and 1/spread^2 for mse ("level": the
    same powers of 1/level)."""
    if cfg.train.loss_scale == "series":
        return 0
    return 2 if cfg.train.loss == "mse" and not cfg.model.quantiles else 1


@dataclass
class TrainingData:
    """The tf.data pipelines of one training job."""

    train: Dataset  # shuffled windows, or an endless sample of them on large data
    val: Dataset  # chronological validation windows, cached
    steps_per_epoch: int | None  # set when `train` is an endless sample
    n_train: int
    n_val: int


def training_data(prepared: Prepared, t: TrainConfig) -> TrainingData:
    """Training windows shuffled with the seed (bounded per epoch), validation windows in order."""
    val_windows = prepared.val_index.take(evenly_spaced(len(prepared.val_index), t.max_val_windows))
    val = prepared.source.dataset(*val_windows, max(batch_size(t), FORWARD_BATCH))
    train, steps = shuffled(prepared, prepared.train_index, t)
    if steps is None:  # small data: keep the gathered validation windows; large: gather them each epoch
        val = val.cache()  # (20,000 windows of lookback 336 would hold 29 MB)
    return TrainingData(train, val, steps, len(prepared.train_index), len(val_windows[0]))


def batch_size(t: TrainConfig) -> int:
    return t.batch_size or FULL_BATCH  # None only in a config not resolved against data (resolve_config sizes it)


def shuffled(prepared: Prepared, index: WindowIndex, t: TrainConfig) -> tuple[Dataset, int | None]:
    """`index`'s windows shuffled with the seed, and the steps an epoch where they are more than an epoch
    samples (None: an epoch is one pass over them all)."""
    batch = batch_size(t)
    windows = prepared.source.training_dataset(index, batch, t.seed, t.max_windows_per_epoch)
    count = len(index)
    return windows, -(-min(count, t.max_windows_per_epoch) // batch) if count > t.max_windows_per_epoch else None


@dataclass
class Fitted:
    """A job's networks: `served`, trained on after early stopping on every window (`TrainConfig.final_epochs`),
    and `validated`, as early stopping left them: the validation windows score these, which never trained on
    them. The same object when there were no final epochs. `history`: one row per epoch and member."""

    served: Network
    validated: Network
    history: dict[str, list[float]]


def fit_model(
    prepared: Prepared,
    cfg: RunConfig,
    log: Log,
    state: Path | None = None,
    fingerprint: str = "",
    initial: Network | None = None,
) -> Fitted:
    """Build and fit the model: its networks with the best validation weights restored, then trained on for
    the final epochs (`Fitted`), and its history (one row per epoch and ensemble member: "member", "epoch",
    "loss", "val_loss", ...).

    An ensemble's members are fitted one after another on the same windows with seeds seed,
    seed + 1, ... (each with its own early stopping), then combined by `build_model`'s median.
    With `state`, the training state is saved there after every epoch, and a state saved by an
    earlier, interrupted call with the same `fingerprint` is resumed. `initial`: a network of the same
    shape (a parent run's, `forecaster update`) whose weights each member starts from instead of new ones.
    """

    members = cfg.model.ensemble
    if members == 1:
        start = None if initial is None else initial.get_weights()
        network, history, before = fit_network(prepared, cfg, log, state, fingerprint, start)
        history = {"member": [0] * len(history["loss"]), **history}
        # a model built afresh, as an ensemble's is: its optimizer unbuilt like that of the early-stopped weights'
        # model, so loading those into it (`Run.load_validated_model`) finds the same optimizer state: none
        served = assembled(cfg, [network.get_weights()])
        return Fitted(served, assembled(cfg, [before]) if cfg.train.final_epochs else served, history)
    combined: dict[str, list[float]] = {}
    fitted: list[list[np.ndarray]] = []
    validated: list[list[np.ndarray]] = []
    for k in range(members):
        member_cfg = replace(cfg, model=member_config(cfg.model, k), train=replace(cfg.train, seed=cfg.train.seed + k))
        reads = f", the latest {member_cfg.model.recent} points" if member_cfg.model.recent else ""
        log(f"ensemble member {k + 1}/{members}: seed {member_cfg.train.seed}, {member_cfg.model.instance_norm}{reads}")
        member_state = None if state is None else state / member_name(k)
        start = None if initial is None else initial.get_layer(member_name(k)).get_weights()
        network, history, before = fit_network(prepared, member_cfg, log, member_state, f"{fingerprint}:{k}", start)
        fitted.append(network.get_weights())
        validated.append(before)
        combined.setdefault("member", []).extend([k] * len(history["loss"]))
        for key, values in history.items():
            combined.setdefault(key, []).extend(values)
    served = assembled(cfg, fitted)
    return Fitted(served, assembled(cfg, validated) if cfg.train.final_epochs else served, combined)


def assembled(cfg: RunConfig, weights: list[list[np.ndarray]]) -> Network:
    """The run's model (`build_model`) holding these weights: one network's, or each ensemble member's."""
    model = build_model(cfg.model)
    if cfg.model.ensemble == 1:
        model.set_weights(weights[0])
    else:
        for k, member in enumerate(weights):
            model.get_layer(member_name(k)).set_weights(member)
    return model


def fit_network(
    prepared: Prepared,
    cfg: RunConfig,
    log: Log,
    state: Path | None = None,
    fingerprint: str = "",
    initial: list[np.ndarray] | None = None,
) -> tuple[Network, dict[str, list[float]], list[np.ndarray]]:
    """Build and fit one network (see `fit_model`), from the weights `initial` when given: (the network after
    its final epochs, its history, its weights as early stopping left them)."""

    t = cfg.train
    seeded(t)
    data = training_data(prepared, t)
    model = compile_network(build_model(cfg.model), cfg)
    if initial is not None:
        model.set_weights(initial)  # a saved state, when there is one, replaces them below
    early_stopping, plateau, callbacks = fit_callbacks(t)
    initial_epoch = 0
    if state is not None:
        resumable = ResumableTraining(state, fingerprint, early_stopping, plateau)
        initial_epoch, finished = resumable.restore(model)
        callbacks.append(resumable)
        if initial_epoch:
            log(f"resuming after epoch {initial_epoch} from the state in {state}/")
        if finished:
            initial_epoch = t.epochs or FULL_EPOCHS
        elif initial_epoch:
            data.train = resumed_stream(data.train, initial_epoch, data.steps_per_epoch)
    log(f"training on {data.n_train} windows ({data.n_val} validation windows), {model.count_params()} parameters")
    fitted = model.fit(
        data.train,
        validation_data=data.val,
        epochs=t.epochs or FULL_EPOCHS,
        initial_epoch=initial_epoch,
        steps_per_epoch=data.steps_per_epoch,
        callbacks=callbacks,
        verbose=t.verbose,
        shuffle=False,
    )
    epochs = resumable.history if state is not None else [
        {key: float(values[i]) for key, values in fitted.history.items()} for i in range(len(fitted.epoch))
    ]  # fmt: skip
    losses = [epoch.get("loss", np.nan) for epoch in epochs]
    if not losses or not np.isfinite(losses[-1]):
        raise TrainingError(
            "training diverged (loss became NaN or inf); try a lower --learning-rate or another --scaler"
        )
    history = {key: [epoch.get(key, np.nan) for epoch in epochs] for key in epochs[0]}
    validated = model.get_weights()
    if t.final_epochs:
        final_epochs(model, prepared, t, log)
        if not np.all([np.all(np.isfinite(w)) for w in model.get_weights()]):
            log("note: the final epochs diverged; the network keeps its weights as early stopping left them")
            model.set_weights(validated)
    return model, {"epoch": list(range(1, len(epochs) + 1)), **history}, validated


def final_epochs(model: Network, prepared: Prepared, t: TrainConfig, log: Log) -> None:
    """Train on, after early stopping, for `t.final_epochs` epochs on every window before the holdout (the
    validation part's too, which training never saw), at the run's starting learning rate (the schedule may have
    lowered it), the optimizer's moments carried on: the network learns the newest data. Chosen on validation
    splits (docs/decisions.md, "The final epochs on every window")."""
    windows, steps = shuffled(prepared, prepared.fit_index, t)
    model.optimizer.learning_rate.assign(t.learning_rate)
    log(f"then {t.final_epochs} epochs on all {len(prepared.fit_index)} windows, the validation part's included")
    model.fit(windows, epochs=t.final_epochs, steps_per_epoch=steps, verbose=t.verbose, shuffle=False)


def train_run(
    data: Data,
    settings: Settings,
    out: str | Path,
    log: Log = lambda _: None,
    fresh: bool = False,
    panel: Panel | None = None,
) -> JSON:
    """The whole `forecaster train` job; returns the validation metrics that were saved.

    The training state is saved after every epoch beside `out` (see `forecaster.training.resume`); running the
    same job again after an interruption resumes it, unless `fresh`. `panel`: the data file already read
    with these data settings (tune's best run), so it is not read again.
    """
    started = time.time()
    check_replaceable(Path(out), "run")  # before any work: a user's folder is refused now, not after training
    if panel is None:
        panel = read_training_panel(data, settings.build("data"))
        for note in panel.notes:
            log(f"note: {note}")
    cfg, found = resolve_config(settings, panel)
    log(f"note: {found.note}")
    prepared = prepare(panel, cfg)
    say_prepared(prepared, panel, cfg, found.period, log)
    log(training_note(settings, panel, cfg, prepared))
    job = TrainingJob(cfg, panel, prepared, found.period, found.to_json(), panel.sha256 or data_digest(data))
    return fit_and_write(job, data, Path(out), log, fresh, started)


def training_note(settings: Settings, panel: Panel, cfg: RunConfig, prepared: Prepared) -> str:
    """The line saying the run's training budget, sized as `resolve_config` sized it (the panel's width and
    lookback decide the windows an epoch)."""
    return sized_training(settings.train, len(prepared.train_index), len(panel.series), cfg.window.lookback)[1]


def say_prepared(prepared: Prepared, panel: Panel, cfg: RunConfig, season: int, log: Log) -> None:
    """The lines a training says once its data is prepared: series left out, and what it trains on."""
    if prepared.dropped:
        log(
            f"note: {len(prepared.dropped)} series too short to train on (need {min_length(cfg.window)} points) "
            f"are left out of training; `forecast` still forecasts them: {first_few(prepared.dropped)}"
        )
    log(
        f"{len(prepared.kept)} series, frequency {frequency_named(panel.freq)}, season {season}, "
        f"lookback {cfg.window.lookback}, patch {cfg.window.patch}, horizon {cfg.window.horizon}"
    )


@dataclass
class TrainingJob:
    """What `fit_and_write` trains and writes: a `train` from scratch, or an `update` of a parent run
    (`initial`: its network, whose weights the members start from; `lineage`: the manifest's `parent`;
    `realised`: the served windows its adaptive bands learn from first)."""

    cfg: RunConfig
    panel: Panel
    prepared: Prepared
    season: int
    season_found: JSON
    data_sha256: str
    initial: Network | None = None
    lineage: JSON | None = None
    kind: str = "train"  # the command, in the resumable state's fingerprint
    realised: Realised | None = None  # an update's: the windows its bands learn from first (runs.REALISED_FILE)
    standing: str | None = None  # an update's: what its parent served, which serves on unless clearly beaten


def fit_and_write(job: TrainingJob, data: Data, out: Path, log: Log, fresh: bool, started: float) -> JSON:
    """Fit the job's networks (resumable, the guard's fits beside them), score them on validation, and write
    the run directory at `out` whole or not at all; returns the validation metrics."""
    import json

    import pandas as pd

    cfg, panel, prepared, season = job.cfg, job.panel, job.prepared, job.season
    state = state_dir(out)
    if fresh:
        shutil.rmtree(state, ignore_errors=True)
    resolved = cfg.to_dict()
    resolved["train"] = {k: v for k, v in resolved["train"].items() if k != "verbose"}  # --quiet may change
    parent = f"{job.lineage['sha256']}:" if job.lineage else ""
    fingerprint = f"{job.kind}:{parent}{job.data_sha256}:{json.dumps(resolved, sort_keys=True, default=str)}"
    guarded = cfg.train.select == "auto" and not cfg.model.quantiles
    fits = guard_fits(prepared, panel, cfg, season) if guarded else None  # they need no network: begun now
    try:
        phases = {"reading and preparing": time.time() - started}
        with tensorflow_settings():  # determinism and seeds for the fit, and as they were after it
            fitted = fit_model(prepared, cfg, log, state, fingerprint, job.initial)
            model, history = fitted.served, fitted.history
            phases["training"] = time.time() - started - sum(phases.values())
            report, examples, calibration, selection = validation_report(
                fitted.validated, prepared, panel, cfg, season, log, fits, job.standing
            )
            phases["validation and the guard"] = time.time() - started - sum(phases.values())
    finally:
        if fits is not None:
            fits.close()
    with atomic_directory(out, "run") as staging:
        model.save(staging / MODEL_FILE)
        if fitted.validated is not model:  # the final epochs ran: what an update starts from (runs.VALIDATED_FILE)
            fitted.validated.save_weights(staging / VALIDATED_FILE)
        if job.realised is not None:
            job.realised.save(staging / REALISED_FILE)
        described = {"run": cfg.to_dict(), "freq": panel.freq, "season": season, "season_found": job.season_found}
        write_json(staging / "config.json", {**described, "dropped_series": prepared.dropped})
        encoding = cfg.model.static_encoding
        write_json(staging / "scalers.json", {sid: state.to_json(encoding) for sid, state in prepared.states.items()})
        pd.DataFrame(history).to_csv(staging / "history.csv", index=False)
        write_json(staging / "metrics.json", report)
        write_json(staging / CALIBRATION_FILE, calibration.to_json())
        write_json(staging / SELECTION_FILE, selection.to_json())
        plot_loss(history, staging / "loss.png")
        plot_validation(examples, staging / "validation.png")
        used = {"series": len(panel.series), "series_used": len(prepared.kept), "points": panel.n_points}
        write_manifest(
            staging,
            {
                "data": {"path": named(data), "sha256": job.data_sha256, **used},
                "seed": cfg.train.seed,
                "train_seconds": round(time.time() - started, 2),
                **({"parent": job.lineage} if job.lineage else {}),
            },
        )
    shutil.rmtree(state, ignore_errors=True)  # the run directory now holds everything
    phases["writing the run"] = time.time() - started - sum(phases.values())
    log(time_line(phases, fits))
    return report


def time_line(phases: dict[str, float], fits: StatisticalFits | None) -> str:
    """Where a training's time went, phase by phase, in one line."""
    spent = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in phases.items())
    beside = f"; the guard's {fits.count} statistical fits ran beside the training" if fits and fits.beside else ""
    return f"took {sum(phases.values()):.0f} s: {spent}{beside}"
