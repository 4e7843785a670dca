"""Where two backtests of the same windows part: each one's MAE and RMSE over every hour, the days whose squared
errors moved the RMSE most between them, and both figures again without the day that moved it most. For runs
compared on the same data (trained once against updated, `benchmarks/epf.py --keep DIR`): a change in RMSE that
one day makes is a different finding from one spread over the year.

    python benchmarks/backtest_days.py A/evaluate/forecasts.csv B/evaluate/forecasts.csv [--days 5]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def errors(first: Path, second: Path) -> pd.DataFrame:
    """The two backtests' errors, hour by hour (the series, the time, the actual, each one's error), on the
    windows both hold; refused when their actuals differ (not the same data)."""
    keys = ["series", "date"]
    a, b = (pd.read_csv(path, parse_dates=["date"])[[*keys, "actual", "forecast"]] for path in (first, second))
    both = a.merge(b, on=keys, suffixes=("_a", "_b"))
    if both.empty or not np.allclose(both["actual_a"], both["actual_b"]):
        raise SystemExit(f"{first} and {second} do not backtest the same actuals")
    return both.assign(
        actual=both["actual_a"],
        a=both["forecast_a"] - both["actual_a"],
        b=both["forecast_b"] - both["actual_b"],
        day=both["date"].dt.floor("D"),
    )[[*keys, "day", "actual", "a", "b"]]


def figures(found: pd.DataFrame) -> str:
    mae = [found[side].abs().mean() for side in "ab"]
    rmse = [np.sqrt((found[side] ** 2).mean()) for side in "ab"]
    return f"MAE {mae[0]:.3f} / {mae[1]:.3f}, RMSE {rmse[0]:.3f} / {rmse[1]:.3f} ({len(found):,} hours)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", type=Path, help="forecasts.csv of the first backtest (A)")
    parser.add_argument("second", type=Path, help="forecasts.csv of the second backtest (B)")
    parser.add_argument("--days", type=int, default=5, help="how many of the days that moved the RMSE most")
    args = parser.parse_args()
    found = errors(args.first, args.second)
    print(f"A / B over every hour: {figures(found)}")
    by_day = found.groupby("day").agg(
        actual_max=("actual", "max"),
        a_squared=("a", lambda e: float((e**2).sum())),
        b_squared=("b", lambda e: float((e**2).sum())),
        a_mae=("a", lambda e: float(e.abs().mean())),
        b_mae=("b", lambda e: float(e.abs().mean())),
    )
    moved = (by_day["b_squared"] - by_day["a_squared"]).rename("b_minus_a")
    total = float(moved.sum())
    print(f"B's squared errors minus A's, summed: {total:,.0f}")
    top = moved.abs().sort_values(ascending=False).index[: args.days]
    shown = by_day.loc[top].assign(b_minus_a=moved.loc[top], share=moved.loc[top] / total)
    print(shown.round(3).to_string())
    worst = top[0]
    print(f"without {worst.date()}: {figures(found[found['day'] != worst])}")


if __name__ == "__main__":
    main()
