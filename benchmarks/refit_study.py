"""What keeping a run current buys on day-ahead prices: a run trained once on an EPF market's first 1,456 days,
then the next `--days` days forecast at midnight (24 hours each, the day's known columns from the file), by the run
as trained and by the run updated (`forecaster update`, a warm start) every `--every` days on the prices before
that day, as `evaluate --refit-every` does. Measured on the test days, so nothing here chooses a default: the
variants (`--update-windows`: windows an epoch in each update; `--val-fraction`: the newest share of the data
each update validates on, where `train` keeps 0.2) are measurements of what the update could be. `--train-days
1092` moves it onto validation days: trained on the first three years, the fourth year's first days forecast (none
of the test days read), where an update's defaults may be chosen.

    python benchmarks/refit_study.py --market NP --train    # the run, trained once -> /tmp/refit-NP/run
    python benchmarks/refit_study.py --market NP --every 0  # trained once, no refit
    python benchmarks/refit_study.py --market NP --every 7 [--update-windows 5000] [--val-fraction 0.02]
    python benchmarks/refit_study.py --market NP --every 7 --update-epochs 3  # at most 3 epochs an update
    python benchmarks/refit_study.py --market NP --every 7 --update-learning-rate 0.0003  # a smaller step
    python benchmarks/refit_study.py --market NP --train-days 1092 --train --every 0 -- --final-epochs 0
    python benchmarks/refit_study.py --market PJM --train-days 1092 --days 182 --every 7 --from-root
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

from epf import FUTURE, HOURS, SHARED, TRAIN_DAYS, cut


def train(market: str, work: Path, train_days: int = TRAIN_DAYS, extra: tuple[str, ...] = ()) -> None:
    data = cut(SHARED / f"{market}.csv", train_days, work)
    cli = str(Path(sys.executable).with_name("forecaster"))
    subprocess.run([cli, "train", str(data), "--target", "OT", "--time-col", "date", "--horizon", str(HOURS),
                    "--future", ",".join(FUTURE[market]), "--out", str(work / "run"), *extra], check=True)  # fmt: skip


def with_update(
    windows: int | None, val_fraction: float | None, epochs: int | None = None, learning_rate: float | None = None
) -> None:
    """Every update reads its parent's settings with these changed (the study's variants; None: as trained), and
    trains at most `epochs` epochs (None: `update`'s default)."""
    import forecaster.training.update as update

    if epochs:
        update.UPDATE_EPOCHS = epochs

    original = update.load_run

    def parent(path):
        run = original(path)
        cfg = run.config
        if windows:
            cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, max_windows_per_epoch=windows))
        if val_fraction:
            cfg = dataclasses.replace(cfg, window=dataclasses.replace(cfg.window, val_fraction=val_fraction))
        if learning_rate:
            cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, learning_rate=learning_rate))
        return dataclasses.replace(run, config=cfg)

    update.load_run = parent


def from_the_root() -> None:
    """Every update starts from the run trained once, on all the data up to its cutoff, instead of from the run
    the update before made (a chain of updates): whether a long chain drifts."""
    import forecaster.serving.refit as refit

    chained = refit.refitted
    refit.refitted = lambda current, original, data, out, how: chained(original, original, data, out, how)


def backtest(market: str, work: Path, days: int, every: int, train_days: int = TRAIN_DAYS) -> dict:
    from forecaster import Forecaster

    data = cut(SHARED / f"{market}.csv", train_days + days, work)
    forecaster = Forecaster.load(work / "run", log=lambda _: None)
    started = time.time()
    report, _ = forecaster.backtest(data, folds=days, step=HOURS, season=7 * HOURS, level=(80, 95),
                                    refit_every=every or None)  # fmt: skip
    overall = report["overall"]
    served = "served" if "served" in overall else "model"
    refits = report.get("refits") or {}
    return {
        "mae": round(overall[served]["mae"], 4),
        "network_mae": round(overall["model"]["mae"], 4),
        "weekly_naive_mae": round(overall["seasonal_naive"]["mae"], 4),
        "coverage_80": round(report["conformal"]["80"]["coverage"], 3),
        "coverage_95": round(report["conformal"]["95"]["coverage"], 3),
        "refits": refits.get("count", 0),
        "refit_seconds": refits.get("seconds", 0.0),
        "served": {name: refits.get("served", []).count(name) for name in sorted(set(refits.get("served", [])))},
        "served_at": [
            cutoff for cutoff, name in zip(refits.get("cutoffs", []), refits.get("served", [])) if name != "model"
        ],
        "seconds": round(time.time() - started),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--market", choices=sorted(FUTURE), default="NP")
    parser.add_argument("--work", type=Path, help="default /tmp/refit-MARKET")
    parser.add_argument("--train", action="store_true", help="train the run first")
    parser.add_argument("--days", type=int, default=84, help="test days forecast (from the first)")
    parser.add_argument("--train-days", type=int, default=TRAIN_DAYS, help="days the run is trained on")
    parser.add_argument("--every", type=int, default=7, help="days between updates (0: none)")
    parser.add_argument("--update-windows", type=int, help="windows an epoch in each update (default: the run's)")
    parser.add_argument("--val-fraction", type=float, help="the newest share each update validates on")
    parser.add_argument("--update-epochs", type=int, help="most epochs an update trains (default: update's)")
    parser.add_argument(
        "--update-learning-rate", type=float, help="the step an update starts from (default: the run's)"
    )
    parser.add_argument("--from-root", action="store_true", help="every update starts from the run trained once")
    parser.add_argument("extra", nargs="*", help="train options after -- (with --train)")
    args = parser.parse_args()
    work = args.work or Path(f"/tmp/refit-{args.market}")
    work.mkdir(parents=True, exist_ok=True)
    if args.train:
        train(args.market, work, args.train_days, tuple(args.extra))
    with_update(args.update_windows, args.val_fraction, args.update_epochs, args.update_learning_rate)
    if args.from_root:
        from_the_root()
    row = backtest(args.market, work, args.days, args.every, args.train_days)
    print(json.dumps({"market": args.market, "train_days": args.train_days, "days": args.days, "every": args.every,
                      "update_windows": args.update_windows, "val_fraction": args.val_fraction,
                      "update_epochs": args.update_epochs, "update_learning_rate": args.update_learning_rate,
                      "from_root": args.from_root,
                      "options": " ".join(args.extra), **row}))  # fmt: skip


if __name__ == "__main__":
    main()
