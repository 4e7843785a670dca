"""A fit leaves the process as it found it: TensorFlow's op determinism, Keras's mixed-precision policy, the
global random generators; no attribute pinned on a Keras model; a temporary run removed with its object."""

import gc
import random

import numpy as np
from cli_helpers import SINE
from conftest import write_panel

from forecaster import Forecaster

OPTIONS = {"target": "y", "time_col": "time", "horizon": 6, "lookback": 24}
SMALL = {"epochs": 1, "layers": (8,), "batch_size": 32, "ensemble": 1, "select": "model"}


def test_a_fit_leaves_tensorflows_process_settings_as_it_found_them(sine_csv):
    import keras
    from tensorflow.python.framework import config as tf_config

    assert SINE  # the same data and window as the CLI tests
    keras.mixed_precision.set_global_policy("mixed_bfloat16")  # a user's own setting
    random.seed(7)
    np.random.seed(7)
    python_next, numpy_next = random.getstate(), np.random.get_state()[1].copy()
    try:
        assert not tf_config.is_op_determinism_enabled()
        model = Forecaster(**OPTIONS, **SMALL).fit(sine_csv)  # deterministic training: determinism on inside
        assert model.run.config.train.deterministic
        assert not tf_config.is_op_determinism_enabled()
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
        assert random.getstate() == python_next and np.array_equal(np.random.get_state()[1], numpy_next)
        model.predict(sine_csv)
        assert not any(name.startswith("_forecaster") for name in vars(model.model))
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_a_temporary_run_goes_with_its_object(tmp_path):
    data = write_panel(tmp_path / "panel.csv")
    model = Forecaster(target="y", time_col="time", id_col="id", horizon=5, lookback=56, **SMALL).fit(data)
    folder = model.run_dir.parent
    assert folder.exists()
    model.fit(data)  # a second fit replaces the first temporary run at once
    assert not folder.exists() and model.run_dir.exists()
    folder = model.run_dir.parent
    del model
    gc.collect()
    assert not folder.exists()
