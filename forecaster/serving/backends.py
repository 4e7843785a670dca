"""Where a forecast or a backtest runs, chosen once from the options: this process (`Local`), or a Dask, Ray or
Spark cluster (`Cluster`), each behind the same two methods, as statsforecast's backends are. The data of a
Dask, Ray or Spark frame chooses its own engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forecaster.errors import SettingsError
from forecaster.io.frames import Data
from forecaster.kinds import Network
from forecaster.serving.backtest import summarise
from forecaster.serving.checks import check_engine, engine_of
from forecaster.serving.engines import engine_backtest, engine_forecast
from forecaster.serving.evaluate import backtest_here
from forecaster.serving.predict import forecast_here, write_forecast
from forecaster.serving.requests import BacktestRequest, Evaluation, ForecastRequest, Log
from forecaster.training.runs import Run


@dataclass(frozen=True)
class Local:
    """This process: the data read whole (or a block of whole series at a time), forecast and plotted here."""

    name: str = "local"

    def forecast(self, run: Run, model: Callable[[], Network], request: ForecastRequest, log: Log) -> Any:
        return forecast_here(run, model, request, log)

    def backtest(self, run: Run, model: Callable[[], Network], request: BacktestRequest, log: Log) -> Evaluation:
        return backtest_here(run, model, request, log)


@dataclass(frozen=True)
class Cluster:
    """The cluster of engine `name` at `address` (None: a local one on this machine's cores): whole series a
    partition, each forecast by the one-process path in a worker that loads the run once
    (`forecaster.serving.engines`); no plot (the workers hold the series' history)."""

    name: str
    address: str | None = None

    def forecast(self, run: Run, model: Callable[[], Network], request: ForecastRequest, log: Log) -> Any:
        if request.future is not None:
            raise SettingsError(
                f"--engine {self.name}: give the --future values as rows of DATA after each series' last target "
                "value (--future-data is read by --engine local only)"
            )
        log(f"forecasting on {self.where()}: whole series a partition")
        frame = engine_forecast(run, request.data, request.bands, self.name, self.address)
        if request.out is not None:
            write_forecast(frame, Path(request.out))
        return frame if request.keep else frame.iloc[:, 0].nunique()

    def backtest(self, run: Run, model: Callable[[], Network], request: BacktestRequest, log: Log) -> Evaluation:
        log(f"backtesting on {self.where()}: whole series a partition")
        plan = request.plan(run.config.window.horizon, run.season)
        backtest, ids, windows = engine_backtest(run, request.data, plan, self.name, self.address)
        report, per_series = summarise(backtest, run, ids, plan.season)
        return Evaluation(report, per_series, backtest, windows=windows)

    def where(self) -> str:
        return f"{self.name}{f' at {self.address}' if self.address else ''}"


def backend_for(data: Data, engine: str = "local", address: str | None = None) -> Local | Cluster:
    """The backend `engine` at `address` names, or the one a Dask, Ray or Spark frame as `data` belongs to;
    an unknown engine, a missing extra or an address nothing answers at refused in one line."""
    engine = engine_of(data, engine)
    check_engine(engine, address)
    return Local() if engine == "local" else Cluster(engine, address)
