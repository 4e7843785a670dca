"""ETT benchmark, standard long-horizon univariate protocol (target OT), as in ../shared/data/ett/PUBLISHED.md.

Split borders in rows (hourly files; 15-minute files use borders four times larger, found from the
timestamps): train [0, 8640), validation [8640-L, 11520), test [11520-L, 14400). StandardScaler
fitted on the training rows; stride-1 windows; MSE and MAE on normalised values over ALL test
windows (the published code dropped the last partial batch; we do not). Model selection (early
stopping) uses the validation windows only.

    python benchmarks/ett.py --data ../shared/data/ett/ETTh1.csv --horizon 96 [--lookback 336]

prints one JSON line {"dataset", "horizon", "lookback", "mse", "mae", "windows", "seconds"}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd

from forecaster.config import DataConfig, ModelConfig, RunConfig, TrainConfig, WindowConfig
from forecaster.data.calendar import unix_seconds
from forecaster.data.prepared import Prepared
from forecaster.data.scaling import fit_scaler
from forecaster.data.windowing import Carried, Weighing, WindowIndex, WindowSource
from forecaster.training.train import fit_model, loss_weight_power

HOURLY_BORDERS = (8640, 11520, 14400)  # 12, 16 and 20 months of hours


def split_borders(dates: pd.Series) -> tuple[int, int, int]:
    """The protocol's (train end, validation end, test end), scaled by steps per hour (1 or 4)."""
    step = pd.Timestamp(dates.iloc[1]) - pd.Timestamp(dates.iloc[0])
    per_hour = int(pd.Timedelta(hours=1) / step)
    train_end, val_end, test_end = (per_hour * b for b in HOURLY_BORDERS)
    return train_end, val_end, test_end


def origins(start: int, end: int, lookback: int, horizon: int) -> np.ndarray:
    """Forecast origins with a full lookback before and all targets in [start, end)."""
    return np.arange(max(start, lookback), end - horizon + 1)


def run(
    data: Path,
    horizon: int,
    lookback: int,
    patch: int,
    layers: tuple[int, ...],
    epochs: int,
    seed: int,
    features: tuple[str, ...] = (),
    calendar: tuple[str, ...] = (),
    train_options: dict[str, Any] | None = None,
    **model_options: Any,
) -> dict[str, object]:
    """One horizon; `model_options` and `train_options` default to the `train` defaults (ModelConfig,
    TrainConfig) except for what the protocol fixes (lookback, patch, layers, epochs, batch, patience)."""
    train_options = train_options or {}
    started = time.time()
    frame = pd.read_csv(data)
    train_end, val_end, test_end = split_borders(frame["date"])
    values = frame[["OT", *features]].to_numpy("float64")[:test_end]
    scaler = fit_scaler("standard", values[:train_end])  # per column, on the training rows only
    dates = pd.DatetimeIndex(pd.to_datetime(frame["date"][:test_end]))
    times = [unix_seconds(dates)] if calendar else None
    scaled = scaler.transform(values).astype("float32")
    probe = RunConfig(DataConfig(target="OT"), WindowConfig(horizon=horizon, lookback=lookback), ModelConfig(
        lookback=lookback, horizon=horizon), TrainConfig(**train_options))  # fmt: skip
    source = WindowSource(
        [scaled], lookback, horizon, patch, carried=Carried(times), weighing=Weighing(loss_weight_power(probe))
    )
    train_o = origins(0, train_end, lookback, horizon)
    val_o = origins(train_end, val_end, lookback, horizon)
    test_o = origins(val_end, test_end, lookback, horizon)

    window = WindowConfig(horizon=horizon, lookback=lookback, patch=patch, min_context=lookback)
    model_cfg = ModelConfig(
        lookback=lookback,
        horizon=horizon,
        patch=patch,
        layers=layers,
        n_features=1 + len(features),
        calendar=calendar,
        step_seconds=(dates[1] - dates[0]).total_seconds(),
        **model_options,
    )
    train_cfg = TrainConfig(
        epochs=epochs,
        batch_size=128,
        learning_rate=1e-3,
        patience=3,
        final_epochs=0,  # the published protocol: trained on the training months only, the validation months choose
        seed=seed,
        max_windows_per_epoch=100_000,
        max_val_windows=100_000,
        verbose=0,
        **train_options,
    )
    cfg = RunConfig(DataConfig(target="OT", time_col="date"), window, model_cfg, train_cfg)
    prepared = Prepared(
        states={},
        source=source,
        train_index=WindowIndex.from_runs([(0, train_o)]),
        val_index=WindowIndex.from_runs([(0, val_o)]),
        fit_index=WindowIndex.from_runs([(0, np.arange(train_o[0], val_o[-1] + 1))]),
        kept=[0],
        dropped=[],
    )
    fitted = fit_model(prepared, cfg, lambda message: print(message, file=sys.stderr))
    model, history = fitted.served, fitted.history

    def predict(origins_: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        windows = source.dataset(np.zeros_like(origins_), origins_, 512, with_target=False)
        return model.predict(windows, verbose=0), scaled[origins_[:, None] + np.arange(horizon)[None, :], 0]

    val_forecast, val_actual = predict(val_o)  # what chooses between settings
    forecast, actual = predict(test_o)
    return {
        "dataset": data.stem,
        "horizon": horizon,
        "lookback": lookback,
        "mse": round(float(np.mean((forecast - actual) ** 2)), 4),
        "mae": round(float(np.mean(np.abs(forecast - actual))), 4),
        "windows": int(len(test_o)),
        "seconds": round(time.time() - started, 1),
        "epochs": len(history["loss"]),
        "val_mse": round(float(np.mean((val_forecast - val_actual) ** 2)), 4),
        "patch": patch,
        "layers": list(layers),
        "features": list(features),
        "calendar": list(calendar),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/ett/ETTh1.csv"))
    parser.add_argument("--horizon", type=int, required=True)
    parser.add_argument("--lookback", type=int, default=336)
    parser.add_argument("--patch", type=int, default=24)
    parser.add_argument("--layers", default="64")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--instance-norm", default=ModelConfig.instance_norm, help="as train's --instance-norm")
    parser.add_argument("--ensemble", type=int, default=ModelConfig.ensemble)
    parser.add_argument("--loss", default=TrainConfig.loss, choices=["mse", "mae", "huber"])
    parser.add_argument("--loss-scale", default=TrainConfig.loss_scale, choices=["series", "window"])
    parser.add_argument("--pooling", default="last", choices=["last", "attention"])
    parser.add_argument("--linear-skip", action="store_true", help="add a linear path from inputs to outputs")
    parser.add_argument("--cell", default="lstm", choices=["lstm", "gru"])
    parser.add_argument("--features", default="", help="past covariates, e.g. HUFL,HULL or all (default none)")
    parser.add_argument("--calendar", default="", help="calendar cycles of the forecast steps, e.g. day,week")
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"error: {args.data}: not found; pass --data PATH/TO/ETTh1.csv")
    layers = tuple(int(u) for u in args.layers.split(","))
    columns = ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL"]
    features = tuple(columns if args.features == "all" else filter(None, args.features.split(",")))
    calendar = tuple(filter(None, args.calendar.split(",")))
    options = {
        "instance_norm": args.instance_norm,
        "pooling": args.pooling,
        "linear_skip": args.linear_skip,
        "cell": args.cell,
        "ensemble": args.ensemble,
    }
    print(
        json.dumps(
            run(
                args.data,
                args.horizon,
                args.lookback,
                args.patch,
                layers,
                args.epochs,
                args.seed,
                features=features,
                calendar=calendar,
                train_options={"loss": args.loss, "loss_scale": args.loss_scale},
                **options,
            )
        )
    )


if __name__ == "__main__":
    main()
