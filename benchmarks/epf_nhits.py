"""The peer a user would pick instead, on the same EPF day-ahead protocol: NeuralForecast's NHITS with
the two day-ahead columns as `futr_exog`, trained once (../shared/data/epf/PUBLISHED.md, "Measured here").

Runs outside the project's environment (NeuralForecast pulls PyTorch):

    python -m venv .venv-nf && .venv-nf/bin/pip install neuralforecast
    .venv-nf/bin/python benchmarks/epf_nhits.py --market PJM

prints one JSON line: MAE, rMAE (over the weekly naive), sMAPE, RMSE over the 17,472 test hours, seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "epf"
TEST_DAYS, HOURS = 728, 24


def main() -> None:
    from neuralforecast import NeuralForecast
    from neuralforecast.losses.pytorch import MAE
    from neuralforecast.models import NHITS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--market", choices=["NP", "PJM"], default="PJM")
    parser.add_argument("--shared", type=Path, default=SHARED)
    args = parser.parse_args()

    raw = pd.read_csv(args.shared / f"{args.market}.csv")
    raw.columns = [c.strip() for c in raw.columns]
    exog = [c for c in raw.columns if c not in ("date", "OT")]
    frame = pd.DataFrame({"unique_id": args.market, "ds": pd.to_datetime(raw["date"], format="%Y/%m/%d %H:%M"),
                          "y": raw["OT"], **{c: raw[c] for c in exog}})  # fmt: skip
    model = NHITS(
        h=HOURS, input_size=168, loss=MAE(), max_steps=1000, futr_exog_list=exog, scaler_type="robust",
        n_freq_downsample=[24, 12, 1], random_seed=1, val_check_steps=100, early_stop_patience_steps=5,
        enable_progress_bar=False, logger=False,
    )  # fmt: skip
    started = time.time()
    cv = NeuralForecast(models=[model], freq="h").cross_validation(
        df=frame, n_windows=TEST_DAYS, step_size=HOURS, val_size=HOURS * 7 * 26, refit=False
    )
    seconds = time.time() - started
    y, f = cv["y"].to_numpy(), cv["NHITS"].to_numpy()
    values = frame["y"].to_numpy()
    test = values[-TEST_DAYS * HOURS :]
    weekly = values[-TEST_DAYS * HOURS - 7 * HOURS : -7 * HOURS]
    row = {
        "market": args.market,
        "hours": int(len(cv)),
        "mae": float(np.mean(np.abs(y - f))),
        "rmae": float(np.mean(np.abs(y - f)) / np.mean(np.abs(test - weekly))),
        "smape": float(np.mean(200 * np.abs(y - f) / (np.abs(y) + np.abs(f)))),
        "rmse": float(np.sqrt(np.mean((y - f) ** 2))),
        "seconds": round(seconds, 1),
    }
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}))


if __name__ == "__main__":
    main()
