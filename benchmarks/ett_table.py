"""`make bench-accuracy`: ETTh1 at horizons 96/192/336/720, written to benchmarks/ETTh1.md beside the
published rows of ../shared/data/ett/PUBLISHED.md."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from ett import run  # noqa: E402

PUBLISHED = {  # MSE / MAE, copied from PUBLISHED.md
    "NLinear (Zeng et al. 2023, LTSF-Linear `LTSF-Benchmark.md`)": [
        (0.053, 0.177),
        (0.069, 0.204),
        (0.081, 0.226),
        (0.080, 0.226),
    ],
    "DLinear (Zeng et al. 2023, same)": [(0.056, 0.180), (0.071, 0.204), (0.098, 0.244), (0.189, 0.359)],
    "PatchTST/42 (Nie et al. ICLR 2023, Table 8)": [(0.055, 0.179), (0.071, 0.205), (0.081, 0.225), (0.087, 0.232)],
    "PatchTST/64 (same)": [(0.059, 0.189), (0.074, 0.215), (0.076, 0.220), (0.087, 0.236)],
}
HORIZONS = (96, 192, 336, 720)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/ett/ETTh1.csv"))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "ETTh1.md")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    results = []
    for horizon in HORIZONS:
        result = run(args.data, horizon, lookback=336, patch=24, layers=(64,), epochs=args.epochs, seed=0)
        print(json.dumps(result), flush=True)
        results.append(result)
    ours = " | ".join(f"**{r['mse']:.4f} / {r['mae']:.4f}**" for r in results)
    lines = [
        "# ETTh1, univariate (target OT): our LSTM beside the published results",
        "",
        "Standard long-horizon protocol of `../shared/data/ett/PUBLISHED.md`: train rows [0, 8640), validation",
        "[8640-L, 11520), test [11520-L, 14400); StandardScaler fitted on the training rows; stride-1 windows;",
        "MSE / MAE on normalised values over **all** test windows (the published code dropped the last partial",
        "batch). Early stopping on the validation windows only; the test windows are scored once.",
        "",
        "Model (`models/network.py`, the `train` defaults): lookback 336 in 24-step patches (14 LSTM",
        "steps), last-value instance normalisation, LSTM(64), dense head (no linear skip: it lost on",
        "validation MSE at every horizon, see README); an ensemble of 3 such networks (seeds 0, 1, 2), median;",
        f"Adam 1e-3, batch 128, at most {args.epochs} epochs, patience 3, seed 0.",
        "",
        "| method | 96 | 192 | 336 | 720 |",
        "|---|---|---|---|---|",
        f"| forecaster LSTM (this repo, measured) | {ours} |",
        *[
            f"| {name} | " + " | ".join(f"{a:.3f} / {b:.3f}" for a, b in rows) + " |"
            for name, rows in PUBLISHED.items()
        ],
        "",
        "| horizon | test windows | epochs run | best validation MSE | seconds (train + test) |",
        "|---|---|---|---|---|",
        *[f"| {r['horizon']} | {r['windows']} | {r['epochs']} | {r['val_mse']} | {r['seconds']} |" for r in results],
        "",
        f"Measured with `make bench-accuracy` on {platform.processor() or platform.machine()}, "
        f"{__import__('os').cpu_count()} CPU cores, Python {platform.python_version()}.",
        "",
        'Sources: Zeng, Chen, Zhang, Xu, "Are Transformers Effective for Time Series Forecasting?" AAAI 2023;',
        'Nie, Nguyen, Sinthong, Kalagnanam, "A Time Series is Worth 64 Words", ICLR 2023. Data: Zhou et al.,',
        '"Informer", AAAI 2021 (ETDataset, CC BY-ND 4.0, read from `../shared`, not committed).',
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
