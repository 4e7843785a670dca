"""A wide DataFrame through the Python API against the same data as a CSV through the CLI's reader: the
time to read a panel of one target among N other columns, as the ratio API / CLI within one run (the API
once counted each name in the list of names: 20,000 columns took 4.4 s against the CLI's 1.3 s)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from results import record  # noqa: E402

from forecaster.config import DataConfig  # noqa: E402
from forecaster.data.panel import read_panel  # noqa: E402


def seconds(data: object, cfg: DataConfig) -> float:
    start = time.perf_counter()
    read_panel(data, cfg)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20,000 columns only")
    args = parser.parse_args()
    cfg = DataConfig(target="y", time_col="time")
    for columns in (20_000,) if args.quick else (20_000, 200_000):
        frame = pd.DataFrame(np.random.default_rng(0).random((10, columns)), columns=[f"c{i}" for i in range(columns)])
        frame.insert(0, "time", pd.date_range("2024-01-01", periods=10, freq="D").strftime("%Y-%m-%d"))
        frame["y"] = np.arange(10.0)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "wide.csv"
            frame.to_csv(path, index=False)
            api, cli = seconds(frame, cfg), seconds(path, cfg)
        record("wide_frames", {"columns": columns, "api_s": api, "cli_s": cli, "api_over_cli": api / cli})


if __name__ == "__main__":
    main()
