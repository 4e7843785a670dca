"""Which forecasts the guard's combination should average on short panels, studied on M3's validation split
(each training series' last `horizon` points held out; the test file is never read).

The network alone is trained once through the CLI (`--select model`), the statsforecast models (AutoETS, AutoTheta,
AutoARIMA, AutoCES: the project's own wrappers) forecast the same histories, and every combination below is scored
on the held-out points: equal means of several members, medians, the network weighted more, and the default five
with another model added or put in AutoTheta's place (statsforecast's DynamicOptimizedTheta, OptimizedTheta and
Theta, and the drift naive). A fit that fails forecasts the series' last value. The mean of the network, AutoETS and
AutoTheta is the combination `train`'s guard served on every M3 panel before AutoARIMA and AutoCES joined it, so its
row reproduces `python benchmarks/m3.py --set S --mode panel --split validation -- --statistical
auto_ets,auto_theta`.

    python benchmarks/combination_study.py --set yearly|quarterly|other [-- extra train options]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from m3 import SETS, SHARED, by_series, read_set, run_cli, scores, simple_forecasts

MODELS = ("auto_ets", "auto_theta", "auto_arima", "auto_ces")
NET, ETS, THETA, ARIMA, CES = "network", *MODELS
MEANS = ((NET, ETS, THETA), (NET, ETS, THETA, ARIMA), (NET, ETS, THETA, CES), (NET, *MODELS), MODELS)
MEDIANS = ((NET, ETS, THETA), (NET, *MODELS))
NETWORK_WEIGHTS = (0.4, 0.5, 0.6)  # the network's share of a weighted mean, the rest shared equally
OTHERS = {"dotm": "DynamicOptimizedTheta", "otm": "OptimizedTheta", "theta": "Theta", "drift": None}


def drift(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The drift naive: the last value plus the history's mean step."""
    return history[-1] + (history[-1] - history[0]) / max(len(history) - 1, 1) * np.arange(1, horizon + 1)


def other_forecasts(hist: dict, horizon: int, season: int) -> dict[str, dict]:
    """OTHERS' forecasts of each series (statsforecast's through the project's `fitted`; the last value where a
    fit fails)."""
    from forecaster.scoring.candidates._statsforecast import fitted

    made: dict[str, dict] = {}
    for name, model_class in OTHERS.items():
        forecast = fitted(model_class) if model_class else drift
        made[name] = {}
        for sid, h in hist.items():
            y = forecast(h, horizon, season)
            made[name][sid] = y if np.all(np.isfinite(y)) else np.repeat(h[-1], horizon)
    return made


def combined(made: dict[str, dict], members: tuple[str, ...], how: str = "mean", weights=None) -> dict:
    """The members' forecasts of each series combined: their mean (weighted by `weights`) or median."""
    out = {}
    for sid in made[members[0]]:
        stack = np.array([made[name][sid] for name in members])
        out[sid] = np.median(stack, axis=0) if how == "median" else np.average(stack, axis=0, weights=weights)
    return out


def study(name: str, extra: list[str]) -> dict:
    _, horizon, season = SETS[name]
    history, actual = read_set(SHARED, name, "validation")
    hist, act = by_series(history), by_series(actual)
    with tempfile.TemporaryDirectory(prefix="combination-") as tmp:
        network, facts = run_cli(history, horizon, Path(tmp), ["--select", "model", *extra], "time")
    made = {NET: network, **simple_forecasts(hist, horizon, season, MODELS), **other_forecasts(hist, horizon, season)}

    def scored(forecasts: dict) -> list[float]:
        found = scores(hist, act, forecasts, season)
        return [found["smape"], found["mase"]]

    rows = {member: scored(made[member]) for member in made}
    rows.update({f"mean of {', '.join(members)}": scored(combined(made, members)) for members in MEANS})
    rows.update({f"median of {', '.join(m)}": scored(combined(made, m, "median")) for m in MEDIANS})
    for share in NETWORK_WEIGHTS:
        for others in ((ETS, THETA), (ETS, THETA, CES)):
            weights = [share] + [(1 - share) / len(others)] * len(others)
            label = f"network {share}, {', '.join(others)} the rest"
            rows[label] = scored(combined(made, (NET, *others), weights=weights))
    five = (NET, *MODELS)
    for other in OTHERS:
        rows[f"mean of the five and {other}"] = scored(combined(made, (*five, other)))
        rows[f"mean of the five, {other} for {THETA}"] = scored(
            combined(made, (*(m for m in five if m != THETA), other))
        )
    return {"set": name, "options": " ".join(extra), "network_seconds": round(facts["seconds"]), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=sorted(SETS), required=True)
    parser.add_argument("extra", nargs="*", help="train options after --")
    args = parser.parse_args()
    print(json.dumps(study(args.set, args.extra), indent=1))


if __name__ == "__main__":
    main()
