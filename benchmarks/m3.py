"""M3 Yearly, Quarterly and Other through the real CLI (`forecaster train` + `forecaster forecast` with the
defaults), scored as ../shared/data/m3/PUBLISHED.md says: per series sMAPE and MASE (in-sample seasonal
naive scale, season 1 for Yearly and Other, 4 for Quarterly), averaged over series.

Two ways a user brings such data:
- `--mode panel`: each set as one file (645, 756 or 174 short series), one global run.
- `--mode single`: a fixed sample of 30 series (10 a set, seed 0), one file and one run per series,
  beside seasonal naive and statsforecast's AutoETS / AutoTheta fitted on the same histories.
  `--sample 1`: a second sample, apart from the first (15 a set, seed 1), to check a choice made on the first.

Two splits, so that defaults are chosen without looking at the test data:
- `--split validation`: the last `horizon` points of each training series are cut off and scored (the
  test file is not read). Use this to compare settings.
- `--split test`: train on the training files, score on the test files. Report it once
  (`python benchmarks/m3.py --table` writes benchmarks/M3.md: every set in both modes).

    python benchmarks/m3.py --set yearly --mode panel --split validation [-- extra train options]
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
SHARED = HERE.parent.parent / "shared" / "data" / "m3"
SETS = {"yearly": ("Yearly", 6, 1), "quarterly": ("Quarterly", 8, 4), "other": ("Other", 8, 1)}
SAMPLE_PER_SET = 10
SECOND_SAMPLE_PER_SET = 15


def read_set(shared: Path, name: str, split: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history, actual) in long format (id, time, value): the training file and the test file, or for
    validation the training file without, and with only, each series' last `horizon` points."""
    title, horizon, _ = SETS[name]
    dtype = {"id": str, "time": str}
    train = pd.read_csv(shared / f"{title}-train.csv", dtype=dtype, keep_default_na=False)
    train["value"] = train["value"].astype("float64")
    if split == "test":
        test = pd.read_csv(shared / f"{title}-test.csv", dtype=dtype, keep_default_na=False)
        test["value"] = test["value"].astype("float64")
        return train, test
    last = train.groupby("id", sort=False).cumcount(ascending=False) < horizon
    return train[~last].reset_index(drop=True), train[last].reset_index(drop=True)


def by_series(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {sid: group["value"].to_numpy("float64") for sid, group in frame.groupby("id", sort=False)}


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.where(denominator > 0, np.abs(actual - forecast) / np.where(denominator > 0, denominator, 1), 0.0)
    return float(200 * ratio.mean())


def mase(history: np.ndarray, actual: np.ndarray, forecast: np.ndarray, season: int) -> float:
    m = season if len(history) > season else 1  # plain naive when a series is not longer than its season
    scale = np.mean(np.abs(history[m:] - history[:-m]))
    return float(np.mean(np.abs(actual - forecast)) / scale) if scale > 0 else float("nan")


def scores(history: dict, actual: dict, forecasts: dict, season: int) -> dict[str, float]:
    """Mean sMAPE and MASE over series, and each series' MASE (for the one-series comparison)."""
    per_series = {sid: mase(history[sid], actual[sid], forecasts[sid], season) for sid in actual}
    return {
        "smape": round(float(np.mean([smape(actual[sid], forecasts[sid]) for sid in actual])), 3),
        "mase": round(float(np.nanmean(list(per_series.values()))), 4),
        "per_series": per_series,  # type: ignore[dict-item]
    }


def simple_forecasts(
    history: dict, horizon: int, season: int, models: tuple[str, ...] = ("auto_ets", "auto_theta")
) -> dict[str, dict[str, np.ndarray]]:
    """Seasonal naive and statsforecast's `models` (the project's own wrappers; the last value where a fit
    fails), each series' forecast by method."""
    from forecaster.scoring.baselines import seasonal_naive
    from forecaster.scoring.statistical import STATISTICAL

    out: dict[str, dict[str, np.ndarray]] = {"seasonal_naive": {}, **{name: {} for name in models}}
    for sid, h in history.items():
        out["seasonal_naive"][sid] = seasonal_naive(h, horizon, season)
        for name in models:
            made = STATISTICAL[name](h, horizon, season)
            out[name][sid] = made if np.all(np.isfinite(made)) else np.repeat(h[-1], horizon)
    return out


def run_cli(history: pd.DataFrame, horizon: int, workdir: Path, extra: list[str], time_col: str) -> tuple[dict, dict]:
    """Train and forecast through the CLI; returns forecasts and methods by series id, and the run's facts."""
    data = workdir / "data.csv"
    history.to_csv(data, index=False)
    run_dir = workdir / "run"
    common = ["--target", "value", "--time-col", time_col, "--id-col", "id"]
    started = time.time()
    subprocess.run(
        [forecaster_cli(), "train", str(data), *common, "--horizon", str(horizon), "--out", str(run_dir), "--quiet",
         *extra], check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    out = workdir / "forecast.csv"
    subprocess.run([forecaster_cli(), "forecast", str(run_dir), "--data", str(data), "--out", str(out)],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    seconds = time.time() - started
    frame = pd.read_csv(out, dtype={"id": str}, keep_default_na=False)
    groups = list(frame.groupby("id", sort=False))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return (
        {sid: g["forecast"].to_numpy("float64") for sid, g in groups},
        {"seconds": seconds, "methods": {sid: g["method"].iloc[0] for sid, g in groups}, "validation": metrics},
    )


def forecaster_cli() -> str:
    return str(Path(sys.executable).with_name("forecaster"))


def method_counts(methods: dict[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for method in methods.values():
        counts[method] = counts.get(method, 0) + 1
    return counts


def bench_panel(name: str, split: str, extra: list[str], shared: Path = SHARED) -> dict:
    title, horizon, season = SETS[name]
    history, actual = read_set(shared, name, split)
    hist, act = by_series(history), by_series(actual)
    with tempfile.TemporaryDirectory(prefix="m3-bench-") as tmp:
        forecasts, facts = run_cli(history, horizon, Path(tmp), extra, "time")
    row = {"set": title, "mode": "panel", "split": split, "options": " ".join(extra), "series": len(hist),
           "seconds": round(facts["seconds"], 1), "methods": method_counts(facts["methods"])}  # fmt: skip
    row["forecaster"] = {k: v for k, v in scores(hist, act, forecasts, season).items() if k != "per_series"}
    for method, made in simple_forecasts(hist, horizon, season).items():
        row[method] = {k: v for k, v in scores(hist, act, made, season).items() if k != "per_series"}
    return row


def sample_ids(shared: Path, sample: int = 0) -> dict[str, list[str]]:
    """The fixed 30-series sample: 10 ids a set, drawn with seed 0; `sample` 1: 15 ids a set drawn with seed 1
    among the ids the first sample left."""
    rng = np.random.default_rng(sample)
    apart = sample_ids(shared) if sample else {}
    chosen = {}
    for name, (title, _, _) in SETS.items():
        ids = pd.read_csv(shared / f"{title}-train.csv", dtype={"id": str}, usecols=["id"])["id"].unique()
        ids = np.array([i for i in ids if i not in set(apart.get(name, ()))])
        size = SECOND_SAMPLE_PER_SET if sample else SAMPLE_PER_SET
        chosen[name] = sorted(rng.choice(ids, size, replace=False).tolist())
    return chosen


def bench_single(split: str, extra: list[str], shared: Path = SHARED, sample: int = 0) -> dict:
    """Each sampled series (`sample_ids`) in its own file and run; mean MASE and sMAPE against the simple methods."""
    per_method: dict[str, list[float]] = {}
    smapes: dict[str, list[float]] = {}
    worst, worst_ets, seconds, methods, refused = [], [], [], {}, []
    for name, ids in sample_ids(shared, sample).items():
        _, horizon, season = SETS[name]
        history, actual = read_set(shared, name, split)
        for sid in ids:
            one = history[history["id"] == sid]
            h, a = one["value"].to_numpy("float64"), actual.loc[actual["id"] == sid, "value"].to_numpy("float64")
            with tempfile.TemporaryDirectory(prefix="m3-one-") as tmp:
                try:
                    forecasts, facts = run_cli(one, horizon, Path(tmp), extra, "time")
                except subprocess.CalledProcessError:  # refused (too short to train on): scored for no method
                    refused.append(sid)
                    continue
            seconds.append(facts["seconds"])
            methods[sid] = facts["methods"][sid]
            made = {"forecaster": forecasts[sid]}
            made.update({k: v[sid] for k, v in simple_forecasts({sid: h}, horizon, season).items()})
            for method, forecast in made.items():
                per_method.setdefault(method, []).append(mase(h, a, forecast, season))
                smapes.setdefault(method, []).append(smape(a, forecast))
            worst.append(per_method["forecaster"][-1] / max(per_method["seasonal_naive"][-1], 1e-12))
            worst_ets.append(per_method["auto_ets"][-1] / max(per_method["seasonal_naive"][-1], 1e-12))
            print(f"{name} {sid!r}: {methods[sid]}, MASE {per_method['forecaster'][-1]:.3f} (seasonal naive "
                  f"{per_method['seasonal_naive'][-1]:.3f}, AutoETS {per_method['auto_ets'][-1]:.3f}), "
                  f"{facts['seconds']:.1f} s", file=sys.stderr, flush=True)  # fmt: skip
    return {
        "mode": "single", "split": split, "options": " ".join(extra), "series": len(worst),
        **{m: {"smape": round(float(np.mean(smapes[m])), 3), "mase": round(float(np.nanmean(v)), 4)}
           for m, v in per_method.items()},
        "worst_ratio_to_seasonal_naive": round(float(np.nanmax(worst)), 3),
        "series_over_1_5x_seasonal_naive": int(np.sum(np.asarray(worst) > 1.5)),
        "auto_ets_series_over_1_5x_seasonal_naive": int(np.sum(np.asarray(worst_ets) > 1.5)),
        "methods": method_counts(methods),
        "refused": refused,
        "seconds_per_series": {"mean": round(float(np.mean(seconds)), 1), "max": round(float(np.max(seconds)), 1)},
    }  # fmt: skip


def write_table(rows: list[dict], out: Path) -> None:
    published = {  # PUBLISHED.md: statsforecast on the same files (sMAPE / MASE), and published sMAPE
        "Yearly": {"Theta": (16.65, 2.770), "AutoETS": (16.19, 2.695), "N-BEATS": 15.93,
                   "Seasonal naive": (17.88, 3.172)},
        "Quarterly": {"Theta": (9.23, 1.123), "AutoETS": (9.45, 1.143), "N-BEATS": 8.84,
                      "Seasonal naive": (11.07, 1.425)},
        "Other": {"Theta": (4.93, 2.275), "AutoETS": (4.35, 1.801), "N-BEATS": 4.24, "Seasonal naive": (6.30, 3.089)},
    }  # fmt: skip
    lines = ["# M3 Yearly, Quarterly, Other: test split, `train` defaults", "",
             "Written by `make bench-m3` (`benchmarks/m3.py --table`); defaults chosen on the validation split only.",
             "", "## Each set as one panel (sMAPE / MASE)", "",
             "Theta, AutoETS and seasonal naive: statsforecast on the same files (PUBLISHED.md); AutoTheta: "
             "statsforecast's, measured in this run (AutoETS measured here matches PUBLISHED.md).", "",
             "| set | forecaster | Theta | AutoETS | AutoTheta | seasonal naive | N-BEATS (sMAPE) | methods "
             "| seconds |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for row in rows:
        if row["mode"] != "panel":
            continue
        p = published[row["set"]]
        lines.append(
            f"| {row['set']} | **{row['forecaster']['smape']:.2f} / {row['forecaster']['mase']:.3f}** | "
            f"{p['Theta'][0]:.2f} / {p['Theta'][1]:.3f} | {p['AutoETS'][0]:.2f} / {p['AutoETS'][1]:.3f} | "
            f"{row['auto_theta']['smape']:.2f} / {row['auto_theta']['mase']:.3f} | "
            f"{p['Seasonal naive'][0]:.2f} / {p['Seasonal naive'][1]:.3f} | {p['N-BEATS']:.2f} | "
            f"{', '.join(f'{k} {v}' for k, v in row['methods'].items())} | {row['seconds']:.0f} |"
        )
    for row in rows:
        if row["mode"] != "single":
            continue
        lines += ["", f"## {row['series']} series, one file and one run each (mean sMAPE / MASE over the series)", "",
                  "| method | sMAPE | MASE |", "|---|---|---|"]  # fmt: skip
        for method in ("forecaster", "auto_ets", "auto_theta", "seasonal_naive"):
            lines.append(f"| {method} | {row[method]['smape']:.2f} | {row[method]['mase']:.3f} |")
        refused = row.get("refused", [])
        lines += ["", f"Worst series: {row['worst_ratio_to_seasonal_naive']:.2f}x seasonal naive's MASE; "
                  f"{row['series_over_1_5x_seasonal_naive']} over 1.5x (AutoETS: "
                  f"{row.get('auto_ets_series_over_1_5x_seasonal_naive', '?')}). "
                  + (f"Refused as too short to train on (not scored for any method): "
                     f"{', '.join(repr(r) for r in refused)}. " if refused else "")
                  + "Methods served: "
                  f"{', '.join(f'{k} {v}' for k, v in row['methods'].items())}. Train + forecast per series: "
                  f"{row['seconds_per_series']['mean']:.0f} s on average, {row['seconds_per_series']['max']:.0f} s "
                  "at most (2-core CPU)."]  # fmt: skip
    out.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=list(SETS), default="yearly")
    parser.add_argument("--mode", choices=["panel", "single"], default="panel")
    parser.add_argument("--split", choices=["validation", "test"], default="validation")
    parser.add_argument("--shared", type=Path, default=SHARED, help="folder with the M3 CSV files")
    parser.add_argument("--sample", type=int, choices=[0, 1], default=0, help="single: which sample of series")
    parser.add_argument("--table", action="store_true", help="test split, every set and mode -> benchmarks/M3.md")
    parser.add_argument("extra", nargs="*", help="train options after --")
    args = parser.parse_args()
    if args.table:
        rows = []
        for name in SETS:
            rows.append(bench_panel(name, "test", args.extra, args.shared))
            print(json.dumps(rows[-1]), flush=True)
        rows.append(bench_single("test", args.extra, args.shared))
        print(json.dumps(rows[-1]), flush=True)
        write_table(rows, HERE / "M3.md")
        return
    if args.mode == "panel":
        row = bench_panel(args.set, args.split, args.extra, args.shared)
    else:
        row = bench_single(args.split, args.extra, args.shared, args.sample)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
