"""Export a run as one self-contained artifact: raw values in, forecasts in original units out."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from forecaster.config import EXPORT_FORMATS
from forecaster.data.static import width as static_width
from forecaster.errors import ForecasterError, OutputError, SettingsError, install_line
from forecaster.io.files import atomic_directory, write_json
from forecaster.kinds import JSON
from forecaster.serving.graph import output_name, serving_model
from forecaster.training.runs import Run, library_versions

FORMATS = dict(zip(EXPORT_FORMATS, ("saved_model", "model.keras", "model.onnx"), strict=True))  # what each writes
ONNX_OPSET = 17


def export_run(run: Run, out: str | Path, fmt: str = "saved_model", levels: tuple[float, ...] = ()) -> Path:
    """Write `out/saved_model/` (or `out/model.keras`, `out/model.onnx`) and `out/manifest.json`, atomically.

    The network is rebuilt with `use_cudnn=False` and given the trained weights before tracing, so
    a SavedModel made on a GPU machine holds no cuDNN-only op and still serves on a CPU.
    Returns the path of the model inside `out`.
    """

    if fmt not in FORMATS:
        raise SettingsError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "onnx" and importlib.util.find_spec("tf2onnx") is None:
        raise SettingsError(f"--format onnx needs tf2onnx: {install_line('onnx')}")
    model = serving_model(run, scaler_inputs=fmt == "onnx", levels=levels)
    out = Path(out)
    with atomic_directory(out, "export") as staging:
        target = staging / FORMATS[fmt]
        try:
            if fmt == "keras":
                model.save(target)
            elif fmt == "saved_model":
                model.export(str(target), format="tf_saved_model", verbose=False)
            else:
                traced = staging / "traced"
                model.export(str(traced), format="tf_saved_model", verbose=False)
                convert_to_onnx(traced, target)
                shutil.rmtree(traced)  # only the ONNX file is the artifact
        except ForecasterError:
            raise
        except Exception as exc:  # TensorFlow's and h5py's own errors for a full or vanished disk: one line
            reason = _write_failure(exc)
            if reason is None:
                raise
            raise OutputError(f"{out}: cannot write the export ({reason}); nothing was changed there") from None
        write_json(staging / "manifest.json", export_manifest(run, fmt, levels))
    return out / FORMATS[fmt]


WRITE_FAILURES = ("No space left on device", "Read-only file system", "Permission denied", "Disk quota exceeded")


def _write_failure(exc: BaseException) -> str | None:
    """Why the files could not be written, when `exc` (of TensorFlow, h5py or the OS) says so; else None."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return next((words for words in WRITE_FAILURES if words in str(exc)), None)


def convert_to_onnx(saved_model: Path, target: Path) -> None:
    """tf2onnx in a subprocess (it is a command-line tool first); its log is shown only on failure."""
    done = subprocess.run(
        [sys.executable, "-m", "tf2onnx.convert", "--saved-model", str(saved_model), "--output", str(target),
         "--opset", str(ONNX_OPSET), "--signature_def", "serving_default"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    if done.returncode != 0 or not target.is_file():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise OutputError(f"tf2onnx could not convert the model ({last}); use --format saved_model")


def served_method(run: Run) -> str:
    """The method `forecast` uses for the series the network can forecast (the run's validation guard)."""
    selection = run.selection()
    return selection.method if selection else "model"


def unserved_note(run: Run) -> str | None:
    """A line for the console when `forecast` serves the series with a method the artifact lacks."""
    method = served_method(run)
    if method == "model":
        return None
    return (
        f"`forecast` serves this run's series with {method} (chosen on validation; manifest.json `method`); "
        "this export serves the network's forecast: train with --select model to export what forecast serves"
    )


def export_manifest(run: Run, fmt: str, levels: tuple[float, ...] = ()) -> JSON:
    """What a client needs to call the artifact without reading our code."""

    cfg = run.config
    lookback, horizon, features = cfg.window.lookback, cfg.window.horizon, cfg.model.n_features
    columns = [cfg.data.target, *cfg.data.features, *cfg.data.future]
    inputs: JSON = {
        "values": {
            "dtype": "float32",
            "shape": ["batch", lookback, features],
            "doc": f"the last `lookback` raw observations of {', '.join(columns)}, oldest first; "
            "a shorter series starts at row 0 and is padded on the right with anything",
        },
        "length": {"dtype": "int32", "shape": ["batch"], "doc": "valid rows in `values` (<= lookback)"},
    }
    if cfg.model.n_future:
        inputs["future"] = {
            "dtype": "float32",
            "shape": ["batch", horizon, cfg.model.n_future],
            "doc": f"the known values of {', '.join(cfg.data.future)} (raw) at the {horizon} steps after the last "
            "valid row of `values`; `values` holds their past as its last columns",
        }
    if cfg.model.calendar:
        inputs["time"] = {
            "dtype": "int64",
            "shape": ["batch"],
            "doc": "Unix seconds (wall clock, no time zone) of the last valid row of `values`; the model "
            f"derives the calendar features ({', '.join(cfg.model.calendar)}) of the forecast steps from it",
        }
    calibration = run.calibration() if levels else None
    if calibration is not None and calibration.spread == "history":
        season = calibration.season
        inputs["history_mae"] = {
            "dtype": "float64",
            "shape": ["batch"],
            "doc": f"the series' whole history before the forecast origin, y_1..y_n of {cfg.data.target}, as "
            f"mean(|y_t - y_(t-{season})|) over t > {season} (over t > 1, with lag 1, when n <= {season}): "
            "seasonal naive's in-sample error, what the bands scale with",
        }
    if fmt == "onnx":
        for name in ("center", "scale"):
            inputs[name] = {"dtype": "float64", "shape": ["batch", features], "doc": f"the series' `{name}` below"}
        if cfg.model.series_embedding or levels:
            inputs["series"] = {"dtype": "int32", "shape": ["batch"], "doc": "the series' `row` below"}
        if cfg.model.static_encoding:
            inputs["static"] = {
                "dtype": "float32",
                "shape": ["batch", static_width(cfg.model.static_encoding)],
                "doc": "the series' `static` below: its --static covariates as training encoded them",
            }
    else:
        inputs["series_id"] = {"dtype": "string", "shape": ["batch"], "doc": "one of `series` below"}
    series = {
        sid: {
            "last_time": state.last_time,
            **({"row": row, **state.scaler.to_json()} if fmt == "onnx" else {}),
            **({"static": list(state.static)} if fmt == "onnx" and state.static else {}),
        }
        for row, (sid, state) in enumerate(run.series.items())
    }
    signatures = {"saved_model": "serving_default (also the `serve` endpoint)", "keras": "keras.Model call"}
    return {
        "format": fmt,
        "signature": signatures.get(fmt, f"ONNX opset {ONNX_OPSET}, inputs and outputs by name"),
        "inputs": inputs,
        "outputs": {
            name: {"dtype": "float32", "shape": ["batch", horizon], "doc": "original units"}
            for name in ["forecast", *map(output_name, cfg.model.quantiles)]
        }
        | {
            f"{side}_{level:g}".replace(".", "_"): {
                "dtype": "float32",
                "shape": ["batch", horizon],
                "doc": f"{side}er end of the {level:g}% conformal interval, original units",
            }
            for level in levels
            for side in ("lo", "hi")
        },
        "lookback": lookback,
        "horizon": horizon,
        "patch": cfg.window.patch,
        "target": cfg.data.target,
        "transform": cfg.window.transform,  # log: the network forecasts the target's logarithm (values above zero)
        "features": list(cfg.data.features),
        "future": list(cfg.data.future),
        "static": list(cfg.data.static),
        "quantiles": list(cfg.model.quantiles),
        "frequency": run.freq,
        "series": series,
        "method": served_method(run),
        "served": "the network's forecast. `forecast` writes it when `method` is model; otherwise it writes that "
        "method's (a statistical model, seasonal naive, or the combination: the mean of the network's and the "
        "statistical models' forecasts), which this artifact does not compute",
        **({"bands": STATIC_BANDS} if levels else {}),
        "training_data_sha256": run.manifest.get("data", {}).get("sha256"),
        "versions": library_versions(),
    }


STATIC_BANDS = (
    "static: the lo_*/hi_* outputs use the conformal table calibrated in training and do not learn from later "
    "errors. `forecaster forecast --level` (with --adapt on, the default) widens or narrows them from the realised "
    "errors of the windows after training in its data; to do the same with this artifact, multiply each band's "
    "half-widths (hi - forecast, forecast - lo) by forecaster.scoring.adaptive.band_factors(calibration, actual, "
    "forecast, spreads, levels) of the series' realised windows"
)


def load_keras(path: str | Path) -> Any:
    """A `--format keras` export (or a run's model.keras) loaded, safe mode on: this module's imports register
    every layer it may hold (`forecaster.models`, `forecaster.serving.graph`), as Keras needs to read it."""
    import keras

    return keras.saving.load_model(path, safe_mode=True)
