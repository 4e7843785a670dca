"""Forecasts on Dask, Ray or Spark: the data partitioned by series id (many whole series a partition:
Fugue's coarse partitioning, as statsforecast and neuralforecast do it), each partition forecast by the
ordinary one-process path (`panel_from_frame`, `forecast_plan`, `forecast_frame`) in a worker that
loads the run once. The engine is an existing one; this module only hands it the work.

Install one with `pip install 'forecaster[dask]'` (or `[ray]`, `[spark]`); the base install pulls none.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from forecaster.errors import ForecasterError

ENGINES = ("local", "dask", "ray", "spark")
EXTRAS = {"dask": "dask.distributed", "ray": "ray", "spark": "pyspark"}
PARTITIONS_PER_WORKER = 4  # partitions of whole series per worker core: enough to balance, few model loads


def engine_of(data: Any, engine: str) -> str:
    """The engine to use: the one a Dask, Ray or Spark frame belongs to, else `engine`."""
    kinds = {"dask": "dask", "ray": "ray", "pyspark": "spark"}
    return kinds.get(type(data).__module__.split(".")[0], engine)


def check_engine(engine: str, address: str | None) -> None:
    """Refuse an unknown engine, an address without an engine, or an engine whose extra is not installed."""
    import importlib.util

    if engine not in ENGINES:
        raise ForecasterError(f"--engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if engine == "local":
        if address:
            raise ForecasterError("--address names a Dask, Ray or Spark cluster: give --engine dask, ray or spark too")
        return
    module = EXTRAS[engine]
    if importlib.util.find_spec(module.split(".")[0]) is None or importlib.util.find_spec("fugue") is None:
        raise ForecasterError(
            f"--engine {engine}: {module.split('.')[0]} is not installed; pip install 'forecaster[{engine}]'"
        )


@contextlib.contextmanager
def engine_session(engine: str, address: str | None = None) -> Iterator[Any]:
    """What Fugue runs on: a client of the cluster at `address`, or a local one on this machine's cores
    (closed afterwards; a cluster we did not start is left running)."""
    cores = os.cpu_count() or 1
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # workers inherit it: no TensorFlow start-up chatter
    if engine == "dask":
        import logging

        from dask.distributed import Client, LocalCluster

        if address:
            with Client(address) as client:
                yield client
            return
        cluster = LocalCluster(
            n_workers=cores, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
        )
        with cluster, Client(cluster) as client:
            yield client
    elif engine == "ray":
        import logging

        import ray

        started = not ray.is_initialized()
        if started:
            options = {"address": address} if address else {"num_cpus": cores}
            ray.init(**options, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        try:
            yield "ray"
        finally:
            if started:
                ray.shutdown()
    else:
        from pyspark.sql import SparkSession

        session = SparkSession.builder.master(address or f"local[{cores}]").appName("forecaster").getOrCreate()
        try:
            yield session
        finally:
            if not address:
                session.stop()


@functools.lru_cache(maxsize=4)
def loaded_run(run_dir: str) -> tuple[Any, Any]:
    """The run and its model, loaded once per worker process."""
    from forecaster.api import Forecaster

    forecaster = Forecaster.load(run_dir)
    return forecaster.run, forecaster.model


def forecast_partition(frame: pd.DataFrame, run_dir: str, levels: list[float], label: str) -> pd.DataFrame:
    """One partition's forecast: its whole series read, planned and forecast as `forecast` does it."""
    from forecaster.data.panel import panel_from_frame
    from forecaster.serving.forecast import forecast_frame, forecast_plan

    run, model = loaded_run(run_dir)
    panel = panel_from_frame(frame.reset_index(drop=True), replace(run.config.data, freq=run.freq), label)
    forecasts = forecast_frame(run, panel, model, forecast_plan(run, panel), tuple(levels))
    if panel.zone is not None:  # the engines' schemas hold zone-less times: UTC, as said in the notes
        _, time_col = output_columns(run)
        forecasts[time_col] = forecasts[time_col].dt.tz_convert("UTC").dt.tz_localize(None)
    return forecasts


def output_columns(run: Any) -> tuple[str, str]:
    from forecaster.serving.forecast import id_and_time_columns

    return id_and_time_columns(run.config)


def forecast_schema(run: Any, levels: tuple[float, ...]) -> Any:
    """The forecast frame's columns and types, as the engines need them before any partition is done."""
    import pyarrow as pa
    from triad import Schema

    from forecaster.serving.forecast import quantile_column

    id_col, time_col = output_columns(run)
    time_type = pa.int64() if run.freq.startswith("int:") else pa.timestamp("ns")
    fields = [pa.field(id_col, pa.string()), pa.field(time_col, time_type), pa.field("forecast", pa.float64())]
    for level in levels:
        fields += [pa.field(f"lo_{level:g}", pa.float64()), pa.field(f"hi_{level:g}", pa.float64())]
    fields += [pa.field(quantile_column(q), pa.float64()) for q in run.config.model.quantiles]
    fields.append(pa.field("method", pa.string()))
    return Schema(pa.schema(fields))


def engine_forecast(
    run: Any, data: Any, levels: tuple[float, ...], engine: str, address: str | None = None
) -> pd.DataFrame:
    """Every series of `data` (a CSV or Parquet path, or a Dask/Ray/Spark frame) forecast on `engine`,
    sorted by series id and time; the same numbers `--engine local` gives."""
    import fugue.api as fa

    from forecaster.io.parquet import is_parquet

    cfg = run.config.data
    if not cfg.id_col or cfg.wide:
        raise ForecasterError(
            f"--engine {engine}: the data must be long (one row per series and time) with --id-col, so whole series "
            "can be sent to the workers"
        )
    columns = [c for c in (cfg.id_col, cfg.time_col, cfg.target, *cfg.features, *cfg.future, *cfg.static) if c]
    id_col, time_col = output_columns(run)
    label = str(data) if isinstance(data, (str, Path)) else f"{type(data).__name__} frame"
    path = isinstance(data, (str, Path))
    with engine_session(engine, address) if path else contextlib.nullcontext(None) as session:
        if path and is_parquet(data):
            source = fa.load(str(data), format_hint="parquet", columns=columns, engine=session)
        elif path:
            from forecaster.io.csv import read_frame

            source = read_frame(str(data), keep=set(columns))
        else:  # the caller's own frame, on the engine it belongs to
            source = data
        cores = os.cpu_count() or 1
        result = fa.transform(
            source,
            forecast_partition,
            schema=forecast_schema(run, levels),
            params={"run_dir": str(run.path), "levels": list(levels), "label": label},
            partition={"by": [cfg.id_col], "algo": "coarse", "num": PARTITIONS_PER_WORKER * cores},
            engine=session,
            as_local=True,
        )
        frame = fa.as_pandas(result)
    frame = frame.sort_values([id_col, time_col], kind="stable").reset_index(drop=True)
    # the engines' nullable types back to the ones `--engine local` writes
    kinds = {name: "object" if name in (id_col, "method") else "float64" for name in frame.columns if name != time_col}
    if not run.freq.startswith("int:"):
        kinds[time_col] = "datetime64[ns]"
    return frame.astype(kinds)
