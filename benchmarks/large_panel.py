"""Memory and forecast throughput on a large panel: N series x 1,000 hourly points, lookback 336.

`forecaster train --epochs 1` (an epoch samples a bounded number of windows; none are materialised
beyond that) and then `forecaster forecast` for every series in one call, each in its own process:
peak RSS of each, the raw data size, the RSS of the same commands on a tiny panel (TensorFlow's own
footprint), and the forecast's seconds and series per second.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from results import record  # noqa: E402
from synthetic import write_panel  # noqa: E402

TRAIN = ["--target", "value", "--time-col", "time", "--id-col", "id", "--lookback", "336", "--horizon", "24",
         "--layers", "64", "--epochs", "1", "--quiet"]  # fmt: skip
# runs a command as its child and prints that child's peak RSS (KiB) and wall seconds
MEASURE = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.perf_counter() - t)"
)


def measured(command: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of `command` in a fresh process."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], check=True, capture_output=True, text=True, env=env)
    kib, seconds = out.stdout.split()[-2:]
    return int(kib) / 1024, float(seconds)


def train_and_forecast(data: Path, run: Path) -> dict[str, float]:
    forecaster = str(Path(sys.executable).parent / "forecaster")
    train_mb, train_s = measured([forecaster, "train", str(data), *TRAIN, "--out", str(run)])
    fc_mb, fc_s = measured([forecaster, "forecast", str(run), "--data", str(data), "--out", str(run / "fc.csv")])
    return {"train_peak_rss_mb": train_mb, "train_s": train_s, "forecast_peak_rss_mb": fc_mb, "forecast_s": fc_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--length", type=int, default=1_000)
    parser.add_argument("--quick", action="store_true", help="1,000 series instead.")
    args = parser.parse_args()
    n_series = 1_000 if args.quick else args.series
    with tempfile.TemporaryDirectory() as tmp:
        tiny = train_and_forecast(write_panel(Path(tmp) / "tiny.csv", 3, args.length), Path(tmp) / "tiny_run")
        data = write_panel(Path(tmp) / "panel.csv", n_series, args.length)
        big = train_and_forecast(data, Path(tmp) / "run")
        params = json.loads((Path(tmp) / "run" / "metrics.json").read_text()).get("parameters")
        model_mb = (Path(tmp) / "run" / "model.keras").stat().st_size / 2**20
    raw_mb = n_series * args.length * 8 / 2**20  # the values as float64
    peak = max(big["train_peak_rss_mb"], big["forecast_peak_rss_mb"])
    record(
        "large_panel",
        {
            "series": n_series,
            "points_per_series": args.length,
            "raw_data_mb": round(raw_mb, 1),
            "model_file_mb": round(model_mb, 2),
            "parameters": params,
            **{k: round(v, 1) for k, v in big.items()},
            "tiny_panel_train_peak_rss_mb": round(tiny["train_peak_rss_mb"], 1),
            "peak_over_tiny_mb": round(peak - tiny["train_peak_rss_mb"], 1),
            "peak_over_tiny_per_raw": round((peak - tiny["train_peak_rss_mb"]) / raw_mb, 2),
            "forecast_series_per_s": round(n_series / big["forecast_s"], 1),
        },
    )


if __name__ == "__main__":
    main()
