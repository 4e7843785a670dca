"""How the validation guard's rule was chosen: on validation splits only (never the test days or rows).

For each set, `forecaster train --holdout H` on the training part alone (the guard decides on its own
validation windows inside it), then every candidate (the network alone, seasonal naive, the statistical
models, their combination) forecasts the H held-out points of the training part, rolling (`--folds`,
`--step`). The guard's paired differences from selection.json are set beside each candidate's held-out
MAE relative to the combination's, and each rule (CLEAR_Z standard errors) is scored by what it would
have served: its held-out MAE against the better of the network alone and the combination.

    python benchmarks/guard_study.py --set epf-NP [--future]     # the first 1,456 days; the last 364 held out
    python benchmarks/guard_study.py --set m4-weekly            # the training rows; their last 13 held out

prints one JSON line per set; `--record` appends it to benchmarks/GUARD.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
sys.path.insert(0, str(HERE))

TRAIN_DAYS, HOURS, HELD_DAYS = 1456, 24, 364
RULES = (0.0, 1.0, 2.0, 3.0)  # CLEAR_Z values weighed


def epf_set(market: str, future: bool, work: Path) -> tuple[Path, list[str], int, int, int]:
    """The first 1,456 days of a market (the test days never read), and how to train and hold out."""
    from epf import FUTURE

    frame = pd.read_csv(SHARED / "epf" / f"{market}.csv", skipinitialspace=True)
    path = work / f"{market}-train.csv"
    frame.iloc[: TRAIN_DAYS * HOURS].to_csv(path, index=False)
    columns = ["--target", "OT", "--time-col", "date", "--horizon", str(HOURS)]
    known = ["--future", ",".join(FUTURE[market])] if future else []
    return path, [*columns, *known], HELD_DAYS * HOURS, HELD_DAYS, HOURS


def m4_set(work: Path) -> tuple[Path, list[str], int, int, int]:
    """M4 Weekly's training rows as a long CSV (the test file never read); their last 13 held out."""
    from m4 import read_m4, write_long

    train, _ = read_m4(SHARED / "m4" / "Weekly-train.csv", None)
    path = work / "m4-weekly.csv"
    write_long(train, path)
    return path, ["--target", "value", "--time-col", "step", "--id-col", "id", "--horizon", "13"], 13, 1, 13


def candidates_held_out(run: Path, data: Path, folds: int, step: int) -> dict[str, float]:
    """Each candidate's MAE over the held-out windows (each series' MAE over the mean of its actuals'
    scale: the MASE denominator), as `evaluate` makes the network's."""
    from forecaster.api import Forecaster
    from forecaster.scoring.metrics import usable_scales
    from forecaster.scoring.selection import COMBINATION, candidates, served_forecasts
    from forecaster.scoring.statistical import known_columns, use_cores

    use_cores()
    forecaster = Forecaster.load(run)
    _, _, (bt, panel) = forecaster._backtest(str(data), folds, step, None, ())
    cfg, selection = forecaster.run.config, forecaster.run.selection()
    statistical = selection.statistical if selection else ("auto_ets", "auto_theta")
    horizon, n_future = cfg.window.horizon, cfg.model.n_future
    histories = [panel.series[s].values[:o, 0] for s, o in zip(bt.series_idx, bt.origins)]
    known = [known_columns(panel.series[s].values, o, horizon, n_future) for s, o in zip(bt.series_idx, bt.origins)]
    scores = {}
    for name in candidates(statistical):
        if name in ("model", "seasonal_naive"):
            made = bt.forecasts[name]
        else:
            methods = [name] * len(histories)
            made = served_forecasts(methods, histories, horizon, forecaster.run.season, bt.forecasts["model"],
                                    statistical, known)[0]  # fmt: skip
        errors = np.abs(bt.actual - made).mean(axis=1) / usable_scales(bt.scales)
        by_series = pd.Series(errors).groupby(bt.series_idx).mean()
        scores[name] = float(by_series.mean())
    return {name: round(score / scores[COMBINATION] - 1, 4) for name, score in scores.items()}


def chosen(selection: dict, z: float) -> str:
    """What a rule asking `z` standard errors of every candidate would serve, on the guard's own evidence (the
    sets here have long validation parts: the network needs no 3% margin)."""
    from forecaster.scoring.evidence import Difference
    from forecaster.scoring.selection import BLIND_MARGIN, MIN_NETWORK_WINDOWS, SELECTION_MARGIN

    clear = []
    for name, (relative, se) in selection["differences"].items():
        if name == "model" and selection["windows"] < MIN_NETWORK_WINDOWS:
            continue
        margin = 0.0 if name == "model" else SELECTION_MARGIN
        margin = BLIND_MARGIN if name == "seasonal_naive" and selection.get("covariates") else margin
        if Difference(relative, se).clearly_below(margin, z):
            clear.append(name)
    return min(clear, key=lambda n: selection["scores"][n]) if clear else "combination"


def study(name: str, future: bool) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"guard-{name}-"))
    if name.startswith("epf-"):
        data, options, holdout, folds, step = epf_set(name[4:], future, work)
    else:
        data, options, holdout, folds, step = m4_set(work)
    cli = str(Path(sys.executable).with_name("forecaster"))
    subprocess.run([cli, "train", str(data), *options, "--holdout", str(holdout), "--quiet", "--out",
                    str(work / "run")], check=True)  # fmt: skip
    selection = json.loads((work / "run" / "selection.json").read_text())
    selection["covariates"] = future
    held_out = candidates_held_out(work / "run", data, folds, step)
    best = min(held_out["model"], held_out["combination"])
    rules = {f"z={z:g}": (pick := chosen(selection, z), round(held_out[pick] - best, 4)) for z in RULES}
    return {
        "set": name + (" --future" if future else ""),
        "served": selection["method"],
        "reason": selection["reason"],
        "windows": selection["windows"],
        "period": selection["period"],
        "validation": {n: d for n, d in selection["differences"].items()},
        "held_out_vs_combination": held_out,
        "rules (served, held-out gap to the better of model and combination)": rules,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", required=True, choices=["epf-NP", "epf-PJM", "m4-weekly"])
    parser.add_argument("--future", action="store_true", help="EPF: with the two day-ahead columns")
    parser.add_argument("--record", action="store_true", help="append the result to benchmarks/GUARD.md")
    args = parser.parse_args()
    result = study(args.set, args.future)
    print(json.dumps(result))
    if args.record:
        with open(HERE / "GUARD.md", "a") as out:
            out.write(f"\n```json\n{json.dumps(result, indent=1)}\n```\n")


if __name__ == "__main__":
    main()
