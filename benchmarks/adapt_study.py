"""How the adaptive bands' settings were chosen (`forecaster.scoring.adaptive`): on validation splits only.

Each EPF market's first 1,456 days (the test days never read), trained with `--future` and their last 364
days held out: the run is calibrated in training on the first three years' validation windows, and its
bands then adapt over the held-out year, every day forecast at midnight (`evaluate --folds 364 --step 24`
as the API makes it). For each setting (half-life, the static table's weight, ACI's step) the 80% and 95%
bands' coverage, overall and over each half of the year, and MSIS against the static bands'.

    python benchmarks/adapt_study.py [--markets NP,PJM] [--record]    # --record appends to benchmarks/ADAPT.md
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

LEVELS = (80.0, 95.0)
HALF_LIVES = (7.0, 30.0, 90.0, 1e9)  # windows (here days); 1e9: every realised window weighs the same
PRIORS = (10.0, 30.0, 100.0)  # the static table's weight, in windows
GAMMAS = (0.0, 0.005, 0.02)  # ACI's step


def backtest(market: str, work: Path):
    """Train on the market's first 1,456 days less their last 364, then backtest those 364 days."""
    from guard_study import epf_set

    from forecaster.api import Forecaster
    from forecaster.serving.evaluate import backtest_here
    from forecaster.serving.requests import BacktestRequest, Bands

    data, options, holdout, folds, step = epf_set(market, True, work)
    cli = str(Path(sys.executable).with_name("forecaster"))
    subprocess.run([cli, "train", str(data), *options, "--holdout", str(holdout), "--quiet", "--out",
                    str(work / "run")], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    forecaster = Forecaster.load(work / "run")
    request = BacktestRequest(str(data), folds, step, bands=Bands(LEVELS, adapt=False))
    found = backtest_here(forecaster.run, lambda: forecaster.model, request, lambda _: None)
    return forecaster.run.calibration(), found.backtest


def scores(calibration, bt, adaptation) -> dict[str, list[float]]:
    """level -> [coverage, first half's, second half's, MSIS] of the bands `adaptation` makes (None: static)."""
    from forecaster.scoring.adaptive import Windows, adapted_multipliers
    from forecaster.scoring.metrics import msis

    point = bt.forecasts.get("served", bt.forecasts["model"])
    multipliers = None
    if adaptation is not None:
        windows = Windows(bt.actual, point, bt.spreads, bt.series_idx, bt.origins)
        multipliers = adapted_multipliers(calibration, windows, LEVELS, adaptation)
    bands = calibration.bands(point, bt.spreads, LEVELS, multipliers=multipliers)
    out = {}
    half = len(bt.origins) // 2
    for level in LEVELS:
        lower, upper = bands[f"lo_{level:g}"], bands[f"hi_{level:g}"]
        inside = (bt.actual >= lower) & (bt.actual <= upper)
        score = msis(bt.actual, lower, upper, bt.scales, 1 - level / 100)
        out[f"{level:g}"] = [round(float(v), 4) for v in (inside.mean(), inside[:half].mean(), inside[half:].mean(),
                                                           score)]  # fmt: skip
    return out


def study(markets: list[str]) -> dict:
    from forecaster.scoring.adaptive import Adaptation

    settings = {"static": None}
    for half_life, prior, gamma in itertools.product(HALF_LIVES, PRIORS, GAMMAS):
        settings[f"half_life={half_life:g} prior={prior:g} gamma={gamma:g}"] = Adaptation(half_life, prior, gamma)
    results: dict = {name: {} for name in settings}
    for market in markets:
        calibration, bt = backtest(market, Path(tempfile.mkdtemp(prefix=f"adapt-{market}-")))
        for name, adaptation in settings.items():
            results[name][market] = scores(calibration, bt, adaptation)
    ranked = []
    for name, by_market in results.items():
        gaps = [abs(m[f"{level:g}"][0] - level / 100) for m in by_market.values() for level in LEVELS]
        ratios = [m["95"][3] / results["static"][market]["95"][3] for market, m in by_market.items()]
        ranked.append((round(max(gaps), 4), round(float(np.mean(ratios)), 4), name))
    ranked.sort()
    return {"markets": markets, "ranked (largest coverage gap, MSIS 95 / static's, setting)": ranked[:12],
            "results": results}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--markets", default="NP,PJM")
    parser.add_argument("--record", action="store_true", help="append the result to benchmarks/ADAPT.md")
    args = parser.parse_args()
    result = study(args.markets.split(","))
    print(json.dumps(result))
    if args.record:
        with open(HERE / "ADAPT.md", "a") as out:
            out.write(f"\n```json\n{json.dumps(result, indent=1)}\n```\n")


if __name__ == "__main__":
    main()
