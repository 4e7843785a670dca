"""`make bench-m4`: M4 Weekly, the ETTh1 hourly panel and the ETTh1 960-hour pieces with the `train`
defaults, on the test split, written to benchmarks/M4.md beside the published M4 rows
(../shared/data/m4/PUBLISHED.md), with 95% interval scores for M4 Weekly and the pieces.

The defaults were chosen on the validation split (`python benchmarks/m4.py --split validation`);
this script is the one place the test rows are read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PUBLISHED_INTERVALS = [  # M4 Weekly 95% intervals, MSIS / ACD, from PUBLISHED.md
    ("best weekly: Petropoulos", 16.200, 0.012),
    ("ARIMA (benchmark)", 19.575, 0.005),
    ("ETS (benchmark)", 20.386, 0.014),
    ("Smyl, ES-RNN", 22.034, 0.021),
    ("Naive (benchmark)", 26.358, 0.001),
]
sys.path.insert(0, str(HERE))

from m4 import SHARED, bench  # noqa: E402
from results import machine  # noqa: E402

PUBLISHED = [  # M4 Weekly, sMAPE / MASE / OWA, from PUBLISHED.md
    ("best weekly: Darin (statistical)", 6.582, 2.107, 0.739),
    ("Petropoulos (combination)", 6.726, 2.133, 0.751),
    ("Doornik (combination; best on hourly)", 6.728, 2.302, 0.782),
    ("Montero-Manso (combination, 2nd overall)", 7.625, 2.108, 0.796),
    ("Smyl, ES-RNN (LSTM hybrid, winner overall)", 7.817, 2.356, 0.851),
    ("Damped trend (benchmark)", 8.866, 2.404, 0.917),
    ("Theta (benchmark)", 9.093, 2.637, 0.971),
    ("Naive2 / seasonal naive (benchmark)", 9.161, 2.777, 1.000),
    ("RNN (M4's plain neural benchmark)", 15.220, 5.132, 1.755),
    ("MLP (M4's plain neural benchmark)", 21.349, 13.568, 3.608),
]


def fmt(scores: dict, bold: bool = False) -> str:
    mark = "**" if bold else ""
    return " | ".join(f"{mark}{scores[key]:.3f}{mark}" for key in ("smape", "mase", "owa"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m4", type=Path, default=SHARED / "m4", help="folder with Weekly-train.csv, Weekly-test.csv")
    parser.add_argument("--ett", type=Path, default=SHARED / "ett" / "ETTh1.csv")
    parser.add_argument("--out", type=Path, default=HERE / "M4.md")
    args = parser.parse_args()
    shared = args.m4.resolve().parent
    if args.ett.resolve().parent.parent != shared:
        sys.exit("error: --m4 and --ett must lie in one shared data folder (shared/data/{m4,ett})")
    m4 = bench("m4-weekly", "test", "defaults", ["--quiet"], shared=shared, level=95.0)
    print(json.dumps(m4), flush=True)
    ett = bench("etth1-panel", "test", "defaults", ["--quiet"], shared=shared)
    print(json.dumps(ett), flush=True)
    pieces = bench("etth1-chunks", "test", "defaults", ["--quiet"], shared=shared, level=95.0)
    print(json.dumps(pieces), flush=True)
    lines = [
        "# M4 Weekly and the ETTh1 hourly panel: `forecaster train` defaults beside the published results",
        "",
        "Made by `make bench-m4` (`benchmarks/m4_table.py`). Each panel is written as the long CSV a user",
        "would give (id, integer step, value) and run through `forecaster train` and `forecaster forecast`",
        "with no options but the columns and `--horizon`. Scored as `../shared/data/m4/PUBLISHED.md` says:",
        "sMAPE, MASE with the one-step naive scale of each series' training values, OWA against Naive2.",
        "The defaults were chosen on the validation split (the last 13 points of each *training* row; see the",
        "README), never on these test rows.",
        "",
        f"## M4 Weekly (359 series, horizon 13): season found {m4['season_found']}, "
        f"train + forecast {m4['train_forecast_seconds']:.0f} s",
        "",
        "| method | sMAPE | MASE | OWA |",
        "|---|---|---|---|",
        f"| **forecaster, `train` defaults (this repo, measured)** | {fmt(m4['model'], bold=True)} |",
        f"| naive (measured here, = Naive2 for weekly data) | {fmt(m4['naive'])} |",
        *[f"| {name} | {s:.3f} | {m:.3f} | {o:.3f} |" for name, s, m, o in PUBLISHED],
        "",
        "### 95% prediction intervals (`forecast --level 95`, conformal, see the README)",
        "",
        "| method | MSIS | ACD | coverage |",
        "|---|---|---|---|",
        f"| **forecaster, `train` defaults** | **{m4['interval']['msis']:.3f}** | **{m4['interval']['acd']:.3f}** | "
        f"{m4['interval']['coverage']:.3f} |",
        *[f"| {name} | {msis:.3f} | {acd:.3f} | |" for name, msis, acd in PUBLISHED_INTERVALS],
        "",
        f"## ETTh1's seven columns as a seven-series hourly panel (integer steps, horizon 48): season found "
        f"{ett['season_found']}, train + forecast {ett['train_forecast_seconds']:.0f} s",
        "",
        "The last 48 points of each column are scored; MASE with the seasonal (24) naive scale; OWA relative",
        "to seasonal naive.",
        "",
        "| method | sMAPE | MASE | OWA |",
        "|---|---|---|---|",
        f"| **forecaster, `train` defaults** | {fmt(ett['model'], bold=True)} |",
        f"| seasonal naive (24) | {fmt(ett['seasonal_naive'])} |",
        f"| naive | {fmt(ett['naive'])} |",
        "",
        f"## ETTh1 cut into 960-hour pieces (126 series, integer steps, horizon 48): season found "
        f"{pieces['season_found']}, train + forecast {pieces['train_forecast_seconds']:.0f} s",
        "",
        "Shaped like a held-out panel of 414 hourly series; the last 48 points of each piece are scored, MASE",
        "and MSIS with the seasonal (24) naive scale of the piece's history.",
        "",
        "| method | sMAPE | MASE | OWA |",
        "|---|---|---|---|",
        f"| **forecaster, `train` defaults** | {fmt(pieces['model'], bold=True)} |",
        f"| seasonal naive (24) | {fmt(pieces['seasonal_naive'])} |",
        f"| naive | {fmt(pieces['naive'])} |",
        "",
        "| 95% interval (`forecast --level 95`) | MSIS | ACD | coverage |",
        "|---|---|---|---|",
        f"| **forecaster, `train` defaults** | **{pieces['interval']['msis']:.3f}** | "
        f"**{pieces['interval']['acd']:.3f}** | {pieces['interval']['coverage']:.3f} |",
        "",
        f"Machine: `{json.dumps(machine())}`",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
