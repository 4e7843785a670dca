"""`forecaster train` against the same job in plain PyTorch (`../shared/bench/torch_lstm_ref.py`), on a
20-series x 1,100-point panel, in the same sitting: wall seconds of each and their ratio.

The forecaster command is the issue's: --lookback 96 --layers 64,64 --epochs 3 --batch-size 256
--horizon 24, with the defaults (24-step patches: 4 LSTM steps). It is also run with --patch 1 (the
96-step LSTM the PyTorch script trains) for a like-for-like kernel comparison.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from results import record  # noqa: E402
from synthetic import write_panel  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "bench" / "torch_lstm_ref.py"
TRAIN = ["--target", "value", "--time-col", "time", "--id-col", "id", "--lookback", "96", "--layers", "64,64",
         "--epochs", "3", "--batch-size", "256", "--horizon", "24", "--quiet", "--patience", "10"]  # fmt: skip


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", default=os.environ.get("TORCH_PYTHON"), help="A python with torch 2.13.")
    parser.add_argument("--quick", action="store_true", help="Skip the --patch 1 run.")
    args = parser.parse_args()
    forecaster = str(Path(sys.executable).parent / "forecaster")
    with tempfile.TemporaryDirectory() as tmp:
        data = write_panel(Path(tmp) / "panel.csv", 20, 1100)
        figures: dict[str, object] = {"panel": "20 x 1100", "forecaster_cmd": " ".join(TRAIN)}
        # train + forecast, as the reference does both
        figures["forecaster_s"] = wall([forecaster, "train", str(data), *TRAIN, "--out", f"{tmp}/run"]) + wall(
            [forecaster, "forecast", f"{tmp}/run", "--data", str(data), "--out", f"{tmp}/fc.csv"]
        )
        if not args.quick:
            figures["forecaster_patch1_s"] = wall(
                [forecaster, "train", str(data), *TRAIN, "--patch", "1", "--out", f"{tmp}/run1"]
            ) + wall([forecaster, "forecast", f"{tmp}/run1", "--data", str(data), "--out", f"{tmp}/fc1.csv"])
        if args.torch_python and REFERENCE.exists():
            figures["torch_s"] = wall([args.torch_python, str(REFERENCE), str(data)])
            figures["ratio_forecaster_to_torch"] = figures["forecaster_s"] / figures["torch_s"]
            if "forecaster_patch1_s" in figures:
                figures["ratio_patch1_to_torch"] = figures["forecaster_patch1_s"] / figures["torch_s"]
        else:
            figures["torch_s"] = "not run: give --torch-python (a python with torch==2.13.0)"
    record("vs_torch", figures)


if __name__ == "__main__":
    main()
