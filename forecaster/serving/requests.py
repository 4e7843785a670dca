"""What a forecast or a backtest is asked to do, as values: made once by the CLI or the `Forecaster`, passed
whole to the backend that does it (`forecaster.serving.backends`), never taken apart into a dozen arguments.

Light on purpose: importing this module loads neither numpy, pandas nor TensorFlow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from forecaster.io.frames import Data
from forecaster.kinds import JSON, Frame, Log, Network

if TYPE_CHECKING:  # the run directory's reader loads numpy: named for the type checker only
    import numpy as np

    from forecaster.data.series import Panel
    from forecaster.training.runs import Run


@dataclass(frozen=True)
class Bands:
    """The conformal bands asked for: `levels` in % (none: no band), and whether each band also learns from the
    realised errors of its series' windows after training (`adapt`: `forecaster.serving.adapt`)."""

    levels: tuple[float, ...] = ()
    adapt: bool = True


NO_BANDS = Bands()


@dataclass(frozen=True)
class ForecastRequest:
    """Forecast every series of `data` (`Forecaster.predict` says what each field does)."""

    data: Data
    bands: Bands = NO_BANDS
    future: Data | None = None
    out: str | Path | None = None  # as given: checked by `check_forecast_outputs`
    plot: str | Path | None = None
    plot_series: list[str] | None = None
    keep: bool = True


@dataclass(frozen=True)
class Refit:
    """Update the run every `every` cutoffs of a backtest (`from_scratch`: train anew instead), each update of
    at most `epochs` epochs (None: `forecaster update`'s default); the refitted runs kept in the folder `kept`
    (None: a temporary one), where a backtest run again reuses them (`forecaster.serving.kept_refits`)."""

    every: int
    from_scratch: bool = False
    epochs: int | None = None
    kept: Path | None = None


@dataclass(frozen=True)
class BacktestPlan:
    """Which windows a backtest scores and how: the last `folds` origins of each series, `step` apart, MASE
    against the seasonal naive of `season`, with `bands`."""

    folds: int
    step: int
    season: int
    bands: Bands = NO_BANDS


@dataclass(frozen=True)
class BacktestRequest:
    """A rolling-origin backtest on `data` (`Forecaster.backtest` says what each field does); `step` and `season`
    None: the run's horizon and season."""

    data: Data
    folds: int = 3
    step: int | None = None
    season: int | None = None
    bands: Bands = NO_BANDS
    refit: Refit | None = None

    def plan(self, horizon: int, season: int) -> BacktestPlan:
        """The windows for a run of this `horizon` and `season` (where the request leaves them to the run)."""
        return BacktestPlan(self.folds, self.step or horizon, self.season or season, self.bands)


@dataclass(frozen=True)
class Evaluation:
    """A backtest's result: the report (metrics.json), the per-series table, the scored `backtest`, and either
    the `panel` it ran on (this process) or the `windows` frame the engine's workers sent back."""

    report: JSON
    per_series: Frame
    backtest: Backtest
    panel: Panel | None = None
    windows: Frame | None = None


class Backend(Protocol):
    """Where a forecast or a backtest runs: this process, or a Dask, Ray or Spark cluster."""

    name: str

    def forecast(self, run: Run, model: Callable[[], Network], request: ForecastRequest, log: Log) -> Frame | int: ...

    def backtest(self, run: Run, model: Callable[[], Network], request: BacktestRequest, log: Log) -> Evaluation: ...


@dataclass
class Backtest:
    """Forecasts and actuals of every backtest window, in original units.

    actual and each entry of forecasts: float64 (windows, horizon); series_idx, origins: (windows,);
    scales: (windows,) the MASE denominator of each window's series; quantiles: the model's
    (windows, horizon, levels) when it has quantile outputs.
    """

    series_idx: np.ndarray
    origins: np.ndarray
    actual: np.ndarray
    forecasts: dict[str, np.ndarray]
    scales: np.ndarray
    quantiles: np.ndarray | None
    bands: dict[str, np.ndarray] | None = None  # conformal lo_80/hi_80 ... (windows, horizon), when asked
    spreads: np.ndarray | None = None  # (windows,) each window's spread, the bands' unit, when asked
    adapted: bool = False  # the bands learnt from earlier windows' realised errors (`forecaster.scoring.adaptive`)
    on_filled: int = 0  # windows left out because their actuals include values the --fill policy filled
