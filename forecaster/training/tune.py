"""`forecaster tune`: a KerasTuner search whose result is an ordinary run directory.

The search space covers the lookback (which changes the windows, so every trial re-windows the
series in `ForecastHyperModel.fit`), depth, width, bidirectionality, dropout, learning rate, batch
size and loss. Every hyperparameter is declared in `build`, so the oracle knows the whole space, and
each one's default is the untuned `train` setting: the first trial is the untuned model, the baseline
every other trial is compared with. The objective is the MSE (or, for quantile runs, the pinball
loss) on the chronological validation windows, the same for every trial whatever its loss or lookback.

Layout of `--out DIR`: `search/` (KerasTuner's state: a rerun resumes from it), `trials.csv`,
`trials.png`, and `best/`, the run directory trained from the best hyperparameters.
"""

from __future__ import annotations

import copy
import math
import os
import resource
import shutil
import time
from dataclasses import dataclass, fields
from pathlib import Path

import grpc
import keras
import keras_tuner as kt
import numpy as np
import pandas as pd
from keras_tuner.src import config as kt_config
from keras_tuner.src.engine.trial import Trial

from forecaster.config import FULL_BATCH, FULL_EPOCHS, TUNERS, RunConfig, check_tune_table
from forecaster.data.panel import read_training_panel
from forecaster.data.prepared import Prepared
from forecaster.data.resolve import default_lookback, resolve_config
from forecaster.data.series import Panel
from forecaster.errors import SettingsError, TrainingError
from forecaster.io.files import MARKER, atomic_file, check_replaceable, write_json
from forecaster.io.frames import Data
from forecaster.io.plots import plot_trials
from forecaster.kinds import JSON, Log, Options
from forecaster.models.backend import retracing_unsaid
from forecaster.models.network import build_model, member_config
from forecaster.settings import Settings
from forecaster.training.chief import WORKER_TIMEOUT_SECONDS, authenticate, distributed, serve_oracle, wait_for_chief
from forecaster.training.fitting import compile_network, fit_callbacks, seeded, tensorflow_settings
from forecaster.training.train import prepare, train_run, training_data

Choice = bool | int | float | str  # one hyperparameter's value
Space = dict[str, list[Choice]]  # each hyperparameter's choices, by name
Values = dict[str, Choice]  # a trial's value of each hyperparameter

SPACE: Space = {  # name -> choices, each kept by config.TUNE_RULES; the lookback's: `lookback_choices`
    "layers": [1, 2],
    "units": [32, 64, 128],
    "bidirectional": [False, True],
    "dropout": [0.0, 0.1, 0.2],
    "learning_rate": [3e-4, 1e-3, 3e-3],
    "batch_size": [64, 128, 256],
    "loss": ["mse", "mae", "huber"],
}
MAX_FAILURES_IN_A_ROW = 3
kt_config.DEBUG = False  # a failed trial is one line with its reason (in trials.csv too), not a traceback


def lookback_choices(season: int, horizon: int, longest: int) -> list[int]:
    """One, two and four seasons (or horizons, without a season) and the `train` default, within
    half the longest series."""
    unit = season if season >= 2 else horizon
    cap = max(2, longest // 2)
    candidates = {unit, 2 * unit, 4 * unit, default_lookback(season, horizon, longest)}
    return sorted(v for v in candidates if 2 <= v <= cap) or [default_lookback(season, horizon, longest)]


def search_space(base: RunConfig, season: int, longest: int, overrides: dict[str, list[Choice]]) -> Space:
    """The choices of each hyperparameter: the defaults above, replaced by the config file's [tune]
    table; each list contains the untuned setting, which becomes its default."""
    space: Space = {
        "lookback": list[Choice](lookback_choices(season, base.window.horizon, longest)),
        **copy.deepcopy(SPACE),
    }
    check_tune_table(overrides)  # checked with the settings already; a caller's own overrides too
    for name, values in overrides.items():
        space[name] = list(values)
    for name, value in untuned(base).items():
        if value not in space[name]:
            space[name] = sorted([*space[name], value]) if name != "loss" else [value, *space[name]]
    return space


def untuned(cfg: RunConfig) -> Values:
    """What `train` would use, as hyperparameter values."""
    return {
        "lookback": cfg.window.lookback,
        "layers": len(cfg.model.layers),
        "units": cfg.model.layers[0],
        "bidirectional": cfg.model.bidirectional,
        "dropout": cfg.model.dropout,
        "learning_rate": cfg.train.learning_rate,
        "batch_size": cfg.train.batch_size or FULL_BATCH,  # None before the data sizes it
        "loss": cfg.train.loss,
    }


def trial_settings(settings: Settings, values: Values) -> Settings:
    """The settings of a trial: the user's, with the trial's hyperparameter values."""
    layers = (int(values["units"]),) * int(values["layers"])
    return (
        settings.with_values("window", lookback=values["lookback"])
        .with_values("model", layers=layers, bidirectional=bool(values["bidirectional"]), dropout=values["dropout"])
        .with_values(
            "train", learning_rate=values["learning_rate"], batch_size=values["batch_size"], loss=values["loss"]
        )
    )


def resident_mb() -> float:
    """This process's resident memory now (Linux), else its peak."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class TrialStats(keras.callbacks.Callback):
    """Adds to every epoch's logs what the trials table reports: the worker, memory and time."""

    def __init__(self, worker: int):
        super().__init__()
        self.worker = worker

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self.started = time.time()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if logs is not None:
            logs["worker"] = float(self.worker)
            logs["rss_mb"] = resident_mb()
            logs["seconds"] = time.time() - self.started


class ForecastHyperModel(kt.HyperModel):
    """Builds a trial's model from its hyperparameters and fits it on windows of its lookback."""

    def __init__(self, panel: Panel, settings: Settings, space: Space, defaults: Values,
                 worker: int):  # fmt: skip
        super().__init__(name="forecaster")
        self.panel, self.settings, self.space, self.defaults, self.worker = panel, settings, space, defaults, worker
        self._prepared: dict[tuple[int, int], Prepared] = {}

    def config(self, hp: kt.HyperParameters) -> RunConfig:
        return resolve_config(trial_settings(self.settings, hp.values), self.panel)[0]

    def build(self, hp: kt.HyperParameters) -> keras.Model:

        for name, choices in self.space.items():
            if sorted(choices) == [False, True]:
                hp.Boolean(name, default=self.defaults[name])
            else:
                hp.Choice(name, choices, default=self.defaults[name])
        cfg = self.config(hp)
        seeded(cfg.train)  # as `train` seeds its (first) network: the untuned trial is what train fits
        model = build_model(member_config(cfg.model, 0))  # a trial is one network; best/ is the whole ensemble
        metrics = () if cfg.model.quantiles else (keras.metrics.MeanSquaredError(name="mse"),)
        return compile_network(model, cfg, metrics)

    def fit(
        self,
        hp: kt.HyperParameters,
        model: keras.Model,
        *args: object,
        callbacks: list[keras.callbacks.Callback] | None = None,
        epochs: int | None = None,
        initial_epoch: int = 0,
        **kwargs: object,
    ) -> keras.callbacks.History:
        import tensorflow as tf

        cfg = self.config(hp)
        key = (cfg.window.lookback, cfg.window.patch)
        if key not in self._prepared:  # the same lookback in a later trial reuses its windows
            self._prepared[key] = prepare(self.panel, cfg)
        data = training_data(self._prepared[key], cfg.train)
        callbacks = [TrialStats(self.worker), *(callbacks or []), *fit_callbacks(cfg.train)[2]]
        try:
            history = model.fit(
                data.train,
                validation_data=data.val,
                epochs=cfg.train.epochs if epochs is None else epochs,
                initial_epoch=initial_epoch,
                steps_per_epoch=data.steps_per_epoch,
                callbacks=callbacks,
                verbose=0,
                shuffle=False,  # the training dataset is shuffled already (with the seed)
            )
        except tf.errors.ResourceExhaustedError:
            raise kt.errors.FailedTrialError("out of memory: try smaller units or batch_size choices") from None
        objective = "val_loss" if cfg.model.quantiles else "val_mse"
        watched = [*history.history.get("loss", [math.nan]), min(history.history.get(objective, [math.nan]))]
        if not all(math.isfinite(v) for v in watched):
            raise kt.errors.FailedTrialError("loss or validation error became NaN or inf")
        return history


def budgeted(oracle_class: type, deadline: float | None, max_trials: int) -> type:
    """`oracle_class` that stops handing out trials after `max_trials` or at `deadline` (time.time())."""

    class Budgeted(oracle_class):  # type: ignore[misc,valid-type]
        def populate_space(self, trial_id: str) -> JSON:
            status = kt.engine.trial.TrialStatus
            if (deadline is not None and time.time() >= deadline) or len(self.trials) >= max_trials:
                return {"status": status.STOPPED, "values": None}
            if not self.trials and not isinstance(self, kt.oracles.HyperbandOracle):
                # the first trial is the untuned setting (every default), the baseline of the table
                return {"status": status.RUNNING, "values": {hp.name: hp.default for hp in self.hyperparameters.space}}
            return super().populate_space(trial_id)

    Budgeted.__name__ = oracle_class.__name__
    return Budgeted


ORACLES = dict(
    zip(
        TUNERS,
        (kt.oracles.HyperbandOracle, kt.oracles.BayesianOptimizationOracle, kt.oracles.RandomSearchOracle),
        strict=True,
    )
)


def make_oracle(kind: str, objective: kt.Objective, max_trials: int, epochs: int, deadline: float | None,
                seed: int) -> kt.Oracle:  # fmt: skip
    """The `kind` oracle under the trial and time budget (Hyperband sizes its brackets by epochs instead)."""
    options: Options = {
        "objective": objective,
        "seed": seed,
        "max_consecutive_failed_trials": MAX_FAILURES_IN_A_ROW,
    }
    if kind == "hyperband":
        options.update(max_epochs=max(2, epochs), factor=3, hyperband_iterations=1)
    else:
        options["max_trials"] = max_trials
    return budgeted(ORACLES[kind], deadline, max_trials)(**options)


class ForecastTuner(kt.Tuner):
    """KerasTuner's Tuner with a progress line per trial and a chief that serves the oracle itself."""

    def __init__(self, *args: object, log: Log, max_trials: int, deadline: float | None, token: str | None = None,
                 worker_timeout: float = WORKER_TIMEOUT_SECONDS, **kwargs: object):  # fmt: skip
        self.log, self.max_trials, self.deadline = log, max_trials, deadline
        self.token, self.worker_timeout = token, worker_timeout
        self.trial_started = time.time()
        super().__init__(*args, **kwargs)

    def search(self, *args: object, **kwargs: object) -> None:
        from keras_tuner.src.distribute import utils as dist_utils

        if dist_utils.is_chief_oracle():
            self.oracle.verbose = 0  # our own line per trial instead of KerasTuner's tables
            self.save()
            serve_oracle(self.oracle, self.log, self.describe, self.token, self.worker_timeout)
            return
        super().search(*args, **kwargs)

    def on_trial_begin(self, trial: Trial) -> None:
        super().on_trial_begin(trial)
        self.trial_started = time.time()

    def on_trial_end(self, trial: Trial) -> None:
        try:
            super().on_trial_end(trial)  # raises when too many trials failed in a row
        finally:
            self.log(self.describe(self.oracle.get_trial(trial.trial_id), time.time() - self.trial_started))

    def describe(self, trial: Trial, seconds: float | None = None) -> str:
        """`trial 3/10 lookback=104 ...: val_mse 0.0123 (best 0.0101), 12 s, 3.2 min left`."""
        values = " ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in hyperparameter_values(trial).items()
        )
        if trial.score is None:
            outcome = f"{trial.status.lower()}: {failure_reason(trial.message)}"
        else:
            outcome = f"{self.oracle.objective.name} {trial.score:.4g}"
        best = self.oracle.get_best_trials(1)
        if best and best[0].score is not None:
            outcome += f" (best {best[0].score:.4g})"
        if seconds is not None:
            outcome += f", {seconds:.0f} s"
        if self.deadline is not None:
            outcome += f", {max(0.0, self.deadline - time.time()) / 60:.1f} min left"
        return f"trial {int(trial.trial_id) + 1}/{self.max_trials} {values}: {outcome}"


@dataclass(frozen=True)
class Search:
    """How a search runs (`forecaster tune`'s options): the `tuner` and its budget (`max_trials`, `max_minutes`),
    whether it starts afresh (`overwrite`), float16 trials (`mixed_precision`), and across machines the `chief`
    or `worker` address, the worker's id, the shared `token` and how long the chief waits for a silent worker."""

    tuner: str = "bayesian"
    max_trials: int = 10
    max_minutes: float | None = None
    overwrite: bool = False
    mixed_precision: bool = False
    chief: str | None = None
    worker: str | None = None
    worker_id: str | None = None
    token: str | None = None
    worker_timeout: float = WORKER_TIMEOUT_SECONDS

    @classmethod
    def of(cls, options: Options) -> Search:
        """The search `options` (the Python API's keywords) ask for; an unknown name or a bad value refused."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise SettingsError(f"tune: no search option {unknown[0]!r}; the options are {', '.join(sorted(known))}")
        search = cls(**options)
        search.check()
        return search

    def check(self) -> None:
        if self.tuner not in ORACLES:
            raise SettingsError(f"--tuner must be one of {', '.join(ORACLES)}, got {self.tuner!r}")
        trials = self.max_trials
        if not (isinstance(trials, int) and not isinstance(trials, bool) and trials >= 1):
            raise SettingsError(f"--max-trials must be a whole number of at least 1, got {trials!r}")
        minutes = self.max_minutes
        if minutes is not None and not (
            isinstance(minutes, int | float) and not isinstance(minutes, bool) and 0 < minutes < math.inf
        ):  # the Python API's as the option's: -1 would end the search before its first trial, with a 1-byte table
            raise SettingsError(f"--max-minutes must be a finite number above 0, got {minutes!r}")


def tune_run(data: Data, settings: Settings, out: str | Path, search: Search, log: Log) -> JSON | None:
    """The whole `forecaster tune` job. Returns the summary written by the chief (or a lone tuner);
    None on a worker."""
    import tensorflow as tf

    search.check()
    tuner, max_trials, max_minutes, overwrite = search.tuner, search.max_trials, search.max_minutes, search.overwrite
    chief, worker, worker_id = search.chief, search.worker, search.worker_id
    out = Path(out)
    search_dir = out / "search"
    if not worker:
        check_replaceable(out, "search")
    if overwrite and not worker:
        shutil.rmtree(search_dir, ignore_errors=True)
    panel = read_training_panel(data, settings.build("data"))
    for note in panel.notes:
        log(f"note: {note}")
    base, found = resolve_config(settings, panel)
    season = found.period
    longest = max(len(s) for s in panel.series) - base.window.holdout
    space = search_space(base, season, longest, dict(settings.tune))
    defaults = untuned(base)
    if not worker:  # the folder is ours from now on (resumable, replaceable by the next search)
        out.mkdir(parents=True, exist_ok=True)
        (out / MARKER).write_text('{"made_by": "forecaster"}\n')
    # the same training windows' floor in every trial
    settings = settings.without("tune").with_values("window", min_context=base.window.min_context)
    objective = kt.Objective("val_loss" if base.model.quantiles else "val_mse", direction="min")
    deadline = time.time() + 60 * max_minutes if max_minutes else None
    gpus = tf.config.list_physical_devices("GPU")
    strategy = tf.distribute.MirroredStrategy() if len(gpus) > 1 else None
    policy = "mixed_float16" if search.mixed_precision else None  # the trials' policy, undone however the search ends
    # each trial's network traces its steps once, by design: TensorFlow's warning of it held back
    with tensorflow_settings(policy), retracing_unsaid(), distributed(chief, worker, worker_id) as tuner_id:
        if worker:
            wait_for_chief(worker, log)
        resumed = (search_dir / "forecaster" / "oracle.json").exists() and not overwrite
        keras.utils.set_random_seed(base.train.seed)
        tuning = ForecastTuner(
            oracle=make_oracle(
                tuner, objective, max_trials, base.train.epochs or FULL_EPOCHS, deadline, base.train.seed
            ),
            hypermodel=ForecastHyperModel(panel, settings, space, defaults, worker=os.getpid()),
            directory=str(search_dir),
            project_name="forecaster",
            overwrite=False,
            distribution_strategy=strategy,
            tuner_id=tuner_id,
            log=log,
            max_trials=max_trials,
            deadline=deadline,
            token=search.token,
            worker_timeout=search.worker_timeout,
        )
        if worker:
            authenticate(tuning.oracle, worker, search.token)
        done = len(tuning.oracle.end_order) if not worker else 0
        if not worker:
            log(
                f"{tuner} search over {', '.join(f'{k} {v}' for k, v in space.items())}; objective {objective.name} "
                f"on {search_dir}"
                + (f" (resuming: {done} trial(s) done; --overwrite starts afresh)" if resumed else "")
            )
        try:
            tuning.search(verbose=0)
        except grpc.RpcError as exc:  # a worker the chief refuses: one line, not gRPC's traceback
            raise SettingsError(
                f"--worker {worker}: the chief refused this worker ({exc.code().name}: {str(exc.details())[:200]})"
                + ("; give the chief's --token" if exc.code() == grpc.StatusCode.UNAUTHENTICATED else "")
            ) from None
        except RuntimeError as exc:
            if "consecutive failures" not in str(exc):
                raise
            last = failure_reason(str(exc))
            write_trials(tuning.oracle, out, objective.name)
            raise TrainingError(
                f"{MAX_FAILURES_IN_A_ROW} trials in a row failed (last: {last}); every trial and its reason is in "
                f"{out / 'trials.csv'}; narrow the search space ([tune] in --config) or fix the data"
            ) from None
        if worker:
            log(f"worker {tuner_id}: no more trials from the chief; done")
            return None
        return finish(tuning, data, panel, settings, out, objective.name, log)


def finish(search: ForecastTuner, data: Data, panel: Panel, settings: Settings, out: Path, objective: str,
           log: Log) -> JSON:  # fmt: skip
    """Write trials.csv and trials.png, and train the best hyperparameters into `out/best`."""
    trials = write_trials(search.oracle, out, objective)
    scored = trials.dropna(subset=["score"])
    if scored.empty:
        raise TrainingError(f"no trial finished with a score; see {out / 'trials.csv'}")
    best_values = hyperparameter_values(search.oracle.get_best_trials(1)[0])
    log(f"best trial: {' '.join(f'{k}={v}' for k, v in best_values.items())}; training it into {out / 'best'}")
    best = trial_settings(settings, best_values).with_values("train", verbose=0)
    with tensorflow_settings("float32"):  # the run directory's model is float32 everywhere
        report = train_run(data, best, out / "best", log, panel=panel)
    default_score = trials.loc[trials["trial"] == 1, "score"]
    summary = {
        "objective": objective,
        "trials": int(len(trials)),
        "completed": int(trials["status"].eq("COMPLETED").sum()),
        "best": best_values,
        "best_score": float(scored["score"].min()),
        "untuned_score": None
        if default_score.empty or pd.isna(default_score.iloc[0])
        else float(default_score.iloc[0]),
        "validation": report,
    }

    write_json(out / "summary.json", summary)
    return summary


def write_trials(oracle: kt.Oracle, out: Path, objective: str) -> pd.DataFrame:
    """`out/trials.csv` and `out/trials.png` from the oracle's trials; returns the table."""

    trials = trials_frame(oracle)
    with atomic_file(out / "trials.csv") as staging:
        trials.to_csv(staging, index=False)
    with atomic_file(out / "trials.png") as staging:
        plot_trials(trials, objective, staging)
    return trials


def failure_reason(message: str | None) -> str:
    """The last line of a failed trial's traceback, without the exception's module path."""
    lines = (message or "").strip().splitlines()
    if not lines:
        return "no score"
    kind, _, reason = lines[-1].partition(": ")
    return (reason if reason and "Error" in kind else lines[-1])[:200]


def hyperparameter_values(trial: Trial) -> Values:
    """A trial's values without KerasTuner's bookkeeping ("tuner/..."), booleans as booleans (gRPC
    sends them as integers)."""
    booleans = {hp.name for hp in trial.hyperparameters.space if isinstance(hp, kt.engine.hyperparameters.Boolean)}
    return {
        k: bool(v) if k in booleans else v
        for k, v in trial.hyperparameters.values.items()
        if not k.startswith("tuner/")
    }


def trials_frame(oracle: kt.Oracle) -> pd.DataFrame:
    """One row per trial: its number, status, score, hyperparameters, worker, time and memory."""
    rows = []
    for trial_id in sorted(oracle.trials, key=int):
        trial = oracle.trials[trial_id]

        def last(name: str, trial: Trial = trial) -> float:
            return trial.metrics.get_last_value(name) if trial.metrics.exists(name) else np.nan

        rows.append(
            {
                "trial": int(trial_id) + 1,
                "status": trial.status,
                "score": trial.score,
                **hyperparameter_values(trial),
                "worker": last("worker"),
                "seconds": last("seconds"),
                "rss_mb": last("rss_mb"),
                "message": failure_reason(trial.message) if trial.message else "",
            }
        )
    frame = pd.DataFrame(rows)
    if "worker" in frame:  # a process id, logged as a float by Keras: written as a whole number (or empty)
        frame["worker"] = frame["worker"].round().astype("Int64")
    return frame
