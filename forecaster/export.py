"""Export a run as one self-contained artifact: raw values in, forecasts in original units out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from forecaster.errors import ForecasterError
from forecaster.runs import Run, atomic_directory, library_versions, write_json

FORMATS = ("saved_model", "keras")


def export_run(run: Run, out: str | Path, fmt: str = "saved_model") -> Path:
    """Write `out/saved_model/` (or `out/model.keras`) and `out/manifest.json`, atomically.

    The network is rebuilt with `use_cudnn=False` and given the trained weights before tracing, so
    a SavedModel made on a GPU machine holds no cuDNN-only op and still serves on a CPU.
    Returns the path of the model inside `out`.
    """
    from forecaster.serving import serving_model

    if fmt not in FORMATS:
        raise ForecasterError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    model = serving_model(run)
    name = "saved_model" if fmt == "saved_model" else "model.keras"
    out = Path(out)
    with atomic_directory(out) as staging:
        if fmt == "saved_model":
            model.export(str(staging / name), format="tf_saved_model", verbose=False)
        else:
            model.save(staging / name)
        write_json(staging / "manifest.json", export_manifest(run, fmt))
    return out / name


def export_manifest(run: Run, fmt: str) -> dict[str, Any]:
    """What a client needs to call the artifact without reading our code."""
    from forecaster.serving import output_name

    cfg = run.config
    lookback, horizon, features = cfg.window.lookback, cfg.window.horizon, cfg.model.n_features
    return {
        "format": fmt,
        "signature": "serving_default (also the `serve` endpoint)" if fmt == "saved_model" else "keras.Model.predict",
        "inputs": {
            "series_id": {"dtype": "string", "shape": ["batch"], "doc": "one of `series` below"},
            "values": {
                "dtype": "float32",
                "shape": ["batch", lookback, features],
                "doc": "the last `lookback` raw observations, oldest first; column 0 is the target"
                + (f", then {', '.join(cfg.data.features)}" if cfg.data.features else "")
                + "; a shorter series goes first and is padded on the right with anything",
            },
            "length": {"dtype": "int32", "shape": ["batch"], "doc": "valid points in `values` (<= lookback)"},
        },
        "outputs": {
            name: {"dtype": "float32", "shape": ["batch", horizon], "doc": "original units"}
            for name in ["forecast", *map(output_name, cfg.model.quantiles)]
        },
        "lookback": lookback,
        "horizon": horizon,
        "patch": cfg.window.patch,
        "target": cfg.data.target,
        "features": list(cfg.data.features),
        "quantiles": list(cfg.model.quantiles),
        "frequency": run.freq,
        "series": {sid: {"last_time": state.last_time} for sid, state in run.series.items()},
        "training_data_sha256": run.manifest.get("data", {}).get("sha256"),
        "versions": library_versions(),
    }
