"""Input pipeline overhead: training steps per second with forecaster's tf.data windows (gathered
batch by batch from one flat array) against the same model fed the same windows as in-memory tensors.

Panel: 20 series x 1,100 hourly points; lookback 96 (24-step patches), LSTM 64,64, batch 256.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from results import record  # noqa: E402
from synthetic import write_panel  # noqa: E402


def steps_per_second(fit, steps: int, epochs: int) -> float:
    fit(1)  # trace and warm up
    start = time.perf_counter()
    fit(epochs)
    return epochs * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import keras
    import tensorflow as tf

    from forecaster.config import DataConfig
    from forecaster.data.panel import load_panel
    from forecaster.data.resolve import resolve_config
    from forecaster.models.network import build_model
    from forecaster.settings import Settings
    from forecaster.training.train import prepare, training_data

    epochs = 1 if args.quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        data = write_panel(Path(tmp) / "panel.csv", 20, 1100)
        panel = load_panel(data, DataConfig(target="value", time_col="time", id_col="id"))
    given = {"target": "value", "time_col": "time", "id_col": "id", "horizon": 24, "lookback": 96}
    cfg, _ = resolve_config(Settings.given({**given, "layers": (64, 64), "batch_size": 256}), panel)
    pipeline = training_data(prepare(panel, cfg), cfg.train)
    inputs, targets = [], []
    for x, y in pipeline.train:  # the very same windows, materialised
        inputs.append(x)
        targets.append(y)
    values = tf.concat([x["values"] for x in inputs], 0)
    lengths = tf.concat([x["length"] for x in inputs], 0)
    y_all = tf.concat(targets, 0)
    steps = len(inputs)

    def fit_with(feed):
        keras.backend.clear_session()
        keras.utils.set_random_seed(0)
        model = build_model(cfg.model)
        model.compile(keras.optimizers.Adam(1e-3), "mse")
        return lambda n: model.fit(*feed(), epochs=n, verbose=0)

    tf_data = steps_per_second(fit_with(lambda: (pipeline.train,)), steps, epochs)
    memory = steps_per_second(fit_with(lambda: ({"values": values, "length": lengths}, y_all, 256)), steps, epochs)
    record(
        "pipeline",
        {
            "windows": int(values.shape[0]),
            "steps_per_epoch": steps,
            "tf_data_steps_per_s": round(tf_data, 2),
            "in_memory_steps_per_s": round(memory, 2),
            "tf_data_relative": round(tf_data / memory, 3),
        },
    )


if __name__ == "__main__":
    main()
