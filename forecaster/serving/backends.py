"""Where a forecast or a backtest runs, chosen once from the options: this process (`Local`), or a Dask, Ray or
Spark cluster (`Cluster`), each behind the same two methods, as statsforecast's backends are. The data of a
Dask, Ray or Spark frame chooses its own engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from forecaster.io.frames import Data
from forecaster.kinds import Frame, Log, Network
from forecaster.serving.checks import check_engine, engine_of
from forecaster.serving.engines import Cluster
from forecaster.serving.evaluate import backtest_here
from forecaster.serving.predict import forecast_here
from forecaster.serving.requests import BacktestRequest, Evaluation, ForecastRequest
from forecaster.training.runs import Run


@dataclass(frozen=True)
class Local:
    """This process: the data read whole (or a block of whole series at a time), forecast and plotted here."""

    name: str = "local"

    def forecast(self, run: Run, model: Callable[[], Network], request: ForecastRequest, log: Log) -> Frame | int:
        return forecast_here(run, model, request, log)

    def backtest(self, run: Run, model: Callable[[], Network], request: BacktestRequest, log: Log) -> Evaluation:
        return backtest_here(run, model, request, log)


def backend_for(data: Data, engine: str = "local", address: str | None = None) -> Local | Cluster:
    """The backend `engine` at `address` names, or the one a Dask, Ray or Spark frame as `data` belongs to;
    an unknown engine, a missing extra or an address nothing answers at refused in one line."""
    engine = engine_of(data, engine)
    check_engine(engine, address)
    return Local() if engine == "local" else Cluster(engine, address)
