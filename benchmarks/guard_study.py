"""How the validation guard's rule was chosen: on validation splits only (never the test days or rows).

For each set, `forecaster train --holdout H` on the training part alone (the guard decides on its own
validation windows inside it), then every candidate (the network alone, seasonal naive, the statistical
models, their combination) forecasts the H held-out points of the training part, rolling (`--folds`,
`--step`). The guard's paired differences from selection.json are set beside each candidate's held-out
MAE relative to the combination's, and each rule (CLEAR_Z standard errors) is scored by what it would
have served: its held-out MAE against the better of the network alone and the combination.

    python benchmarks/guard_study.py --set epf-NP [--future]     # the first 1,456 days; the last 364 held out
    python benchmarks/guard_study.py --set m4-weekly            # the training rows; their last 13 held out
    python benchmarks/guard_study.py --set etth1-chunks         # 126 hourly pieces less their test 48; 48 held out
    python benchmarks/guard_study.py --set m3-single [--sample 1]  # 30 (45) M3 series, a run each; last horizon out

On the long-series panels (m4-weekly, etth1-chunks) it also measures cheaper candidates on the held-out
windows (ETS without the model search: damped additive; Theta without the search) and every candidate's
seconds per 1,000 series, to weigh the statistical methods' gain over the network alone against their cost.

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
MARGINS = (0.0, 0.03, 0.10)  # SELECTION_MARGIN values weighed on short validation parts (M3)
COST_RULES = (None, 0.0, 1.0, 2.0)  # standard errors a costly method must score below the network alone
# weighed on one-series runs (M3): the windows a candidate needs to replace the combination, and the margin it
# needs on fewer than MIN_BLOCKS windows (where the standard error rests on few blocks or none)
FEWEST = (2, 3, 4)
FEW_MARGINS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5)


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


def etth1_set(work: Path) -> tuple[Path, list[str], int, int, int]:
    """bench-m4's 126 ETTh1 pieces less each piece's last 48 points (its test part, never read); the 48
    before them held out."""
    from m4 import split_panel, write_long

    history, _, horizon, _, _ = split_panel("etth1-chunks", "test", SHARED)
    path = work / "etth1-chunks.csv"
    write_long(history, path)
    return (
        path,
        ["--target", "value", "--time-col", "step", "--id-col", "id", "--horizon", str(horizon)],
        horizon,
        1,
        horizon,
    )


def m3_series(work: Path, sample: int = 0) -> list[tuple[Path, list[str], int, int, int]]:
    """The sampled M3 series of `benchmarks/m3.py --mode single [--sample 1]`, their training rows each a file
    (the test file never read); each series' last horizon held out."""
    from m3 import SETS, read_set, sample_ids

    units = []
    for name, ids in sample_ids(SHARED / "m3", sample).items():
        horizon = SETS[name][1]
        train, _ = read_set(SHARED / "m3", name, "test")
        for sid in ids:
            path = work / f"{sid}.csv"
            train[train["id"] == sid].to_csv(path, index=False)
            columns = ["--target", "value", "--time-col", "time", "--id-col", "id", "--horizon", str(horizon)]
            units.append((path, columns, horizon, 1, horizon))
    return units


def cheap_held_out(bt, panel, horizon: int, season: int) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Cheaper statistical candidates on the held-out windows, and each statistical model's seconds a fit (one
    process): AutoETS and AutoTheta (with their model search), ETS without the search (damped additive trend,
    additive season) and Theta without it (the standard Theta method)."""
    import time
    import warnings

    from statsforecast import models

    from forecaster.scoring.statistical import STAT_HISTORY

    def fixed_ets(period: int):
        return models.AutoETS(season_length=period, model="AAA" if period > 1 else "AAN", damped=True)

    makers = {
        "auto_ets": lambda period: models.AutoETS(season_length=period),
        "auto_theta": lambda period: models.AutoTheta(season_length=period),
        "ets_fixed": fixed_ets,
        "theta_fixed": lambda period: models.Theta(season_length=period),
    }
    made = {name: np.empty((len(bt.origins), horizon)) for name in makers}
    seconds = dict.fromkeys(makers, 0.0)
    for k, (s, origin) in enumerate(zip(bt.series_idx, bt.origins)):
        y = panel.series[s].values[:origin, 0][-STAT_HISTORY:]
        period = season if 1 < season and 2 * season < len(y) else 1
        for name, make in makers.items():
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    made[name][k] = make(period).forecast(y=y, h=horizon)["mean"]
                except Exception:
                    made[name][k] = np.nan
            seconds[name] += time.perf_counter() - started
    return made, {name: round(1000 * total / len(bt.origins), 1) for name, total in seconds.items()}


def candidates_held_out(
    run: Path, data: Path, folds: int, step: int, cheap: bool = False
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Each candidate's scaled MAE over the held-out windows per series (each window's MAE over the MASE
    denominator, as `evaluate` makes the network's), and with `cheap` the cheaper candidates' too, with each
    statistical model's fit seconds per 1,000 series."""
    from forecaster.api import Forecaster
    from forecaster.scoring.metrics import usable_scales
    from forecaster.scoring.selection import candidates, served_forecasts
    from forecaster.scoring.statistical import fit_processes, known_columns
    from forecaster.serving.evaluate import backtest_here
    from forecaster.serving.requests import BacktestRequest

    with fit_processes(None):  # the statistical fits on every core, as the CLI's
        forecaster = Forecaster.load(run)
        request = BacktestRequest(str(data), folds, step)
        found = backtest_here(forecaster.run, lambda: forecaster.model, request, lambda _: None)
        bt, panel = found.backtest, found.panel
        cfg, selection = forecaster.run.config, forecaster.run.selection()
        statistical = selection.statistical if selection else ("auto_ets", "auto_theta")
        horizon, n_future = cfg.window.horizon, cfg.model.n_future
        histories = [panel.series[s].values[:o, 0] for s, o in zip(bt.series_idx, bt.origins)]
        known = [known_columns(panel.series[s].values, o, horizon, n_future) for s, o in zip(bt.series_idx, bt.origins)]
        forecasts = {}
        for name in candidates(statistical):
            if name in ("model", "seasonal_naive"):
                forecasts[name] = bt.forecasts[name]
            else:
                methods = [name] * len(histories)
                forecasts[name] = served_forecasts(methods, histories, horizon, forecaster.run.season,
                                                   bt.forecasts["model"], statistical, known)[0]  # fmt: skip
        seconds: dict[str, float] = {}
        if cheap:
            more, seconds = cheap_held_out(bt, panel, horizon, forecaster.run.season)
            forecasts["ets_fixed"], forecasts["theta_fixed"] = more["ets_fixed"], more["theta_fixed"]
            forecasts["cheap_combination"] = np.mean(
                [bt.forecasts["model"], more["ets_fixed"], more["theta_fixed"]], axis=0
            )
        scores = {}
        for name, made in forecasts.items():
            errors = np.abs(bt.actual - made).mean(axis=1) / usable_scales(bt.scales)
            scores[name] = pd.Series(errors).groupby(bt.series_idx).mean().to_numpy()
        return scores, seconds


def chosen(
    selection: dict,
    z: float,
    margin: float,
    long: bool,
    cost_z: float | None = None,
    fewest: int = 1,
    few_margin: float | None = None,
) -> str:
    """What a rule would serve on the guard's own evidence: a candidate replaces the combination `margin` and `z`
    standard errors below it (the network alone with no margin on long validation parts, as `choose`), on
    `fewest` scored windows or more, by `few_margin` (default `margin`) on fewer than MIN_BLOCKS windows; with
    `cost_z`, a costly method must then score `cost_z` standard errors below the network alone."""
    from forecaster.scoring.evidence import MIN_BLOCKS, Difference
    from forecaster.scoring.selection import BLIND_MARGIN, MIN_NETWORK_WINDOWS, costly, number

    clear = []
    if selection["windows"] < fewest:
        return "combination"
    if few_margin is not None and selection["windows"] < MIN_BLOCKS:
        margin = few_margin
    for name, (relative, se) in selection["differences"].items():
        if name == "model" and selection["windows"] < MIN_NETWORK_WINDOWS:
            continue
        need, clear_z = (0.0, 0.0) if name == "model" and long else (margin, z)
        need = BLIND_MARGIN if name == "seasonal_naive" and selection.get("covariates") else need
        if Difference(relative, number(se)).clearly_below(need, clear_z):  # se: null where unknown
            clear.append(name)
    pick = min(clear, key=lambda n: selection["scores"][n]) if clear else "combination"
    versus = selection.get("against_network", {})
    costs = selection.get("costs_per_1000_series", {})
    if cost_z is not None and pick in costly(costs, selection["panel_series"]) and pick in versus:
        if not Difference(*versus[pick]).clearly_below(0.0, cost_z):
            pick = "model"
    return pick


def train_and_score(data: Path, options: list[str], holdout: int, folds: int, step: int, work: Path,
                    cheap: bool = False) -> tuple[dict, dict[str, np.ndarray], dict[str, float]]:  # fmt: skip
    """Train on `data` less its last `holdout` steps (unless `work` holds that run already: `--reuse`); the
    guard's selection, and every candidate's held-out scores."""
    cli = str(Path(sys.executable).with_name("forecaster"))
    if not (work / "selection.json").is_file():
        subprocess.run([cli, "train", str(data), *options, "--holdout", str(holdout), "--quiet", "--out",
                        str(work)], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    selection = json.loads((work / "selection.json").read_text())
    id_col = options[options.index("--id-col") + 1] if "--id-col" in options else None
    selection["panel_series"] = pd.read_csv(data, usecols=[id_col])[id_col].nunique() if id_col else 1
    return (selection, *candidates_held_out(work, data, folds, step, cheap))


def rule_table(units: list[tuple[dict, dict[str, np.ndarray]]], long: bool) -> dict[str, list]:
    """Each rule's picks and held-out score (the mean over series of the picked candidate's), over the runs; on
    short validation parts (one-series runs) also, beside the 3% margin and 2 standard errors, a run decided on
    fewer than `fewest` windows served the combination, or a wider margin on fewer than MIN_BLOCKS windows."""
    rules: dict[str, list] = {}

    def score(label: str, **rule) -> None:
        picks = [chosen(selection, **rule) for selection, _ in units]
        held_out = np.concatenate([held[pick] for pick, (_, held) in zip(picks, units)]).mean()
        rules[label] = [{p: picks.count(p) for p in sorted(set(picks))}, round(float(held_out), 4)]

    for margin in MARGINS if not long else (0.03,):
        for z in RULES:
            for cost_z in COST_RULES if long else (None,):
                label = f"margin={margin:g} z={z:g}" + ("" if cost_z is None else f" cost_z={cost_z:g}")
                score(label, z=z, margin=margin, long=long, cost_z=cost_z)
    if not long:
        for fewest in FEWEST:
            score(f"margin=0.03 z=2 fewest={fewest}", z=2.0, margin=0.03, long=False, fewest=fewest)
        for few_margin in FEW_MARGINS:
            score(f"margin=0.03 z=2 few_margin={few_margin:g}", z=2.0, margin=0.03, long=False, few_margin=few_margin)
    return rules


def study(name: str, future: bool, reuse: Path | None = None, sample: int = 0) -> dict:
    work = reuse or Path(tempfile.mkdtemp(prefix=f"guard-{name}-"))
    if name == "m3-single":
        return m3_study(work, sample)
    if name.startswith("epf-"):
        data, options, holdout, folds, step = epf_set(name[4:], future, work)
    elif name == "etth1-chunks":
        data, options, holdout, folds, step = etth1_set(work)
    else:
        data, options, holdout, folds, step = m4_set(work)
    cheap = name in ("m4-weekly", "etth1-chunks")
    selection, held, seconds = train_and_score(data, options, holdout, folds, step, work / "run", cheap)
    selection["covariates"] = future
    means = {n: float(v.mean()) for n, v in held.items()}
    network = means["model"]
    return {
        "set": name + (" --future" if future else ""),
        "served": selection["method"],
        "reason": selection["reason"],
        "windows": selection["windows"],
        "period": selection["period"],
        "validation vs combination": selection["differences"],
        "validation vs network": selection.get("against_network", {}),
        "forecast seconds per 1,000 series (training's measure)": selection.get("costs_per_1000_series", {}),
        "held-out MASE": {n: round(v, 4) for n, v in means.items()},
        "held-out vs network": {n: round(v / network - 1, 4) for n, v in means.items()},
        "fit seconds per 1,000 series (one process)": seconds,
        "rules (picks, held-out MASE)": rule_table([(selection, held)], long=True),
    }


def m3_study(work: Path, sample: int = 0) -> dict:
    """The one-series M3 runs: each rule's picks and its mean held-out MASE over the series."""
    units, refused = [], 0
    for k, (data, options, holdout, folds, step) in enumerate(m3_series(work, sample)):
        try:
            selection, held, _ = train_and_score(data, options, holdout, folds, step, work / f"run{k}")
        except subprocess.CalledProcessError:  # too short to train on with its last horizon held out
            refused += 1
            continue
        units.append((selection, held))
        print(f"{data.stem}: {selection['method']} ({selection['reason']})", file=sys.stderr, flush=True)
    means = {n: round(float(np.mean([held[n].mean() for _, held in units])), 4) for n in units[0][1]}
    by_windows: dict[int, list] = {}  # the 3% margin's picks against the combination, by windows decided on
    for selection, held in units:
        pick = chosen(selection, 2.0, 0.03, long=False)
        by_windows.setdefault(int(selection["windows"]), []).append((held[pick].mean(), held["combination"].mean()))
    return {
        "set": "m3-single" + (f" --sample {sample}" if sample else ""),
        "runs": len(units),
        "refused": refused,
        "served": {m: sum(s["method"] == m for s, _ in units) for m in {s["method"] for s, _ in units}},
        "held-out MASE of each candidate everywhere": means,
        "rules (picks, held-out MASE)": rule_table(units, long=False),
        "runs decided on k windows: [runs, held-out MASE of the 3% margin's picks, of the combination]": {
            k: [len(pairs), *np.round(np.mean(pairs, axis=0), 4).tolist()] for k, pairs in sorted(by_windows.items())
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", required=True, choices=["epf-NP", "epf-PJM", "m4-weekly", "etth1-chunks", "m3-single"])
    parser.add_argument("--future", action="store_true", help="EPF: with the two day-ahead columns")
    parser.add_argument("--record", action="store_true", help="append the result to benchmarks/GUARD.md")
    parser.add_argument("--reuse", type=Path, help="an earlier study's folder: its trained runs are scored again")
    parser.add_argument("--sample", type=int, choices=[0, 1], default=0, help="m3-single: which sample (m3.py's)")
    args = parser.parse_args()
    result = study(args.set, args.future, args.reuse, args.sample)
    print(json.dumps(result))
    if args.record:
        with open(HERE / "GUARD.md", "a") as out:
            out.write(f"\n```json\n{json.dumps(result, indent=1)}\n```\n")


if __name__ == "__main__":
    main()
