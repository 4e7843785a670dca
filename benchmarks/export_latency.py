"""Exported SavedModel against in-process forecasts: the largest relative difference, and the
serving latency for a batch of 1 and of 1,000 series on this machine's CPU."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from results import RESULTS, record  # noqa: E402


def raw_inputs(panel, lookback: int) -> dict[str, np.ndarray]:
    """Each series' last `lookback` raw rows, right-padded: what a serving client sends."""
    ids, values, lengths = [], [], []
    for series in panel.series:
        tail = series.values[-lookback:].astype("float32")
        ids.append(series.series_id)
        values.append(np.pad(tail, ((0, lookback - len(tail)), (0, 0))))
        lengths.append(len(tail))
    return {"series_id": np.array(ids, dtype=object), "values": np.stack(values), "length": np.array(lengths, "int32")}


def latency(serve, inputs: dict[str, np.ndarray], batch: int, repeats: int) -> float:
    """Median seconds per call for a batch of `batch` windows (the series repeated as needed)."""
    import tensorflow as tf

    pick = np.arange(batch) % len(inputs["length"])
    feed = {name: tf.constant(array[pick]) for name, array in inputs.items()}
    serve(**feed)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        serve(**feed)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=Path("models/co2_weekly"))
    parser.add_argument("--data", type=Path, default=Path("data/co2_weekly.csv"))
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--record", action="store_true", help="Also append the figures to benchmarks/RESULTS.md.")
    args = parser.parse_args()

    import tensorflow as tf

    from forecaster.serving.export import export_run
    from forecaster.serving.forecast import forecast_frame, load_forecast_panel
    from forecaster.training.runs import load_run

    run = load_run(args.run)
    panel = load_forecast_panel(run, args.data)
    in_process = forecast_frame(run, panel, run.load_model())["forecast"].to_numpy()
    with tempfile.TemporaryDirectory() as tmp:
        saved = export_run(run, Path(tmp) / "export")
        serve = tf.saved_model.load(str(saved)).signatures["serving_default"]
        inputs = raw_inputs(panel, run.config.window.lookback)
        served = serve(**{name: tf.constant(array) for name, array in inputs.items()})["forecast"].numpy().ravel()
        figures = {
            "run": str(args.run),
            "series": len(panel.series),
            "lookback": run.config.window.lookback,
            "horizon": run.config.window.horizon,
            "max_relative_difference": float(np.max(np.abs(served - in_process) / np.abs(in_process))),
            "latency_ms_batch_1": 1000 * latency(serve, inputs, 1, args.repeats),
            "latency_ms_batch_1000": 1000 * latency(serve, inputs, 1000, max(5, args.repeats // 5)),
        }
    record("export_latency", figures, out=RESULTS if args.record else None)


if __name__ == "__main__":
    main()
