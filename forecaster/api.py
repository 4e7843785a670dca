"""The Python face of forecaster: one `Forecaster` object over the same pipeline and run directory
the CLI uses, taking a CSV path or a pandas DataFrame.

    >>> from forecaster import Forecaster
    >>> model = Forecaster(horizon=13, target="value", time_col="step", id_col="id", epochs=5)
    >>> model.fit(frame)                     # or a CSV path
    >>> forecast = model.predict(frame)      # a DataFrame: id, step, forecast, method
    >>> report, per_series = model.backtest(newer_frame)
    >>> model.save("models/weekly"); again = Forecaster.load("models/weekly")

A DataFrame is written to a temporary CSV and read by the same loader as a file, so the Python API
and the CLI check, scale and forecast the data identically (a test compares their bytes).
"""

from __future__ import annotations

import numbers
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from forecaster.config import LIST_SETTINGS, SECTIONS, check_setting, check_settings
from forecaster.errors import DataError, ForecasterError, SettingsError
from forecaster.models.backend import quiet_tensorflow_import

# option name -> config section (the CLI's options and the config file's keys share these names)

Data = Any  # a CSV path (str or Path) or a pandas DataFrame
Levels = tuple[float, ...] | list[float] | float | str  # interval levels in %: (80, 95), 80 or "80,95"


def as_levels(level: Levels) -> tuple[float, ...]:
    """Checked interval levels, sorted (`forecaster.scoring.calibration.parse_levels`); one number is one level."""
    from forecaster.scoring.calibration import parse_levels

    if isinstance(level, (int, float)) and not isinstance(level, bool):
        level = (level,)
    if level is None or not isinstance(level, (str, tuple, list)):
        raise SettingsError(f"level: give interval levels in % such as 80 or (80, 95), not {level!r}")
    return parse_levels(level if isinstance(level, str) else ",".join(map(str, level)))


def _whole(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def sections_of(options: dict[str, Any], base: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Settings by config section: `base` (a config file's) overridden by the options that are not None."""
    sections = {name: dict(values) for name, values in (base or {}).items()}
    for name in ("data", "window", "model", "train", "tune"):
        sections.setdefault(name, {})
    unknown = [name for name in options if name not in SECTIONS]
    if unknown:
        raise SettingsError(f"unknown option(s) {', '.join(sorted(unknown))}; known: {', '.join(SECTIONS)}")
    for name, value in options.items():
        if value is not None:
            sections[SECTIONS[name]][name] = tuple(value) if isinstance(value, list) else value
    for values in sections.values():  # features = "date" is the list ("date",), not the letters d, a, t, e
        for name, value in values.items():
            if name in LIST_SETTINGS and isinstance(value, str):
                values[name] = tuple(part.strip() for part in value.split(",") if part.strip())
    check_settings({name: values for name, values in sections.items() if name != "tune"})
    return sections


DATA_FOLDER = "forecaster-data-"  # + pid: a DataFrame's temporary CSV, removed after (or by a later start)
RUN_FOLDER = "forecaster-run-"  # + pid: the run of a Forecaster fitted without `out`, removed with it


def _temporary_folder(prefix: str) -> Path:
    """A new temporary folder named by this process, after removing those of processes that are gone
    (what a kill -9 during `fit(frame)` left: a copy of the user's data, a half-made run)."""
    from forecaster.io.files import process_gone

    for folder in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        if process_gone(folder.name.removeprefix(prefix).split("-")[0]):
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))


def _frame_with_index(data: Any, time_col: str | None) -> Any:
    """A DataFrame whose index holds data (a DatetimeIndex, an id/time MultiIndex) with the index made
    columns, as pandas users keep time: an unnamed DatetimeIndex becomes the time column."""
    import pandas as pd

    index = data.index
    if isinstance(index, pd.RangeIndex):
        return data
    names = [name for name in index.names if name is not None]
    if isinstance(index, pd.DatetimeIndex) and index.name is None and time_col and time_col not in data.columns:
        return data.reset_index(names=time_col)
    if names and len(names) == index.nlevels and not set(names) & set(map(str, data.columns)):
        return data.reset_index()
    return data


@contextmanager
def as_csv(data: Data, id_col: str | None = None, time_col: str | None = None) -> Iterator[Path]:
    """A path to read `data` from: the path itself, or a temporary CSV of a DataFrame (removed after; one
    left by a killed process is removed by the next). A DataFrame's index is taken as columns when it holds
    the time (and ids); its errors name the DataFrame and the row's position, not the temporary file.

    A DataFrame whose `id_col` mixes numbers and text is refused: written to CSV, the ids 1 and "1" would
    become one series."""
    if isinstance(data, (str, Path)):
        yield Path(data)
        return
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a CSV path or a pandas DataFrame, got {type(data).__name__}")
    data = _frame_with_index(data, time_col)
    ids = data[id_col] if id_col and id_col in data.columns and data[id_col].dtype == object else None
    if ids is not None and ids.map(type).eq(bytes).any():  # b"s0" is the id s0
        try:
            decoded = data[id_col].map(lambda v: v.decode() if isinstance(v, bytes) else v)
            data = data.copy(deep=False)
            data[id_col] = decoded
        except UnicodeDecodeError:
            raise DataError(f"column {id_col!r}: bytes ids that are not UTF-8 text; decode them first") from None
    if id_col and id_col in data.columns and data[id_col].dtype == object:
        kinds = {type(value).__name__ for value in data[id_col].dropna().unique()}
        if "str" in kinds and len(kinds) > 1:
            raise DataError(
                f"column {id_col!r} mixes text and {', '.join(sorted(kinds - {'str'}))} ids (1 and '1' would be one "
                f"series): give every id one type, e.g. frame[{id_col!r}].astype(str)"
            )
    folder = _temporary_folder(DATA_FOLDER)
    path = folder / "data.csv"
    try:
        data.to_csv(path, index=False)
        yield path
    except ForecasterError as exc:
        message = str(exc).replace(str(path), "DataFrame")
        raise type(exc)(  # the same kind of error (data, settings, damaged run), about the frame
            re.sub(r"\brow (\d+)", lambda found: f"row at position {int(found.group(1)) - 2}", message)
        ) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def forecast_sink(out: Path) -> Iterator[Callable[[Any], None]]:
    """A function that appends forecast rows to `out` (Parquet marked ours, or CSV with one header), a block
    at a time if need be, so the forecast of a large panel never exists whole in memory. The rows go to a
    staging file that replaces `out` only when the context ends without an error."""
    from forecaster.io.files import atomic_file
    from forecaster.io.readers import reader_for

    with atomic_file(out) as staging, reader_for(out).sink(staging, "forecast") as append:
        yield append


def write_forecast(frame: Any, out: Path) -> None:
    """The whole forecast frame at `out`, atomically (`forecast_sink`)."""
    with forecast_sink(out) as write:
        write(frame)


READ_AHEAD = 4  # blocks of series read while the caller forecasts earlier ones (and loads the model)


def read_ahead(items: Iterator[Any], depth: int = READ_AHEAD) -> Iterator[Any]:
    """The items of `items`, up to `depth` of the next ones made in a thread while the caller works on
    this one: reading Parquet and predicting both leave the GIL most of the time. An error in the
    thread is raised here, in turn; stopping early stops the thread."""
    import queue
    import threading

    ready: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand(kind: str, item: Any) -> bool:
        """Queue the item unless the caller has stopped; whether it was queued."""
        while not stop.is_set():
            try:
                ready.put((kind, item), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not hand("item", item):
                    return
            hand("end", None)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, raised there
            hand("error", exc)

    worker = threading.Thread(target=make, name="read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = ready.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


class Forecaster:
    """An LSTM forecaster over one or many series: `fit`, `predict`, `backtest`, `save`, `load`, `export`.

    Args:
        horizon: steps to forecast.
        target, time_col, id_col: the columns, as the CLI's `--target`, `--time-col`, `--id-col`.
        **options: any other `forecaster train` option by its Python name (`lookback=336`,
            `layers=(64, 64)`, `ensemble=3`, `epochs=20`, ...); unknown names are refused.
        log: called with each progress line (default: none).
    """

    def __init__(
        self,
        horizon: int | None = None,
        target: str | None = None,
        time_col: str | None = None,
        id_col: str | None = None,
        *,
        log: Callable[[str], None] = lambda _: None,
        **options: Any,
    ):
        settings = {"horizon": horizon, "target": target, "time_col": time_col, "id_col": id_col, **options}
        self.sections = sections_of(settings)
        self.log = log
        self.run_dir: Path | None = None
        self._owned: Path | None = None  # a temporary run directory this object made
        self._run: Any = None
        self._model: Any = None

    @classmethod
    def from_sections(
        cls, sections: dict[str, dict[str, Any]], log: Callable[[str], None] = lambda _: None
    ) -> Forecaster:
        """A Forecaster from settings by config section (a config file's, overridden by options: the CLI's way)."""
        forecaster = cls(log=log)
        forecaster.sections = sections_of({}, sections)
        return forecaster

    # before training --------------------------------------------------------------------------
    def doctor(self, data: Data) -> dict[str, Any]:
        """What `forecaster doctor` reports: lengths, frequency, season, gaps and each series' fate."""
        from forecaster.doctor import diagnose

        with as_csv(data, self.sections["data"].get("id_col"), self.sections["data"].get("time_col")) as path:
            return diagnose(str(path), self.sections)

    # training -------------------------------------------------------------------------------
    def fit(self, data: Data, *, out: str | Path | None = None, fresh: bool = False) -> Forecaster:
        """Train on `data` into the run directory `out` (default: a temporary one; `save` keeps it).

        Returns self; `self.validation` holds the validation metrics against seasonal naive.

        The data is read and checked before TensorFlow loads: bad data is refused in well under a second."""
        from forecaster.config import DataConfig, _build
        from forecaster.data.panel import load_panel

        if "target" not in self.sections["data"]:
            raise SettingsError("target is required: the column to forecast")
        with as_csv(data, self.sections["data"].get("id_col"), self.sections["data"].get("time_col")) as path:
            panel = load_panel(path, _build(DataConfig, self.sections["data"]))
            for note in panel.notes:
                self.log(f"note: {note}")
            quiet_tensorflow_import()
            from forecaster.training.train import train_run

            if out is None:
                self._discard()
                self._owned = _temporary_folder(RUN_FOLDER)
                out = self._owned / "run"
            self.validation = train_run(path, self.sections, Path(out), self.log, fresh=fresh, panel=panel)
        self.run_dir = Path(out)
        self._run = self._model = None
        return self

    def tune(
        self, data: Data, *, out: str | Path, space: dict[str, list[Any]] | None = None, **search: Any
    ) -> dict[str, Any] | None:
        """Search the hyperparameters with KerasTuner (`forecaster tune`): trials in `out`, the best
        trained into `out/best`, which this Forecaster then uses. `space` overrides lists of the search
        space (a config file's [tune]: {"units": [32, 64]}). `search`: tuner, max_trials, max_minutes,
        overwrite, chief, worker, worker_id, token, worker_timeout, mixed_precision.
        Returns the search summary (None on a worker)."""
        quiet_tensorflow_import()
        from forecaster.training.tune import tune_run

        if "target" not in self.sections["data"]:
            raise SettingsError("target is required: the column to forecast")
        sections = {**self.sections, "tune": {**self.sections.get("tune", {}), **(space or {})}}
        with as_csv(data, self.sections["data"].get("id_col"), self.sections["data"].get("time_col")) as path:
            summary = tune_run(path, sections, Path(out), log=self.log, **search)
        if summary is not None:
            self.run_dir, self._run, self._model = Path(out) / "best", None, None
            self.validation = summary["validation"]
        return summary

    # using a run ----------------------------------------------------------------------------
    @property
    def run(self) -> Any:
        from forecaster.training.runs import load_run

        if self.run_dir is None:
            raise ForecasterError("this Forecaster is not fitted: call fit(data) or Forecaster.load(run_dir)")
        if self._run is None:
            self._run = load_run(self.run_dir)
        return self._run

    @property
    def model(self) -> Any:
        if self._model is None:
            quiet_tensorflow_import()
            self._model = self.run.load_model()
        return self._model

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
    ) -> Any:
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
        import pandas

        from forecaster.io.files import atomic_file, check_output_file
        from forecaster.io.plots import plot_forecasts
        from forecaster.io.readers import reader_for
        from forecaster.serving.engines import check_engine, engine_of
        from forecaster.serving.forecast import id_and_time_columns

        run = self.run
        for option, given in (("out", out), ("plot", plot)):
            if given is not None and not str(given).strip():
                raise SettingsError(f"{option} {str(given)!r}: give a file path (or None for no file)")
        plot_path = Path(plot or Path(str(out)).with_suffix(".png")) if out is not None or plot is not None else None
        for option, target in (("out", out), ("plot", plot_path)):  # the CLI's check, before any work
            if target is not None:
                check_output_file(Path(target), option, tuple(d for d in (data, future) if isinstance(d, (str, Path))))
        engine = engine_of(data, engine)
        check_engine(engine, address)
        if engine != "local":
            frame = self._predict_on(engine, address, data, as_levels(level), out, future, adapt)
            return frame if keep else frame.iloc[:, 0].nunique()
        levels = as_levels(level)
        for note in self._level_notes(levels):
            self.log(f"note: {note}")
        # a directory of Parquet shards whose series' rows lie together in one shard is forecast a block of
        # whole series at a time, so memory holds one block's series, whatever the panel's size
        by_path = isinstance(data, (str, Path)) and future is None
        blocks = reader_for(data).series_shards(Path(data), run.config.data.id_col) if by_path else None
        if blocks and plot_series:
            known = set().union(*(ids for _, ids in blocks))
            missing = [sid for sid in plot_series if sid not in known]
            if missing:
                raise DataError(f"--series: no series {missing[0]!r} in the data")
        if run.config.model.quantiles and level:
            self.log(
                "note: the q_* columns are the network's own quantiles; lo_*/hi_* are the conformal bands "
                "calibrated on validation windows: use those for a stated coverage (README, Prediction intervals)"
            )
        frames: list[Any] = []  # the forecast's rows, or (keep=False) only the plotted series' rows
        history: dict[str, Any] = {}  # the plotted series' recent past, filled as their blocks come
        id_col, time_col = id_and_time_columns(run.config)
        streaming = out is not None and not keep
        with ExitStack() as stack:
            sink = stack.enter_context(forecast_sink(Path(str(out)))) if streaming else frames.append

            def take(rows: Any) -> None:
                sink(rows)
                if streaming and plot_path is not None:
                    frames.append(rows[rows[id_col].isin(list(history))])

            done = self._forecast_each(
                data, blocks, levels, future, history if plot_path else None, plot_series, take, adapt
            )
            frame = frames[0] if len(frames) == 1 else pandas.concat(frames, ignore_index=True)
            # the plot and the CSV are both staged and replace the previous ones only when both are written
            # (the stack renames them as it closes): a disk that fills while plotting changes nothing
            if plot_path is not None:
                staging = stack.enter_context(atomic_file(plot_path))
                plot_forecasts(history, frame, time_col, id_col, staging, run.config.data.target, total=done)
            if out is not None and not streaming:
                stack.enter_context(forecast_sink(Path(out)))(frame)
        return frame if keep else done

    def _forecast_each(
        self,
        data: Data,
        blocks: list[tuple[Path, set[str]]] | None,
        levels: tuple[float, ...],
        future: Data | None,
        history: dict[str, Any] | None,
        plot_series: list[str] | None,
        take: Callable[[Any], None],
        adapt: bool = True,
    ) -> int:
        """Forecast `data` whole, or each block of its shards in turn, handing each one's rows to `take`;
        a note on the data said once, the plans' notes added up and said at the end, progress per block;
        the plotted series' recent past put in `history`. Returns the number of series forecast."""
        from forecaster.serving.forecast import attach_future, cost_note, forecast_frame, forecast_plan, recent_history

        run = self.run
        said: set[str] = set()
        tally = None
        total, done = (sum(len(ids) for _, ids in blocks) if blocks else 0), 0
        for where, panel in read_ahead(self._panels(data, blocks)):
            if future is not None:
                with as_csv(future, run.config.data.id_col, run.config.data.time_col) as path:
                    attach_future(run, panel, path)
            plan = forecast_plan(run, panel)
            cost = cost_note(run, total or len(panel.series)) if tally is None else None
            for note in (panel.notes if blocks else [*panel.notes, *plan.notes]) + ([cost] if cost else []):
                if note not in said:
                    self.log(f"note: {where}{note}")
                    said.add(note)
            tally = plan.tally if tally is None else tally.merge(plan.tally)
            if history is not None:
                ids = {series.series_id for series in panel.series}  # a block's: chosen series may be in others
                wanted = plot_series if plot_series is None or blocks is None else [s for s in plot_series if s in ids]
                if wanted or not history:
                    history.update(recent_history(panel, run, wanted))
            rows = forecast_frame(run, panel, self.model, plan, levels, adapt)
            for note in rows.attrs.pop("notes", []):
                self.log(f"note: {where}{note}")
            take(rows)
            done += len(panel.series)
            if blocks:
                self.log(f"forecast {done:,} of {total:,} series")
        for note in tally.notes(run) if blocks and tally else []:
            self.log(f"note: {note}")
        return done

    def _panels(self, data: Data, shards: list[tuple[Path, set[str]]] | None) -> Iterator[tuple[str, Any]]:
        """(where, panel): the whole of `data`, or each block of whole series of each shard."""
        from dataclasses import replace

        from forecaster.data.panel import panels_in_blocks
        from forecaster.serving.forecast import load_forecast_panel

        if shards is None:
            with as_csv(data, self.run.config.data.id_col, self.run.config.data.time_col) as path:
                yield "", load_forecast_panel(self.run, path)
            return
        cfg = replace(self.run.config.data, freq=self.run.freq)
        for where, panel in panels_in_blocks(cfg, [shard for shard, _ in shards]):
            yield f"{where.name}: ", panel

    def _predict_on(
        self,
        engine: str,
        address: str | None,
        data: Data,
        levels: tuple[float, ...],
        out: Any,
        future: Any,
        adapt: bool = True,
    ) -> Any:
        """`predict` on Dask, Ray or Spark (`forecaster.serving.engines`)."""
        from forecaster.serving.engines import engine_forecast

        if future is not None:
            raise SettingsError(
                f"--engine {engine}: give the --future values as rows of DATA after each series' last target value "
                "(--future-data is read by --engine local only)"
            )
        for note in self._level_notes(levels):
            self.log(f"note: {note}")
        self.log(f"forecasting on {engine}{f' at {address}' if address else ''}: whole series a partition")
        frame = engine_forecast(self.run, data, levels, engine, address, adapt)
        if out is not None:
            write_forecast(frame, Path(out))
        return frame

    def backtest(
        self,
        data: Data,
        *,
        folds: int = 3,
        step: int | None = None,
        season: int | None = None,
        level: Levels = (80, 95),
        adapt: bool = True,
    ) -> tuple[dict[str, Any], Any]:
        """A rolling-origin backtest on the tail of `data` training never saw, against naive, seasonal
        naive and drift, with the conformal intervals at `level` scored (coverage, width, MSIS, coverage by
        quarter of the span). `adapt`: each window's band also learns from its series' earlier windows whose
        actuals were known at its cutoff (`forecaster.scoring.adaptive`); False: the static table's bands.
        Returns (report dict as `evaluate`'s metrics.json, per-series DataFrame)."""
        report, per_series, _ = self._backtest(data, folds, step, season, as_levels(level), adapt=adapt)
        return report, per_series

    def cross_validation(
        self, data: Data, *, folds: int = 3, step: int | None = None, level: Levels = (80, 95), adapt: bool = True
    ) -> Any:
        """`backtest`'s windows step by step, as NeuralForecast's `cross_validation` returns them: a
        DataFrame with the id and time columns, cutoff, actual, forecast, each baseline and the conformal
        bands at `level` (what `evaluate` writes as forecasts.csv; `adapt` as `backtest`)."""
        from forecaster.serving.backtest import window_frame

        _, _, (backtest, panel) = self._backtest(data, folds, step, None, as_levels(level), adapt=adapt)
        return window_frame(backtest, self.run, panel)

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
    ) -> tuple[dict[str, Any], Any]:
        """`backtest`, written as `forecaster evaluate` writes it to `out` (default RUN/evaluation):
        metrics.json, per_series.csv, forecasts.csv (every window step by step: `cross_validation`),
        errors_by_step.png, backtest.png. `level` None: 80 and 95 when the run has intervals.
        `engine` "dask", "ray" or "spark" (or a Dask/Ray/Spark frame as `data`) backtests the series on
        that engine, whole series a partition: the same metrics; forecasts.csv sorted by id; no backtest.png."""
        import pandas

        from forecaster.io.files import atomic_directory, check_replaceable, csv_safe, write_json
        from forecaster.io.plots import plot_backtest, plot_errors_by_step
        from forecaster.serving.backtest import plot_panels, window_frame
        from forecaster.training.runs import CALIBRATION_FILE

        check_replaceable(Path(out or self.run.path / "evaluation"), "evaluation")
        levels = as_levels(level or ())
        if level is None and (self.run.path / CALIBRATION_FILE).is_file():
            levels = (80.0, 95.0)
        found = self._backtest(data, folds, step, season, levels, engine, address, adapt)
        report, per_series, (backtest, panel) = found
        with atomic_directory(Path(out or self.run.path / "evaluation"), "evaluation") as staging:
            write_json(staging / "metrics.json", report)
            csv_safe(per_series).to_csv(staging / "per_series.csv", index=False)
            windows = panel if isinstance(panel, pandas.DataFrame) else window_frame(backtest, self.run, panel)
            csv_safe(windows).to_csv(staging / "forecasts.csv", index=False)
            plot_errors_by_step(report["mae_by_step"], staging / "errors_by_step.png")
            if not isinstance(panel, pandas.DataFrame):  # an engine's workers keep the series' history
                horizon, target = self.run.config.window.horizon, self.run.config.data.target
                total = len(set(backtest.series_idx.tolist()))
                plot_backtest(plot_panels(backtest, panel, horizon, target), staging / "backtest.png", total)
        return report, per_series

    def _backtest(
        self,
        data: Data,
        folds: int,
        step: int | None,
        season: int | None,
        levels: tuple[float, ...],
        engine: str = "local",
        address: str | None = None,
        adapt: bool = True,
    ) -> tuple[dict[str, Any], Any, tuple[Any, Any]]:
        """(report, per-series table, (Backtest, panel)); on an engine, the windows frame for the panel."""
        quiet_tensorflow_import()
        from forecaster.serving.backtest import folds_note, run_backtest, summarise
        from forecaster.serving.engines import check_engine, engine_backtest, engine_of
        from forecaster.serving.forecast import load_forecast_panel, trained_panel

        if not all(_whole(n) and n >= 1 for n in (folds, 1 if step is None else step)):
            raise SettingsError(f"--folds and --step must be whole numbers of at least 1, got {folds!r}, {step!r}")
        check_setting("season", season)  # the rule every --season is checked by
        engine = engine_of(data, engine)
        check_engine(engine, address)
        if engine != "local":
            for note in self._level_notes(levels):
                self.log(f"note: {note}")
            self.log(f"backtesting on {engine}{f' at {address}' if address else ''}: whole series a partition")
            season = season or self.run.season
            step = step or self.run.config.window.horizon
            found = engine_backtest(self.run, data, folds, step, season, levels, engine, address, adapt)
            backtest, ids, windows = found
            report, per_series = summarise(backtest, self.run, ids, season)
            return report, per_series, (backtest, windows)
        with as_csv(data, self.run.config.data.id_col, self.run.config.data.time_col) as path:
            panel = trained_panel(self.run, load_forecast_panel(self.run, path))
        longest = max(len(s) for s in panel.series)
        if season is not None and season >= longest:
            raise SettingsError(
                f"--season {season} is not shorter than the longest series ({longest} points): MASE's seasonal-naive "
                "scale needs a season the data covers; give a shorter --season"
            )
        for note in [*panel.notes, *self._level_notes(levels)]:
            self.log(f"note: {note}")
        season = season or self.run.season
        horizon = self.run.config.window.horizon
        backtest = run_backtest(self.run, panel, self.model, folds, step or horizon, season, levels, adapt)
        fewer = folds_note(backtest.series_idx, len(panel.series), folds, step or horizon)
        if fewer:
            self.log(f"note: {fewer}")
        report, per_series = summarise(backtest, self.run, [s.series_id for s in panel.series], season)
        return report, per_series, (backtest, panel)

    def export(self, out: str | Path | None = None, *, format: str = "saved_model", level: Levels = ()) -> Path:
        """Write a self-contained artifact (SavedModel, .keras or ONNX) to `out` (default RUN/export), with
        outputs lo_L/hi_L for each conformal `level`; returns the model's path."""
        quiet_tensorflow_import()
        from forecaster.io.files import check_replaceable
        from forecaster.serving.export import export_run, unserved_note

        target = Path(out or self.run.path / "export")
        check_replaceable(target, "export")
        path = export_run(self.run, target, format, as_levels(level))
        for note in [unserved_note(self.run), *self._level_notes(as_levels(level))]:
            if note:
                self.log(f"note: {note}")
        return path

    def _level_notes(self, levels: tuple[float, ...]) -> list[str]:
        """A note when a level is finer than the run's calibration windows support (none without levels)."""
        from forecaster.scoring.calibration import thin_levels_note
        from forecaster.training.runs import CALIBRATION_FILE

        if not levels or not (self.run.path / CALIBRATION_FILE).is_file():
            return []
        note = thin_levels_note(self.run.calibration().windows, levels)
        return [note] if note else []

    # run directories ------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Copy the run directory to `directory` (the same layout `forecaster train` writes)."""
        from forecaster.io.files import atomic_directory, check_replaceable

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
    def load(cls, directory: str | Path, log: Callable[[str], None] = lambda _: None) -> Forecaster:
        """A Forecaster over an existing run directory (written by `fit`, `save` or `forecaster train`)."""
        from forecaster.training.runs import load_run

        run = load_run(directory)
        forecaster = cls(log=log)
        forecaster.sections = sections_of({}, run.config.to_dict())
        forecaster.run_dir, forecaster._run = Path(directory), run
        return forecaster

    def _discard(self) -> None:
        owned = getattr(self, "_owned", None)  # absent when __init__ refused its options
        if owned is not None:
            shutil.rmtree(owned, ignore_errors=True)
            self._owned = None

    def __del__(self) -> None:
        self._discard()

    def __repr__(self) -> str:
        state = f"run {self.run_dir}" if self.run_dir else "not fitted"
        return f"Forecaster(horizon={self.sections['window'].get('horizon')}, {state})"
