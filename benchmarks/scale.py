"""Forecasts of large panels in Parquet shards, on each engine: throughput and peak memory.

Synthetic panels (benchmarks/synthetic.py: level + daily sine + noise, hourly) of N series x 400 points
in 16 Parquet shards; one run trained on 300 other series of the same kind (the defaults, `--select
model`: the network serves, as the guard chooses on most panels it beats seasonal naive on; a run
serving the statistical combination is measured apart, on fewer series, as it fits AutoETS and
AutoTheta per series); then `forecaster forecast RUN --data SHARDS --engine E` for every N and engine,
each in a fresh process: wall seconds (start-up included), series per second, the process's peak RSS,
and whether the forecasts equal `--engine local`'s. The same 10,000-series panel as one CSV gives the
CSV path's figure. Training on the same shards (one epoch of a few sampled windows: the reading,
scaling and validation of every series is what grows) gives training's seconds and peak memory.
Writes benchmarks/SCALE.md.

    python benchmarks/scale.py [--sizes 10000,40000,160000] [--engines local,dask,ray] [--engines-up-to 40000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from synthetic import write_parquet_shards  # noqa: E402

HORIZON = 24
TRAIN = ["--target", "value", "--time-col", "time", "--id-col", "id", "--horizon", str(HORIZON), "--epochs", "2",
         "--quiet"]  # fmt: skip
MEASURE = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.perf_counter() - t)"
)


def forecaster(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "forecaster"), *args]


def measured(command: list[str]) -> tuple[float, float]:
    """(peak RSS in MB of the command or any process it waited for, wall seconds), in a fresh process."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], check=True, capture_output=True, text=True, env=env)
    kib, seconds = out.stdout.split()[-2:]
    return int(kib) / 1024, float(seconds)


def same(path: Path, reference: pd.DataFrame) -> float:
    """Max relative difference of a forecast from the reference (sorted alike); inf when rows differ."""
    got = pd.read_parquet(path).sort_values(["id", "time"]).reset_index(drop=True)
    if len(got) != len(reference) or not (got["id"].to_numpy() == reference["id"].to_numpy()).all():
        return float("inf")
    counts = got["id"].value_counts()
    if counts.min() != HORIZON or counts.max() != HORIZON:
        return float("inf")
    return float(np.max(np.abs(got["forecast"] - reference["forecast"]) / np.abs(reference["forecast"]).clip(1e-9)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,40000")
    parser.add_argument("--engines", default="local,dask,ray")
    parser.add_argument("--engines-up-to", type=int, default=40_000, help="Larger panels: --engine local only.")
    parser.add_argument("--combination-series", type=int, default=200)
    parser.add_argument("--train-up-to", type=int, default=40_000, help="Measure training on panels up to this size.")
    parser.add_argument("--out", default=str(Path(__file__).parent / "SCALE.md"))
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    engines = args.engines.split(",")
    rows, notes, trained = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        train_data = write_parquet_shards(root / "train", 300, 400, shards=1, seed=1)
        run, guarded = root / "run", root / "guarded"
        subprocess.run(forecaster("train", str(train_data), *TRAIN, "--select", "model", "--out", str(run)), check=True)
        for n in sizes:
            data = write_parquet_shards(root / f"p{n}", n, 400)
            reference = None
            for engine in engines if n <= args.engines_up_to else ["local"]:
                out = root / f"p{n}-{engine}.parquet"
                mb, seconds = measured(
                    forecaster("forecast", str(run), "--data", str(data), "--out", str(out), "--engine", engine)
                )
                if engine == "local":
                    reference = pd.read_parquet(out).sort_values(["id", "time"]).reset_index(drop=True)
                diff = same(out, reference) if reference is not None else float("nan")
                rows.append((n, engine, seconds, n / seconds, mb, diff))
                print(rows[-1], flush=True)
            if n <= args.train_up_to:  # training reads the shards a block of series at a time, too
                mb, seconds = measured(
                    forecaster("train", str(data), *TRAIN[:-3], "--epochs", "1", "--ensemble", "1", "--select",
                               "model", "--max-windows-per-epoch", "20000", "--quiet", "--out", str(root / f"t{n}"))
                )  # fmt: skip
                trained.append((n, seconds, mb))
                print(trained[-1], flush=True)
            if n == sizes[0]:  # the same panel as one CSV: the path before Parquet and shards
                csv = root / "panel.csv"
                pd.read_parquet(data).to_csv(csv, index=False)
                out = root / "csv.parquet"
                mb, seconds = measured(forecaster("forecast", str(run), "--data", str(csv), "--out", str(out)))
                rows.append((n, "local, one CSV", seconds, n / seconds, mb, same(out, reference)))
                print(rows[-1], flush=True)
        # the guard's default on this panel: the combination of the network with AutoETS and AutoTheta
        subprocess.run(forecaster("train", str(train_data), *TRAIN, "--out", str(guarded)), check=True)
        method = pd.read_json(guarded / "selection.json", typ="series")["method"]
        small = write_parquet_shards(root / "small", args.combination_series, 400, shards=2)
        mb, seconds = measured(
            forecaster("forecast", str(guarded), "--data", str(small), "--out", str(root / "c.parquet"))
        )
        notes.append(
            f"A run whose validation guard chose `{method}` on these series forecasts "
            f"{args.combination_series} series in {seconds:.1f} s ({args.combination_series / seconds:.1f} series/s, "
            f"peak {mb:.0f} MB): its statistical fits, not the network, set the pace."
        )
    lines = [
        "# Large panels: forecast throughput and memory by engine",
        "",
        "`make bench-scale` (`python benchmarks/scale.py`): N series x 400 hourly points in 16 Parquet shards, "
        "one run (lookback and layers as `train` chooses, trained on 300 other series, `--select model`), "
        "`forecaster forecast RUN --data SHARDS --engine E` in a fresh process, on this 2-core machine. "
        "Seconds include start-up (TensorFlow, and the engine's local cluster). Peak RSS is the largest single "
        "process (the CLI, or one of a local cluster's workers).",
        "",
        "| series | engine | seconds | series/s | peak RSS MB | max rel. diff vs local |",
        "|---|---|---|---|---|---|",
    ]
    for n, engine, seconds, rate, mb, diff in rows:
        lines.append(f"| {n:,} | {engine} | {seconds:.1f} | {rate:,.0f} | {mb:,.0f} | {diff:.1e} |")
    local = {n: (rate, mb) for n, engine, _, rate, mb, _ in rows if engine == "local"}
    csv = [rate for _, engine, _, rate, _, _ in rows if engine == "local, one CSV"]
    small = min(local, default=0)
    for n in sorted(local)[1:]:
        lines.append("")
        lines.append(
            f"One process (`--engine local`), {n:,} vs {small:,} series: peak memory "
            f"{local[n][1] / local[small][1]:.2f}x, {local[n][0]:,.0f} series/s"
            + (f" ({local[n][0] / csv[0]:.2f}x the one-CSV path's {csv[0]:,.0f} on {small:,})." if csv else ".")
        )
    if trained:
        lines += [
            "",
            "Training on the same shards (`forecaster train SHARDS --epochs 1 --ensemble 1 --select model "
            "--max-windows-per-epoch 20000`: every series read, scaled, windowed, validated and calibrated; few "
            "steps), in a fresh process:",
            "",
            "| series | seconds | peak RSS MB |",
            "|---|---|---|",
            *[f"| {n:,} | {seconds:.1f} | {mb:,.0f} |" for n, seconds, mb in trained],
        ]
    lines += ["", *notes, ""]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
