"""Export a run's model as a TensorFlow SavedModel that serves anywhere (generic LSTM kernel)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from forecaster.runs import Run, atomic_directory, library_versions, write_json


def export_run(run: Run, out: str | Path) -> Path:
    """Write `out/` (a SavedModel with a `serve` endpoint) and `out/manifest.json`, atomically.

    The model is rebuilt with `use_cudnn=False` and given the trained weights before tracing, so a
    SavedModel made on a GPU machine holds no cuDNN-only op and still serves on a CPU.
    """
    from forecaster.model import build_model

    trained = run.load_model()
    portable = build_model(replace(run.config.model, use_cudnn=False))
    portable.set_weights(trained.get_weights())
    out = Path(out)
    cfg = run.config
    with atomic_directory(out) as staging:
        saved = staging / "saved_model"
        portable.export(str(saved), format="tf_saved_model", verbose=False)
        write_json(
            staging / "manifest.json",
            {
                "signature": "serve / serving_default",
                "inputs": {
                    "values": f"float32 (batch, {cfg.window.lookback}, {cfg.model.n_features}) scaled, right-padded",
                    "length": "int32 (batch,) valid points",
                },
                "output": f"float32 (batch, {cfg.window.horizon}"
                f"{', ' + str(len(cfg.model.quantiles)) if cfg.model.quantiles else ''}) scaled",
                "lookback": cfg.window.lookback,
                "horizon": cfg.window.horizon,
                "patch": cfg.window.patch,
                "quantiles": list(cfg.model.quantiles),
                "frequency": run.freq,
                "scalers": {sid: state.scaler.to_json() for sid, state in run.series.items()},
                "training_data_sha256": run.manifest.get("data", {}).get("sha256"),
                "versions": library_versions(),
            },
        )
    return out / "saved_model"
