"""What serving a panel with statistics costs: the combination's AutoETS + AutoTheta fits as `forecast`
makes them, beside statsforecast's own batch forecast of the same models on the same series and cores,
and the network alone, all in one run.

Two synthetic panels (made up, for time only): 1,428 monthly series of 80-140 points (season 12: the
size of M3 Monthly) and 1,000 hourly series of 400 points (season 24). For each:
- ours: `forecaster.scoring.selection.served_forecasts(["combination"] * n, ...)` in `fit_processes(None)`
  (the statistical fits over every core, as `forecaster forecast` does them);
- statsforecast: `StatsForecast([AutoETS(season_length=m), AutoTheta(season_length=m)], freq,
  n_jobs=-1).forecast(df=..., h=...)`;
- the network alone: `forecaster forecast` of a one-epoch run trained with `--select model`, in-process
  (`Forecaster.predict`), after one warm-up call.
The ratio ours / statsforecast is the figure: at most 1.5.

    python benchmarks/stat_cost.py [--record]     # -> benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from results import record  # noqa: E402

PANELS = {"monthly-1428": (1428, (80, 140), 12, 18, "MS"), "hourly-1000": (1000, (400, 400), 24, 24, "h")}


def make_panel(n_series: int, lengths: tuple[int, int], season: int, freq: str, seed: int = 0) -> pd.DataFrame:
    """Long frame (unique_id, ds, y): a level, a trend, a season of random size and phase, noise."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_series):
        n = int(rng.integers(lengths[0], lengths[1] + 1))
        t = np.arange(n)
        y = (rng.uniform(50, 500) + rng.normal(0, 0.5) * t + rng.uniform(1, 20) * np.sin(2 * np.pi * t / season
             + rng.uniform(0, 6.3)) + rng.normal(0, 2, n))  # fmt: skip
        frames.append(pd.DataFrame({"unique_id": f"s{i:05d}", "ds": pd.date_range("2000-01-01", periods=n, freq=freq),
                                    "y": y.round(3)}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def ours(frame: pd.DataFrame, horizon: int, season: int) -> float:
    """Seconds for the combination's statistical fits of every series, as `forecast` makes them."""
    from forecaster.scoring.selection import served_forecasts
    from forecaster.scoring.statistical import fit_processes

    with fit_processes(None):  # the statistical fits on every core, as the CLI's
        histories = [group["y"].to_numpy("float64") for _, group in frame.groupby("unique_id", sort=False)]
        network = np.zeros((len(histories), horizon))
        started = time.perf_counter()
        served_forecasts(
            ["combination"] * len(histories), histories, horizon, season, network, ("auto_ets", "auto_theta")
        )
        return time.perf_counter() - started


def theirs(frame: pd.DataFrame, horizon: int, season: int, freq: str) -> float:
    """Seconds for statsforecast's own batch forecast of AutoETS and AutoTheta on every core."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, AutoTheta

    models = [AutoETS(season_length=season), AutoTheta(season_length=season)]
    started = time.perf_counter()
    StatsForecast(models=models, freq=freq, n_jobs=-1).forecast(df=frame, h=horizon)
    return time.perf_counter() - started


def network_alone(frame: pd.DataFrame, horizon: int, work: Path) -> float:
    """Seconds for `forecast` of every series by a one-epoch network (`--select model`), warm."""
    from forecaster.api import Forecaster

    data = work / "panel.csv"
    frame.to_csv(data, index=False)
    cli = str(Path(sys.executable).with_name("forecaster"))
    subprocess.run([cli, "train", str(data), "--target", "y", "--time-col", "ds", "--id-col", "unique_id", "--horizon",
                    str(horizon), "--epochs", "1", "--ensemble", "1", "--select", "model", "--quiet", "--out",
                    str(work / "run")], check=True)  # fmt: skip
    forecaster = Forecaster.load(work / "run")
    forecaster.predict(str(data))
    started = time.perf_counter()
    forecaster.predict(str(data))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", action="store_true", help="append the figures to benchmarks/RESULTS.md")
    parser.add_argument("--panels", default=",".join(PANELS))
    args = parser.parse_args()
    for name in args.panels.split(","):
        n_series, lengths, season, horizon, freq = PANELS[name]
        frame = make_panel(n_series, lengths, season, freq)
        theirs(frame.head(2000), horizon, season, freq)  # numba compiles once, outside the timing
        with tempfile.TemporaryDirectory() as tmp:
            row = {
                "panel": name,
                "series": n_series,
                "ours_s": round(ours(frame, horizon, season), 1),
                "statsforecast_s": round(theirs(frame, horizon, season, freq), 1),
                "network_alone_s": round(network_alone(frame, horizon, Path(tmp)), 1),
            }
        row["ratio"] = round(row["ours_s"] / row["statsforecast_s"], 2)
        print(json.dumps(row), flush=True)
        if args.record:
            record("stat_cost", row)


if __name__ == "__main__":
    main()
