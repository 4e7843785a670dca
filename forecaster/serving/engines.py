"""Forecasts on Dask, Ray or Spark: the data partitioned by series id (many whole series a partition:
Fugue's coarse partitioning, as statsforecast and neuralforecast do it), each partition forecast by the
ordinary one-process path (`panel_from_frame`, `forecast_plan`, `forecast_frame`) in a worker that
loads the run once. The engine is an existing one; this module only hands it the work.

Install one with `pip install 'forecaster-lstm[dask]'` (or `[ray]`, `[spark]`); the base install pulls none.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from triad import Schema

from forecaster.data.panel import panel_from_frame
from forecaster.data.series import Panel
from forecaster.errors import ForecasterError, SettingsError
from forecaster.io.frames import Data
from forecaster.io.readers import reader_for
from forecaster.kinds import Log, Network, Options
from forecaster.models.backend import quiet_tensorflow_import
from forecaster.scoring.baselines import BASELINES
from forecaster.serving.backtest import from_scored_windows, run_backtest, scored_windows, summarise
from forecaster.serving.clusters import clusters
from forecaster.serving.columns import id_and_time_columns, quantile_column
from forecaster.serving.forecast import forecast_frame, forecast_plan, trained_panel
from forecaster.serving.predict import write_forecast
from forecaster.serving.requests import Backtest, BacktestPlan, BacktestRequest, Bands, Evaluation, ForecastRequest
from forecaster.training.runs import Run, load_run

PARTITIONS_PER_WORKER = 4  # partitions of whole series per worker core: enough to balance, few model loads


@contextlib.contextmanager
def engine_session(cluster: Cluster) -> Iterator[object]:
    """What Fugue runs on: a client of `cluster` at its address, or a local one on this machine's cores
    (closed afterwards; a cluster we did not start is left running)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # workers inherit it: no TensorFlow start-up chatter
    with clusters()[cluster.name].session(cluster.address, os.cpu_count() or 1) as session:
        yield session


@functools.lru_cache(maxsize=4)
def loaded_run(run_dir: str) -> tuple[Run, Network]:
    """The run and its model, loaded once per worker process (TensorFlow imported quietly there too)."""

    quiet_tensorflow_import()

    run = load_run(run_dir)
    return run, run.load_model()


def partition_panel(frame: pd.DataFrame, run: Run, label: str) -> Panel:
    """A partition's whole series as a Panel, read as `forecast` reads a file (nanosecond times that Spark
    handed over as int64 made times again)."""

    cfg = replace(run.config.data, freq=run.freq)
    frame = frame.reset_index(drop=True)
    if FILE_ROW in frame:  # each row's place in the file, so an error names the file's line, not the partition's
        frame.index = pd.Index(frame.pop(FILE_ROW).to_numpy("int64"))
    if cfg.time_col and not run.freq.startswith("int:") and pd.api.types.is_integer_dtype(frame[cfg.time_col]):
        frame[cfg.time_col] = pd.to_datetime(frame[cfg.time_col], unit="ns")
    return panel_from_frame(frame, cfg, label)


def forecast_partition(
    frame: pd.DataFrame, run_dir: str, label: str, levels: list[float], adapt: bool = True
) -> pd.DataFrame:
    """One partition's forecast: its whole series read, planned and forecast as `forecast` does it."""

    run, model = loaded_run(run_dir)
    panel = partition_panel(frame, run, label)
    forecasts = forecast_frame(run, panel, model, forecast_plan(run, panel), Bands(tuple(levels), adapt))
    return zone_free(forecasts, run, panel.zone, (output_columns(run)[1],))


def output_columns(run: Run) -> tuple[str, str]:

    return id_and_time_columns(run.config)


def forecast_schema(run: Run, levels: tuple[float, ...]) -> Schema:
    """The forecast frame's columns and types, as the engines need them before any partition is done."""

    id_col, time_col = output_columns(run)
    columns = [(id_col, "str"), (time_col, "time"), ("forecast", "float")]
    for level in levels:
        columns += [(f"lo_{level:g}", "float"), (f"hi_{level:g}", "float")]
    columns += [(quantile_column(q), "float") for q in run.config.model.quantiles]
    return schema_of(run, [*columns, ("method", "str")])


def backtest_schema(run: Run, levels: tuple[float, ...]) -> Schema:
    """The columns of `scored_windows`: `evaluate`'s forecasts.csv and what scoring needs besides."""

    id_col, time_col = output_columns(run)
    columns = [(id_col, "str"), ("cutoff", "time"), (time_col, "time"), ("actual", "float"), ("forecast", "float")]
    selection = run.selection()
    if selection and selection.method != "model":
        columns.append(("model", "float"))
    columns += [(name, "float") for name in BASELINES]
    for level in levels:
        columns += [(f"lo_{level:g}", "float"), (f"hi_{level:g}", "float")]
    columns += [("_origin", "int"), ("_step", "int"), ("_scale", "float")]
    columns += [(f"_{quantile_column(q)}", "float") for q in run.config.model.quantiles]
    return schema_of(run, columns)


def schema_of(run: Run, columns: list[tuple[str, str]]) -> Schema:
    import pyarrow as pa
    from triad import Schema

    time_type = pa.int64() if run.freq.startswith("int:") else pa.timestamp("ns")
    types = {"str": pa.string(), "float": pa.float64(), "int": pa.int64(), "time": time_type}
    return Schema(pa.schema([pa.field(name, types[kind]) for name, kind in columns]))


def on_engine(
    run: Run,
    data: Data,
    cluster: Cluster,
    worker: Callable[..., pd.DataFrame],
    schema: Schema,
    params: Options,
) -> pd.DataFrame:
    """`worker(partition, run_dir, label, **params)` over whole-series partitions of `data` (a CSV or
    Parquet path, or a Dask/Ray/Spark frame) on `cluster`, the results collected as one pandas frame in
    the types `--engine local` gives."""
    import fugue.api as fa

    cfg = run.config.data
    if not cfg.id_col or cfg.wide:
        raise SettingsError(
            f"--engine {cluster.name}: the data must be long (one row per series and time) with --id-col, so whole "
            "series can be sent to the workers"
        )
    columns = [c for c in (cfg.id_col, cfg.time_col, cfg.target, *cfg.features, *cfg.future, *cfg.static) if c]
    label = str(data) if isinstance(data, (str, Path)) else f"{type(data).__name__} frame"
    path = isinstance(data, (str, Path))
    with engine_session(cluster) if path else contextlib.nullcontext(None) as session:
        reader = reader_for(data) if path else None
        if reader is not None and reader.engine_load is not None:
            source = reader.engine_load(Path(data), columns, cfg.id_col, session)
        elif reader is not None:  # read here, each row numbered as in the file, and handed to the engine
            source = reader.read(Path(data), set(columns), (), (cfg.id_col,))
            source[FILE_ROW] = source.index.to_numpy("int64")
        else:  # the caller's own frame, on the engine it belongs to
            source = data
        cores = os.cpu_count() or 1
        try:
            result = fa.transform(
                source,
                worker,
                schema=schema,
                params={"run_dir": str(run.path), "label": label, **params},
                partition={"by": [cfg.id_col], "algo": "coarse", "num": PARTITIONS_PER_WORKER * cores},
                engine=session,
                as_local=True,
            )
            frame = fa.as_pandas(result)
        except Exception as exc:  # a worker's refusal of the data, as the engine wrapped it: its one line
            told = user_error(exc)
            if told is None:
                raise
            raise type(told)(str(told)) from None  # the same kind (data, settings, damaged run)
    # the engines' nullable types back to the ones `--engine local` writes
    kinds = {}
    for field in schema.fields:
        if str(field.type) == "string":
            kinds[field.name] = "object"
        elif str(field.type) == "double":
            kinds[field.name] = "float64"
        elif str(field.type).startswith("timestamp"):
            kinds[field.name] = "datetime64[ns]"
        else:
            kinds[field.name] = "int64"
    return frame.astype(kinds)


FILE_ROW = "__forecaster_row"  # a CSV row's 0-based place in the file, carried to the workers


def user_error(exc: BaseException) -> ForecasterError | None:
    """The ForecasterError (of any kind) a worker raised, found through the engine's wrapping (Ray's
    RayTaskError keeps it as `cause`; Dask and Fugue chain it); None when the failure is not the user's.
    Ray's wrapper is itself an instance of the error's class, made on the fly, whose text is the worker's
    traceback: only an error of one of forecaster's own classes is the user's one line."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ForecasterError) and type(current).__module__ == ForecasterError.__module__:
            return current
        cause = getattr(current, "cause", None)
        current = cause if isinstance(cause, BaseException) else (current.__cause__ or current.__context__)
    return None


def engine_forecast(run: Run, data: Data, bands: Bands, cluster: Cluster) -> pd.DataFrame:
    """Every series of `data` forecast on `cluster`, sorted by series id and time; the numbers
    `--engine local` gives."""
    params = {"levels": list(bands.levels), "adapt": bands.adapt}
    frame = on_engine(run, data, cluster, forecast_partition, forecast_schema(run, bands.levels), params)
    id_col, time_col = output_columns(run)
    return frame.sort_values([id_col, time_col], kind="stable").reset_index(drop=True)


def backtest_partition(
    frame: pd.DataFrame,
    run_dir: str,
    label: str,
    folds: int,
    step: int,
    season: int,
    levels: list[float],
    adapt: bool = True,
) -> pd.DataFrame:
    """One partition's backtest windows (`scored_windows`), made as `evaluate` makes them."""

    run, model = loaded_run(run_dir)
    panel = trained_panel(run, partition_panel(frame, run, label))
    plan = BacktestPlan(folds, step, season, Bands(tuple(levels), adapt))
    windows = scored_windows(run_backtest(run, panel, model, plan), run, panel)
    return zone_free(windows, run, panel.zone, ("cutoff", output_columns(run)[1]))


def engine_backtest(
    run: Run, data: Data, plan: BacktestPlan, cluster: Cluster
) -> tuple[Backtest, list[str], pd.DataFrame]:
    """`run_backtest` on `cluster`: (Backtest, series ids, windows frame), as `from_scored_windows` gives them."""
    levels = plan.bands.levels
    params = {"folds": plan.folds, "step": plan.step, "season": plan.season, "levels": list(levels),
              "adapt": plan.bands.adapt}  # fmt: skip
    frame = on_engine(run, data, cluster, backtest_partition, backtest_schema(run, levels), params)
    backtest, ids, windows = from_scored_windows(frame, run)
    backtest.adapted = plan.bands.adapt and bool(levels)
    return backtest, ids, windows


def zone_free(frame: pd.DataFrame, run: Run, zone: str | None, columns: tuple[str, ...]) -> pd.DataFrame:
    """Times written back in the data's zone, as UTC without one: the engines' schemas hold zone-less times."""
    if zone is not None:
        for column in columns:
            frame[column] = frame[column].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame


@dataclass(frozen=True)
class Cluster:
    """The cluster of engine `name` at `address` (None: a local one on this machine's cores): whole series a
    partition, each forecast by the one-process path in a worker that loads the run once
    (`forecaster.serving.engines`); no plot (the workers hold the series' history)."""

    name: str
    address: str | None = None

    def forecast(
        self, run: Run, model: Callable[[], Network], request: ForecastRequest, log: Log
    ) -> pd.DataFrame | int:
        if request.future is not None:
            raise SettingsError(
                f"--engine {self.name}: give the --future values as rows of DATA after each series' last target "
                "value (--future-data is read by --engine local only)"
            )
        log(f"forecasting on {self.where()}: whole series a partition")
        frame = engine_forecast(run, request.data, request.bands, self)
        if request.out is not None:
            write_forecast(frame, Path(request.out))
        return frame if request.keep else frame.iloc[:, 0].nunique()

    def backtest(self, run: Run, model: Callable[[], Network], request: BacktestRequest, log: Log) -> Evaluation:
        log(f"backtesting on {self.where()}: whole series a partition")
        plan = request.plan(run.config.window.horizon, run.season)
        backtest, ids, windows = engine_backtest(run, request.data, plan, self)
        report, per_series = summarise(backtest, run, ids, plan.season)
        return Evaluation(report, per_series, backtest, windows=windows)

    def where(self) -> str:
        return f"{self.name}{f' at {self.address}' if self.address else ''}"
