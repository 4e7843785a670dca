"""The Python face of forecaster: one `Forecaster` object over the same pipeline and run directory
the CLI uses, taking a CSV path or a pandas DataFrame.

    >>> from forecaster import Forecaster
    >>> model = Forecaster(horizon=13, target="value", time_col="step", id_col="id", epochs=5)
    >>> model.fit(frame)                     # or a CSV path
    >>> forecast = model.predict(frame)      # a DataFrame: id, step, forecast, method
    >>> report, per_series = model.backtest(newer_frame)
    >>> model.save("models/weekly"); again = Forecaster.load("models/weekly")

A DataFrame goes straight into the panel a file's rows make (`forecaster.io.frames.readable`), so the
Python API and the CLI check, scale and forecast the data identically (a test compares their bytes).
"""

from __future__ import annotations

import functools
import logging
import shutil
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from forecaster.errors import SettingsError
from forecaster.io.files import atomic_directory, check_replaceable
from forecaster.io.frames import RUN_FOLDER, Data, temporary_folder
from forecaster.kinds import JSON, Function, Options
from forecaster.lazy import lazy_module
from forecaster.models.backend import quiet_tensorflow_import
from forecaster.serving.checks import Levels, as_levels, check_data_path, require_horizon, with_target
from forecaster.serving.requests import Backend, BacktestRequest, Bands, Evaluation, ForecastRequest, Refit
from forecaster.settings import Settings

if TYPE_CHECKING:
    import keras
    import pandas as pd

    from forecaster.training.runs import Run

diagnosis = lazy_module("forecaster.doctor")
panels = lazy_module("forecaster.data.panel")
training = lazy_module("forecaster.training.train")
summaries = lazy_module("forecaster.training.summary")
updating = lazy_module("forecaster.training.update")
tuning = lazy_module("forecaster.training.tune")
runs = lazy_module("forecaster.training.runs")
predicting = lazy_module("forecaster.serving.predict")
adapting = lazy_module("forecaster.serving.adapt")
backtests = lazy_module("forecaster.serving.backtest")
evaluation = lazy_module("forecaster.serving.evaluate")
exporting = lazy_module("forecaster.serving.export")
backends = lazy_module("forecaster.serving.backends")
statistical = lazy_module("forecaster.scoring.statistical")

LOGGER = logging.getLogger("forecaster")


def to_logging(line: str) -> None:
    """The API's default `log`: each line the CLI prints, to the `forecaster` logger; notes (what was done to
    the data, what a run cannot do) at WARNING, which Python shows without any set-up, the rest at INFO
    (`logging.basicConfig(level="INFO")` shows every line the CLI would)."""
    LOGGER.log(logging.WARNING if line.lstrip().startswith("note:") else logging.INFO, line)


def spreading_fits(method: Function) -> Function:
    """The method's statistical fits spread over the worker processes the Forecaster's `n_jobs` asks for."""

    @functools.wraps(method)
    def spread(self: Forecaster, *args: object, **kwargs: object) -> object:
        with statistical.fit_processes(self.n_jobs):
            return method(self, *args, **kwargs)

    return cast(Function, spread)


class Forecaster:
    """An LSTM forecaster over one or many series: `fit`, `predict`, `backtest`, `save`, `load`, `export`.

    Args:
        horizon: steps to forecast.
        target, time_col, id_col: the columns, as the CLI's `--target`, `--time-col`, `--id-col`.
        **options: any other `forecaster train` option by its Python name (`lookback=336`,
            `layers=(64, 64)`, `ensemble=3`, `epochs=20`, ...); unknown names are refused.
        log: called with each line the CLI would print (notes, progress, the validation guard's decision);
            default: the `forecaster` logger (`to_logging`). Keras's progress bar is off unless
            `verbose=1` (a bar) or `verbose=2` (a line an epoch) is given.
        n_jobs: worker processes for the statistical fits (the validation guard's, a combination's), as
            scikit-learn reads it: None or -1 every core (as the CLI), 1 none. The workers import nothing of
            the calling script, so a script needs no `if __name__ == "__main__":` guard for them.
    """

    def __init__(
        self,
        horizon: int | None = None,
        target: str | None = None,
        time_col: str | None = None,
        id_col: str | None = None,
        *,
        log: Callable[[str], None] = to_logging,
        verbose: int = 0,
        n_jobs: int | None = None,
        **options: object,
    ):
        given = {"horizon": horizon, "target": target, "time_col": time_col, "id_col": id_col, **options}
        if verbose not in (0, 1, 2):
            raise SettingsError(f"verbose={verbose!r}: give 0 (no Keras output), 1 (a bar) or 2 (a line an epoch)")
        self.settings = Settings.given(given).with_values("train", verbose=verbose)
        self.log = log
        self.n_jobs = n_jobs
        statistical.processes_for(n_jobs)  # refused now, not after training
        self.run_dir: Path | None = None
        self._owned: Path | None = None  # a temporary run directory this object made
        self._removal: weakref.finalize | None = None  # removes it once this object is gone (or refits)
        self._run: Run | None = None
        self._model: keras.Model | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings | dict[str, Options],
        log: Callable[[str], None] = to_logging,
        n_jobs: int | None = None,
    ) -> Forecaster:
        """A Forecaster from `Settings` (the CLI's: options over a config file) or a config file's sections
        as dicts ({"data": {"target": "y"}, "window": {"horizon": 6}})."""
        forecaster = cls(log=log, n_jobs=n_jobs)
        forecaster.settings = Settings.given({}, settings)
        return forecaster

    # before training --------------------------------------------------------------------------
    def doctor(self, data: Data) -> JSON:
        """What `forecaster doctor` reports: lengths, frequency, season, gaps and each series' fate."""
        check_data_path(data)
        return diagnosis.diagnose(data, self.settings)

    # training -------------------------------------------------------------------------------
    @spreading_fits
    def fit(self, data: Data, *, out: str | Path | None = None, fresh: bool = False) -> Forecaster:
        """Train on `data` into the run directory `out` (default: a temporary one; `save` keeps it).

        Returns self; `self.validation` holds the validation metrics against seasonal naive.

        The data is read and checked before TensorFlow loads: bad data is refused in well under a second."""
        self._check_training(data)
        panel = panels.read_training_panel(data, self.settings.build("data"))
        for note in panel.notes:
            self.log(f"note: {note}")
        quiet_tensorflow_import()
        if out is None:
            self._discard()
            self._owned = temporary_folder(RUN_FOLDER)
            self._removal = weakref.finalize(self, shutil.rmtree, self._owned, ignore_errors=True)
            out = self._owned / "run"
        self.validation = training.train_run(data, self.settings, Path(out), self.log, fresh=fresh, panel=panel)
        for line in summaries.validation_line(self.validation).splitlines():
            self.log(line)
        self.run_dir = Path(out)
        self._run = self._model = None
        return self

    @spreading_fits
    def update(
        self,
        data: Data,
        *,
        out: str | Path,
        fresh: bool = False,
        epochs: int | None = None,
        verbose: int | None = None,
        holdout: int | None = None,
    ) -> Forecaster:
        """Continue training this run's networks on newer `data` into the new run directory `out`
        (`forecaster update`): its scalers kept, the validation guard, conformal table and adaptive bands
        renewed; this Forecaster then uses `out`. The run it was is never changed. `holdout`: the steps at the
        end of each series kept out of the update (None: the run's own `holdout`, as it trained).

        Returns self; `self.validation` holds the new validation metrics."""
        check_data_path(data)
        quiet_tensorflow_import()
        parent = self.run_dir
        if parent is None:
            raise SettingsError("update needs a trained run: fit or load one first")
        if verbose is not None:
            self.settings = self.settings.with_values("train", verbose=verbose)
        options = updating.UpdateOptions(epochs, self.settings.train.get("verbose", 0), fresh, holdout)
        carry = adapting.carried_forward
        self.validation = updating.update_run(parent, data, out, self.log, options, carry=carry)
        for line in summaries.validation_line(self.validation).splitlines():
            self.log(line)
        self.run_dir, self._run, self._model = Path(out), None, None
        return self

    @spreading_fits
    def tune(
        self, data: Data, *, out: str | Path, space: dict[str, list[object]] | None = None, **search: object
    ) -> JSON | None:
        """Search the hyperparameters with KerasTuner (`forecaster tune`): trials in `out`, the best
        trained into `out/best`, which this Forecaster then uses. `space` overrides lists of the search
        space (a config file's [tune]: {"units": [32, 64]}). `search`: tuner, max_trials, max_minutes,
        overwrite, chief, worker, worker_id, token, worker_timeout, mixed_precision.
        Returns the search summary (None on a worker)."""
        self._check_training(data)
        quiet_tensorflow_import()
        settings = self.settings.with_values("tune", **(space or {}))
        summary = tuning.tune_run(data, settings, Path(out), tuning.Search.of(search), self.log)
        if summary is not None:
            self.run_dir, self._run, self._model = Path(out) / "best", None, None
            self.validation = summary["validation"]
        return summary

    def _check_training(self, data: Data) -> None:
        """`forecaster.serving.checks`' refusals before training: the data path, the target, the horizon."""
        check_data_path(data)
        self.settings = with_target(self.settings)
        require_horizon(self.settings)

    # using a run ----------------------------------------------------------------------------
    @property
    def run(self) -> Run:
        if self.run_dir is None:
            raise SettingsError("this Forecaster is not fitted: call fit(data) or Forecaster.load(run_dir)")
        if self._run is None:
            self._run = runs.load_run(self.run_dir)
        return self._run

    @property
    def model(self) -> keras.Model:
        if self._model is None:
            quiet_tensorflow_import()
            self._model = self.run.load_model()
        return self._model

    @spreading_fits
    def predict(
        self,
        data: Data,
        *,
        level: Levels = (),
        out: str | Path | None = None,
        plot: str | Path | None = None,
        plot_series: list[str] | None = None,
        future: Data | None = None,
        engine: str = "local",
        address: str | None = None,
        keep: bool = True,
        adapt: bool = True,
    ) -> pd.DataFrame | int:
        """Forecast the horizon after the last row of every series in `data`: a DataFrame with the
        forecast CSV's columns (id, time, forecast, lo_L/hi_L for each conformal `level` in %,
        quantile columns, method). With `out`, also written there as CSV (Parquet for a .parquet path),
        and the plot of a few series (`plot_series`, default the first six) to `plot` (default beside
        `out`, as .png). A run with `--future` covariates takes their values at the forecast steps from
        rows of `data` after each series' last target value, or from `future` (a path or DataFrame
        with the id, time and --future columns).

        `engine` "dask", "ray" or "spark" forecasts on that engine (a local cluster on this machine's
        cores, or the one at `address`): whole series a partition, rows sorted by id and time, no plot.
        A Dask, Ray or Spark frame as `data` runs on its own engine.

        `keep=False` (with `out`): the rows are written to `out` a block at a time and not kept, so memory
        does not grow with the panel; the number of series forecast is returned instead of the frame.

        `adapt`: where `data` holds actuals after what training used, the `level` bands learn from the realised
        errors of those windows (`forecaster.serving.adapt`; the run is unchanged); False: the bands
        calibrated in training."""
        quiet_tensorflow_import()
        bands = Bands(as_levels(level), adapt)
        request = ForecastRequest(data, bands, future, out, plot, plot_series, keep)
        backend = backends.backend_for(data, engine, address)
        return predicting.predict_run(self.run, lambda: self.model, request, backend, self.log)

    @spreading_fits
    def backtest(
        self,
        data: Data,
        *,
        folds: int = 3,
        step: int | None = None,
        season: int | None = None,
        level: Levels = (80, 95),
        adapt: bool = True,
        refit_every: int | None = None,
        refit_from_scratch: bool = False,
        keep_refits: str | Path | None = None,
    ) -> tuple[JSON, pd.DataFrame]:
        """A rolling-origin backtest on the tail of `data` training never saw, against naive, seasonal
        naive and drift, with the conformal intervals at `level` scored (coverage, width, MSIS, coverage by
        quarter of the span). `adapt`: each window's band also learns from its series' earlier windows whose
        actuals were known at its cutoff (`forecaster.scoring.adaptive`); False: the static table's bands.
        `refit_every` K: the run is updated (`update`) on the data before every K-th cutoff, as the backtest
        goes (`refit_from_scratch`: trained anew there); the report's "refits" says how many and their time.
        `keep_refits`: a folder the refitted runs are kept in; a backtest run again with it (after an interruption)
        reuses each refit made from the same run and data.
        Returns (report dict as `evaluate`'s metrics.json, per-series DataFrame)."""
        bands, refit = Bands(as_levels(level), adapt), refit_of(refit_every, refit_from_scratch, keep_refits)
        found = self._backtest(BacktestRequest(data, folds, step, season, bands, refit))
        return found.report, found.per_series

    @spreading_fits
    def cross_validation(
        self,
        data: Data,
        *,
        folds: int = 3,
        step: int | None = None,
        level: Levels = (80, 95),
        adapt: bool = True,
        refit_every: int | None = None,
        refit_from_scratch: bool = False,
        keep_refits: str | Path | None = None,
    ) -> pd.DataFrame:
        """`backtest`'s windows step by step, as NeuralForecast's `cross_validation` returns them: a
        DataFrame with the id and time columns, cutoff, actual, forecast, each baseline and the conformal
        bands at `level` (what `evaluate` writes as forecasts.csv; `adapt`, `refit_every`, `keep_refits` as
        `backtest`)."""
        bands, refit = Bands(as_levels(level), adapt), refit_of(refit_every, refit_from_scratch, keep_refits)
        found = self._backtest(BacktestRequest(data, folds, step, None, bands, refit))
        return (
            found.windows
            if found.windows is not None
            else backtests.window_frame(found.backtest, self.run, found.panel)
        )

    @spreading_fits
    def evaluate(
        self,
        data: Data,
        *,
        out: str | Path | None = None,
        folds: int = 3,
        step: int | None = None,
        season: int | None = None,
        level: Levels | None = None,
        engine: str = "local",
        address: str | None = None,
        adapt: bool = True,
        refit_every: int | None = None,
        refit_from_scratch: bool = False,
        keep_refits: str | Path | None = None,
    ) -> tuple[JSON, pd.DataFrame]:
        """`backtest`, written as `forecaster evaluate` writes it to `out` (default RUN/evaluation):
        metrics.json, per_series.csv, forecasts.csv (every window step by step: `cross_validation`),
        errors_by_step.png, backtest.png. `level` None: 80 and 95 when the run has intervals.
        `engine` "dask", "ray" or "spark" (or a Dask/Ray/Spark frame as `data`) backtests the series on
        that engine, whole series a partition: the same metrics; forecasts.csv sorted by id; no backtest.png.
        `refit_every`, `refit_from_scratch`, `keep_refits` as `backtest` (the kept folder outside `out`)."""
        target = Path(out or self.run.path / "evaluation")
        check_replaceable(target, "evaluation")
        bands = Bands(evaluation.evaluation_levels(self.run, level), adapt)
        refit = refit_of(refit_every, refit_from_scratch, keep_refits, written_to=target)
        request = BacktestRequest(data, folds, step, season, bands, refit)
        found = self._backtest(request, backends.backend_for(data, engine, address))
        evaluation.write_evaluation(self.run, found, target)
        return found.report, found.per_series

    def _backtest(self, request: BacktestRequest, backend: Backend | None = None) -> Evaluation:
        """`forecaster.serving.evaluate.backtest_run` for this run (on this process unless `backend` says)."""
        quiet_tensorflow_import()
        backend = backend or backends.backend_for(request.data)
        return evaluation.backtest_run(self.run, lambda: self.model, request, backend, self.log)

    def export(self, out: str | Path | None = None, *, format: str = "saved_model", level: Levels = ()) -> Path:
        """Write a self-contained artifact (SavedModel, .keras or ONNX) to `out` (default RUN/export), with
        outputs lo_L/hi_L for each conformal `level`; returns the model's path."""
        quiet_tensorflow_import()
        target = Path(out or self.run.path / "export")
        check_replaceable(target, "export")
        path = exporting.export_run(self.run, target, format, as_levels(level))
        for note in [exporting.unserved_note(self.run), *self._level_notes(as_levels(level))]:
            if note:
                self.log(f"note: {note}")
        return path

    def _level_notes(self, levels: tuple[float, ...]) -> list[str]:
        return predicting.level_notes(self.run, levels)

    # run directories ------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Copy the run directory to `directory` (the same layout `forecaster train` writes)."""
        source = self.run.path
        target = Path(directory)
        if target.resolve() == source.resolve():
            return target
        check_replaceable(target, "run")
        with atomic_directory(target, "run") as staging:
            for item in source.iterdir():
                if item.is_file():
                    shutil.copy2(item, staging / item.name)
        return target

    @classmethod
    def load(
        cls, directory: str | Path, log: Callable[[str], None] = to_logging, n_jobs: int | None = None
    ) -> Forecaster:
        """A Forecaster over an existing run directory (written by `fit`, `save` or `forecaster train`)."""
        run = runs.load_run(directory)
        forecaster = cls(log=log, n_jobs=n_jobs)
        forecaster.settings = Settings.of_run(run.config.to_dict())
        forecaster.run_dir, forecaster._run = Path(directory), run
        return forecaster

    def _discard(self) -> None:
        """Remove the temporary run directory this object made (as the garbage collector or interpreter exit
        would, through `weakref.finalize`)."""
        removal = getattr(self, "_removal", None)  # absent when __init__ refused its options
        if removal is not None:
            removal()
        self._owned = self._removal = None

    def __repr__(self) -> str:
        state = f"run {self.run_dir}" if self.run_dir else "not fitted"
        return f"Forecaster(horizon={self.settings.window.get('horizon')}, {state})"


def refit_of(
    every: int | None, from_scratch: bool, kept: str | Path | None = None, written_to: Path | None = None
) -> Refit | None:
    """The `Refit` a backtest's `refit_every`, `refit_from_scratch` and `keep_refits` ask for (None: no refits);
    `written_to`: the evaluation's folder, which the kept folder must not lie in (it is replaced whole)."""
    if every is None:
        for given, name in ((from_scratch, "refit_from_scratch"), (kept is not None, "keep_refits")):
            if given:
                raise SettingsError(f"{name} needs refit_every (how many cutoffs between refits)")
        return None
    if not (isinstance(every, int) and not isinstance(every, bool) and every >= 1):
        raise SettingsError(f"refit_every must be a whole number of at least 1, got {every!r}")
    if kept is None:
        return Refit(every, from_scratch)
    folder = Path(kept)
    if written_to is not None and written_to.resolve() in (folder.resolve(), *folder.resolve().parents):
        raise SettingsError(
            f"--keep-refits {kept}: lies in the evaluation's folder {written_to}, which the evaluation replaces "
            "whole; keep the refitted runs in a folder of their own"
        )
    check_replaceable(folder, "refits", "--keep-refits")
    return Refit(every, from_scratch, kept=folder)


def load_keras(path: str | Path) -> keras.Model:
    """A `--format keras` export (`forecaster export --format keras`), loaded with every layer it holds
    registered: `keras.saving.load_model` needs them, and `import forecaster` alone loads no Keras."""
    quiet_tensorflow_import()
    return exporting.load_keras(path)
