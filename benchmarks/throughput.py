"""Training throughput (windows per second, steady state) of forecaster's model for standard shapes,
and the share of this machine's float32 matrix-multiply peak it reaches (measured in the same run).

Shapes: lookback 96 and 336, 1-3 layers of 64-256 units, bidirectional or not, batch 256, horizon 24;
`patch 1` is the raw LSTM over every step, `patch 24` forecaster's default for hourly data.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from results import record  # noqa: E402

BATCH, HORIZON = 256, 24
SHAPES = [  # lookback, layers, bidirectional, patch
    (96, (64,), False, 1),
    (96, (64, 64), False, 1),
    (96, (128, 128), True, 1),
    (96, (256, 256, 256), False, 1),
    (336, (64,), False, 1),
    (336, (128, 128), False, 1),
    (96, (64, 64), False, 24),
    (336, (64,), False, 24),
    (336, (256, 256, 256), True, 24),
]
QUICK = [(96, (64, 64), False, 1), (336, (64,), False, 24)]


def matmul_peak(n: int = 2048, repeats: int = 10) -> float:
    """float32 FLOP/s of an n x n matrix multiply (best of `repeats`)."""
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    tf.matmul(a, b).numpy()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        tf.matmul(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def lstm_flops_per_window(lookback: int, layers: tuple[int, ...], bidirectional: bool, patch: int) -> float:
    """Multiply-adds x 2 of the recurrent layers, x 3 for forward + backward pass."""
    steps, width, total = lookback // patch, patch, 0.0
    directions = 2 if bidirectional else 1
    for units in layers:
        total += directions * steps * 4 * units * (width + units) * 2
        width = units * directions
    return 3 * total


def windows_per_second(lookback: int, layers: tuple[int, ...], bidirectional: bool, patch: int, steps: int) -> float:
    import keras

    from forecaster.config import ModelConfig
    from forecaster.models.network import build_model

    keras.backend.clear_session()
    model = build_model(ModelConfig(lookback, HORIZON, patch=patch, layers=layers, bidirectional=bidirectional))
    model.compile(keras.optimizers.Adam(1e-3), "mse")
    rng = np.random.default_rng(0)
    x = {"values": rng.normal(size=(BATCH, lookback, 1)).astype("float32"), "length": np.full(BATCH, lookback, "int32")}
    y = rng.normal(size=(BATCH, HORIZON)).astype("float32")
    for _ in range(3):  # trace and warm up
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return steps * BATCH / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Two shapes, few steps (a smoke run).")
    args = parser.parse_args()
    peak = matmul_peak()
    rows = []
    for lookback, layers, bidirectional, patch in QUICK if args.quick else SHAPES:
        steps = (
            3
            if args.quick
            else max(3, min(30, int(4e10 / lstm_flops_per_window(lookback, layers, bidirectional, patch) / BATCH)))
        )
        rate = windows_per_second(lookback, layers, bidirectional, patch, steps)
        flops = rate * lstm_flops_per_window(lookback, layers, bidirectional, patch)
        rows.append(
            {
                "lookback": lookback,
                "layers": list(layers),
                "bidirectional": bidirectional,
                "patch": patch,
                "windows_per_s": round(rate, 1),
                "gflops": round(flops / 1e9, 2),
                "share_of_peak": round(flops / peak, 3),
            }
        )
        print(rows[-1], flush=True)
    record(
        "throughput", {"batch": BATCH, "horizon": HORIZON, "matmul_peak_gflops": round(peak / 1e9, 1), "shapes": rows}
    )


if __name__ == "__main__":
    main()
