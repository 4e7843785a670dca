"""M4-style panel benchmark through the real CLI: `forecaster train` + `forecaster forecast`, scored as
../shared/data/m4/PUBLISHED.md says (sMAPE, MASE with the one-step naive scale, OWA against Naive2).

Panels:
- `m4-weekly`: M4 Weekly (359 series, horizon 13), read by path from ../shared/data/m4/.
- `m4-hourly`: M4 Hourly's training file (414 series of 700-960 hours, horizon 48, season 24), read by path
  from ../shared/data/m4/; its test part is not shared, so only `--split validation` (each row's last 48
  hours scored) runs here. MASE with the seasonal (24) naive scale, OWA against seasonal naive.
- `etth1-panel`: the seven ETTh1 columns as a seven-series hourly panel with integer steps (so the
  tool must find the daily season itself), horizon 48, the last 48 points of each column scored.
- `etth1-chunks`: the seven ETTh1 columns cut into 960-hour pieces (126 series, integer steps,
  horizon 48): a panel shaped like the held-out hourly panel the project is checked on (414 series of 700-960
  points), for choosing hourly defaults; the last 48 points of each piece are its test part.
- `hourly-400`: 400 synthetic hourly series of 900 points (integer steps; daily and weekly cycles of
  random size and phase, a wandering level, noise), horizon 48: the size of that held-out panel, for
  the time a default `train` takes (its accuracy says little: the data is made up).

Two splits, so that defaults are chosen without looking at the test data:
- `--split validation`: the last `horizon` points of each *training* row are cut off and scored
  (the test file is not read). Use this to compare settings.
- `--split test`: train on the whole training rows, score on the test rows. Report it once.

    python benchmarks/m4.py --panel m4-weekly --split validation [-- extra train options]

prints one JSON line (sMAPE, MASE, OWA of the model, naive and seasonal naive, seconds) and, with
`--record`, appends it to benchmarks/RESULTS.md.
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
SHARED = HERE.parent.parent / "shared" / "data"
NAIVE2_SMAPE, NAIVE2_MASE = 9.161, 2.777  # M4 Weekly Naive2, PUBLISHED.md


def read_m4(train_csv: Path, test_csv: Path | None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
    """One float array per series id from the M4 row layout (a row ends where its cells do)."""

    def rows(path: Path) -> dict[str, np.ndarray]:
        frame = pd.read_csv(path, index_col=0)
        return {sid: row.dropna().to_numpy("float64") for sid, row in frame.iterrows()}

    return rows(train_csv), rows(test_csv) if test_csv else None


def read_ett_panel(path: Path, piece: int | None = None) -> dict[str, np.ndarray]:
    """The ETTh1 columns as series, or cut into consecutive pieces of `piece` points."""
    frame = pd.read_csv(path).drop(columns="date")
    columns = {col: frame[col].to_numpy("float64") for col in frame.columns}
    if piece is None:
        return columns
    return {
        f"{col}_{k}": values[k * piece : (k + 1) * piece]
        for col, values in columns.items()
        for k in range(len(values) // piece)
    }


def synthetic_hourly(n_series: int = 400, length: int = 900, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    panel = {}
    for i in range(n_series):
        daily = rng.uniform(1, 10) * np.sin(2 * np.pi * t / 24 + rng.uniform(0, 2 * np.pi))
        weekly = rng.uniform(0, 5) * np.sin(2 * np.pi * t / 168 + rng.uniform(0, 2 * np.pi))
        level = rng.uniform(20, 500) + np.cumsum(rng.normal(0, 0.3, length))
        panel[f"h{i:03d}"] = np.round(level + daily + weekly + rng.normal(0, 1, length), 3)
    return panel


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.where(denominator > 0, np.abs(actual - forecast) / np.where(denominator > 0, denominator, 1), 0.0)
    return float(200 * ratio.mean())


def mase(history: np.ndarray, actual: np.ndarray, forecast: np.ndarray, season: int = 1) -> float:
    scale = np.mean(np.abs(history[season:] - history[:-season]))
    return float(np.mean(np.abs(actual - forecast)) / scale) if scale > 0 else float("nan")


def score(
    history: dict[str, np.ndarray], actual: dict[str, np.ndarray], forecasts: dict[str, np.ndarray], mase_season: int
) -> dict[str, float]:
    s = [smape(actual[sid], forecasts[sid]) for sid in actual]
    m = [mase(history[sid], actual[sid], forecasts[sid], mase_season) for sid in actual]
    return {"smape": float(np.mean(s)), "mase": float(np.nanmean(m))}


def baselines(history: dict[str, np.ndarray], horizon: int, season: int) -> dict[str, dict[str, np.ndarray]]:
    naive = {sid: np.repeat(h[-1], horizon) for sid, h in history.items()}
    seasonal = {
        sid: np.resize(h[-season:], horizon) if len(h) >= season else np.repeat(h[-1], horizon)
        for sid, h in history.items()
    }
    return {"naive": naive, "seasonal_naive": seasonal}


def write_long(history: dict[str, np.ndarray], path: Path) -> None:
    """The panel as the long CSV a user would give: id, integer step, value."""
    frames = [pd.DataFrame({"id": sid, "step": np.arange(len(h)), "value": h}) for sid, h in history.items()]
    pd.concat(frames).to_csv(path, index=False)


def forecaster_cli() -> str:
    return str(Path(sys.executable).with_name("forecaster"))


def interval_scores(
    history: dict[str, np.ndarray], actual: dict[str, np.ndarray], bands: dict[str, tuple], level: float, season: int
) -> dict[str, float]:
    """M4's interval scores: coverage, ACD = |coverage - level|, MSIS (alpha = 1 - level, MASE's scale)."""
    alpha = 1 - level / 100
    inside, scores = [], []
    for sid, (lower, upper) in bands.items():
        y, h = actual[sid], history[sid]
        inside.append((y >= lower) & (y <= upper))
        penalty = (upper - lower) + (2 / alpha) * ((lower - y) * (y < lower) + (y - upper) * (y > upper))
        scale = np.mean(np.abs(h[season:] - h[:-season]))
        scores.append(penalty.mean() / scale if scale > 0 else np.nan)
    coverage = float(np.mean(np.concatenate(inside)))
    return {"level": level, "coverage": coverage, "acd": abs(coverage - level / 100), "msis": float(np.nanmean(scores))}


def run_cli(
    history: dict[str, np.ndarray], horizon: int, workdir: Path, extra: list[str], level: float | None = None
) -> tuple[dict, float]:
    data = workdir / "panel.csv"
    write_long(history, data)
    run_dir = workdir / "run"
    common = ["--target", "value", "--time-col", "step", "--id-col", "id"]
    started = time.time()
    subprocess.run(
        [forecaster_cli(), "train", str(data), *common, "--horizon", str(horizon), "--out", str(run_dir), *extra],
        check=True,
    )
    out = workdir / "forecast.csv"
    levels = ["--level", f"{level:g}"] if level else []
    subprocess.run(
        [forecaster_cli(), "forecast", str(run_dir), "--data", str(data), "--out", str(out), *levels], check=True
    )
    seconds = time.time() - started
    frame = pd.read_csv(out, dtype={"id": str})
    groups = list(frame.groupby("id", sort=False))
    forecasts = {sid: group["forecast"].to_numpy("float64") for sid, group in groups}
    bands = {}
    if level:
        name = f"{level:g}"
        bands = {sid: (g[f"lo_{name}"].to_numpy("float64"), g[f"hi_{name}"].to_numpy("float64")) for sid, g in groups}
    config = json.loads((run_dir / "config.json").read_text())
    return {"forecasts": forecasts, "bands": bands, "season": config["season"], "config": config}, seconds


PANELS = ("m4-weekly", "m4-hourly", "etth1-panel", "etth1-chunks", "hourly-400")


def split_panel(panel: str, split: str, shared: Path = SHARED) -> tuple[dict, dict, int, int, int]:
    """(history, actual, horizon, MASE season, Naive2 season) of `panel`: what training sees and what
    is scored."""
    if panel == "m4-weekly":
        train, test = read_m4(shared / "m4" / "Weekly-train.csv", shared / "m4" / "Weekly-test.csv")
        horizon, mase_season, naive2_season = 13, 1, 1
    elif panel == "m4-hourly":
        if split == "test":
            raise SystemExit("m4-hourly: the test part is not shared; score --split validation")
        train, test = read_m4(shared / "m4" / "Hourly-train.csv", None)
        horizon, mase_season, naive2_season = 48, 24, 24
    elif panel == "hourly-400":
        train, test = synthetic_hourly(), None
        horizon, mase_season, naive2_season = 48, 24, 24
    else:
        piece = 960 if panel == "etth1-chunks" else None
        train, test = read_ett_panel(shared / "ett" / "ETTh1.csv", piece), None
        horizon, mase_season, naive2_season = 48, 24, 24
    if split == "validation" or test is None:
        # the last horizon of each training row (or of the whole ETTh1 column) is the target
        actual = {sid: h[-horizon:] for sid, h in train.items()}
        history = {sid: h[:-horizon] for sid, h in train.items()}
        if panel not in ("m4-weekly", "m4-hourly") and split == "validation":
            actual = {sid: h[-horizon:] for sid, h in history.items()}
            history = {sid: h[:-horizon] for sid, h in history.items()}
    else:
        history, actual = train, test
    return history, actual, horizon, mase_season, naive2_season


def bench(
    panel: str,
    split: str,
    label: str,
    extra: list[str],
    keep: Path | None = None,
    shared: Path = SHARED,
    level: float | None = None,
) -> dict:
    """Train and forecast `panel` through the CLI with `extra` train options; score the `split`."""
    history, actual, horizon, mase_season, naive2_season = split_panel(panel, split, shared)
    workdir = keep or Path(tempfile.mkdtemp(prefix="m4-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    result, seconds = run_cli(history, horizon, workdir, extra, level)
    row: dict = {
        "panel": panel,
        "split": split,
        "label": label,
        "options": " ".join(extra),
        "series": len(history),
        "season_found": result["season"],
        "train_forecast_seconds": round(seconds, 1),
        "model": score(history, actual, result["forecasts"], mase_season),
    }
    for name, forecasts in baselines(history, horizon, max(naive2_season, 1)).items():
        row[name] = score(history, actual, forecasts, mase_season)
    reference = row["naive"] if panel == "m4-weekly" else row["seasonal_naive"]
    if panel == "m4-weekly" and split == "test":
        reference = {"smape": NAIVE2_SMAPE, "mase": NAIVE2_MASE}
    for name in ("model", "naive", "seasonal_naive"):
        row[name]["owa"] = 0.5 * (row[name]["smape"] / reference["smape"] + row[name]["mase"] / reference["mase"])
        row[name] = {k: round(v, 4) for k, v in row[name].items()}
    if level:
        scores = interval_scores(history, actual, result["bands"], level, mase_season)
        row["interval"] = {k: round(v, 4) for k, v in scores.items()}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--panel", choices=PANELS, default="m4-weekly")
    parser.add_argument("--split", choices=["validation", "test"], default="validation")
    parser.add_argument("--label", default="defaults")
    parser.add_argument("--record", action="store_true", help="append the result to benchmarks/RESULTS.md")
    parser.add_argument("--keep", type=Path, help="keep the panel CSV, run and forecast in this folder")
    parser.add_argument("--level", type=float, help="also score the conformal interval at this level (%%)")
    parser.add_argument("extra", nargs="*", help="train options after --")
    args = parser.parse_args()
    row = bench(args.panel, args.split, args.label, args.extra, args.keep, level=args.level)
    print(json.dumps(row))
    if args.record:
        sys.path.insert(0, str(HERE))
        from results import record

        record("m4", row)


if __name__ == "__main__":
    main()
