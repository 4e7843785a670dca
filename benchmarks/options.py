"""Which model options win: calendar features and series embeddings, measured through the CLI.

For each dataset and option set, `forecaster train` holds out the tail of every series, then
`forecaster evaluate` backtests that tail against the baselines. Options are chosen by the
validation MASE (training's own chronological validation windows); the backtest MASE on the
held-out tail is reported beside it and never used to choose.

    python benchmarks/options.py [--ett ../shared/data/ett/ETTh1.csv] [--seeds 0,1] [--only co2,ett7]

Datasets: co2 (bundled, weekly, 1 series), macro (bundled, quarterly, 6 series of different
lengths), ett7 (the seven columns of ETTh1 as seven hourly series; built in a temporary folder from
the shared file, never copied into the repository). One JSON line per (dataset, options, seed),
appended to benchmarks/RESULTS.md, then a summary line per dataset with the means over seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import mean

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from results import record  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATASETS = {
    "co2": {
        "file": ROOT / "data/co2_weekly.csv",
        "args": ["--target", "co2", "--time-col", "date", "--horizon", "52", "--fill", "interpolate",
                 "--holdout", "156"],
        "evaluate": ["--folds", "3"],
        "options": {"plain": ["--calendar", "none"], "calendar": ["--calendar", "auto"]},
    },
    "macro": {
        "file": ROOT / "data/macro_quarterly_long.csv",
        "args": ["--target", "value", "--time-col", "date", "--id-col", "id", "--horizon", "8", "--holdout", "8"],
        "evaluate": ["--folds", "1"],
        "options": {
            "plain": ["--calendar", "none"],
            "calendar": ["--calendar", "auto"],
            "embedding": ["--calendar", "none", "--series-embedding", "4"],
        },
    },
    "ett7": {
        "file": None,  # built from --ett
        "args": ["--target", "value", "--time-col", "date", "--id-col", "id", "--horizon", "96", "--lookback", "336",
                 "--patch", "24", "--holdout", "2880", "--val-fraction", "0.25"],
        "evaluate": ["--folds", "10", "--step", "288"],
        "options": {
            "plain": ["--calendar", "none"],
            "calendar": ["--calendar", "auto"],
            "embedding": ["--calendar", "none", "--series-embedding", "8"],
            "calendar+embedding": ["--calendar", "auto", "--series-embedding", "8"],
        },
    },
}  # fmt: skip


def ett_as_panel(ett: Path, out: Path) -> Path:
    """ETTh1's seven columns as seven series in long format (id, date, value)."""
    frame = pd.read_csv(ett)
    long = frame.melt(id_vars="date", var_name="id", value_name="value")[["id", "date", "value"]]
    long.to_csv(out, index=False)
    return out


def forecaster(*args: object) -> None:
    done = subprocess.run([sys.executable, "-m", "forecaster.cli", *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"forecaster {' '.join(map(str, args[:2]))} failed: {done.stderr.strip().splitlines()[-1:]}")


def measure(name: str, spec: dict, data: Path, option: str, seed: int, work: Path) -> dict[str, object]:
    run = work / f"{name}_{option}_{seed}"
    forecaster("train", data, *spec["args"], *spec["options"][option], "--seed", seed, "--quiet", "--out", run)
    forecaster("evaluate", run, "--data", data, *spec["evaluate"], "--out", run / "evaluation")
    validation = json.loads((run / "metrics.json").read_text())
    backtest = json.loads((run / "evaluation" / "metrics.json").read_text())["overall"]
    return {
        "dataset": name,
        "options": option,
        "seed": seed,
        "val_mase": round(validation["model"]["mase"], 4),
        "backtest_mase": round(backtest["model"]["mase"], 4),
        "backtest_seasonal_naive_mase": round(backtest["seasonal_naive"]["mase"], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ett", type=Path, default=ROOT.parent / "shared/data/ett/ETTh1.csv")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--only", default=",".join(DATASETS))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in args.only.split(","):
            spec = DATASETS[name]
            data = spec["file"] or ett_as_panel(args.ett, work / "ett7.csv")
            rows = [measure(name, spec, data, option, seed, work) for option in spec["options"] for seed in seeds]
            for row in rows:
                print(json.dumps(row), flush=True)
            summary = {
                option: {
                    key: round(mean(r[key] for r in rows if r["options"] == option), 4)
                    for key in ("val_mase", "backtest_mase", "backtest_seasonal_naive_mase")
                }
                for option in spec["options"]
            }
            record("options", {"dataset": name, "seeds": seeds, "mean": summary, "runs": rows})


if __name__ == "__main__":
    main()
