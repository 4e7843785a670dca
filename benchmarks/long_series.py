"""One long seasonal series, as a new user brings it: forecaster's defaults through the real CLI against
seasonal naive and statsforecast's AutoETS on the same windows.

Two public series, neither chosen by the defaults' selection:
- `elnino`: monthly sea surface temperature of the Niño 1+2 region, 1971-2010 (480 points, 40 years; statsmodels'
  bundled `elnino` dataset, read from the installed package), horizon 12, season 12;
- `co2`: the bundled weekly Mauna Loa CO2 (data/co2_weekly.csv), its last 25 years (1,304 weeks), horizon 52,
  season 52 (gaps interpolated: `--fill interpolate`).

Validation only (each series' last 3 horizons held out of training with `--holdout`, then `forecaster evaluate
--folds 3` on them): the network alone (`model`), what `forecast` serves (the guard's choice), seasonal naive and
AutoETS refitted at each cutoff on the history before it. MASE is scaled by seasonal naive's in-sample error on
the training part, as `evaluate` scales it.

    python benchmarks/long_series.py --series elnino|co2 [-- extra train options]
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

HERE = Path(__file__).resolve().parent
FOLDS = 3
SERIES = {"elnino": (12, 12), "co2": (52, 52)}  # name -> (horizon, season)


def elnino(folder: Path) -> Path:
    """statsmodels' monthly El Niño table (one row a year, one column a month), 1971-2010, as date,sst."""
    import statsmodels.api as sm

    table = sm.datasets.elnino.load_pandas().data
    table = table[table["YEAR"] >= 1971]
    months = table.drop(columns="YEAR").to_numpy().ravel()
    dates = pd.date_range(f"{int(table['YEAR'].iloc[0])}-01-01", periods=len(months), freq="MS")
    path = folder / "elnino.csv"
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "sst": months}).to_csv(path, index=False)
    return path


def co2(folder: Path) -> Path:
    """The bundled weekly CO2, its last 1,304 weeks (25 years)."""
    frame = pd.read_csv(HERE.parent / "data" / "co2_weekly.csv").tail(1304)
    path = folder / "co2.csv"
    frame.rename(columns={"co2": "value"}).to_csv(path, index=False)
    return path


def autoets_mase(windows: pd.DataFrame, history: pd.Series, horizon: int, season: int, scale: float) -> float:
    """AutoETS refitted at each window's cutoff on the history up to it, scored as `evaluate` scores."""
    from forecaster.scoring.statistical import STATISTICAL

    errors = []
    for cutoff, window in windows.groupby("cutoff", sort=True):
        before = history[history.index <= pd.Timestamp(cutoff)].to_numpy("float64")
        made = STATISTICAL["auto_ets"](before, horizon, season)
        errors.append(np.mean(np.abs(window["actual"].to_numpy() - made)) / scale)
    return float(np.mean(errors))


def main() -> None:
    from forecaster.scoring.metrics import seasonal_naive_scale

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", choices=list(SERIES), required=True)
    parser.add_argument("extra", nargs="*", help="train options after --")
    args = parser.parse_args()
    horizon, season = SERIES[args.series]
    cli = str(Path(sys.executable).with_name("forecaster"))
    with tempfile.TemporaryDirectory(prefix="long-series-") as folder:
        work = Path(folder)
        data = elnino(work) if args.series == "elnino" else co2(work)
        target = "sst" if args.series == "elnino" else "value"
        started = time.perf_counter()
        train = [cli, "train", str(data), "--target", target, "--time-col", "date", "--horizon", str(horizon),
                 "--holdout", str(FOLDS * horizon), "--fill", "interpolate", "--quiet", "--out", str(work / "run"),
                 *args.extra]  # fmt: skip
        subprocess.run(train, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        subprocess.run([cli, "evaluate", str(work / "run"), "--data", str(data), "--folds", str(FOLDS)], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        report = json.loads((work / "run" / "evaluation" / "metrics.json").read_text())
        windows = pd.read_csv(work / "run" / "evaluation" / "forecasts.csv")
        frame = pd.read_csv(data, parse_dates=["date"]).set_index("date")[target].interpolate()
        training = frame.to_numpy("float64")[: -FOLDS * horizon]
        scale = seasonal_naive_scale(training, season)
        overall = report["overall"]
        served = overall.get("served", overall["model"])
        row = {
            "series": args.series,
            "options": " ".join(args.extra),
            "points": int(len(frame)),
            "train_seconds": round(seconds, 1),
            "model": round(overall["model"]["mase"], 4),
            "served": round(served["mase"], 4),
            "seasonal_naive": round(overall["seasonal_naive"]["mase"], 4),
            "auto_ets": round(autoets_mase(windows, frame, horizon, season, scale), 4),
            "method": json.loads((work / "run" / "selection.json").read_text()).get("method")
            if (work / "run" / "selection.json").exists()
            else "model",
        }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
