"""Which spread makes the sharpest honest conformal bands: every candidate scored on one trained run.

The conformal scores are |error| / spread (`forecaster.scoring.calibration`). This study takes a run
that `benchmarks/m4.py --split validation --keep DIR` trained and forecast (its network and served
forecasts are the same whatever the spread), remakes the calibration for each candidate spread, and
scores the bands it would put around the run's forecasts of the validation targets (the last horizon
of each training series, which training never saw) by coverage and MSIS:

- spreads (`window_spreads`): history, seasonal, step; and train / train1, one number per series: the
  seasonal-naive (one-step naive) MAE of its training part;
- each with no per-series factor (`none`) and with the difficulty factors (`difficulty_factors`: the
  series' mean score on its older validation windows over the panel's) shrunk towards 1 by k horizons'
  worth of windows (--shrink; 0: not shrunk).

    python benchmarks/spread_study.py --panel etth1-chunks --keep /tmp/keep-etth1 [--level 95]

prints one JSON line per candidate.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from m4 import PANELS, interval_scores, split_panel  # noqa: E402

from forecaster.data.panel import load_panel  # noqa: E402
from forecaster.scoring.calibration import SPREADS, Calibration, difficulty_factors, window_spreads  # noqa: E402
from forecaster.scoring.metrics import seasonal_naive_scale  # noqa: E402
from forecaster.scoring.validation import (  # noqa: E402
    calibration_windows,
    forecast_windows,
    older_windows,
    select_method,
)
from forecaster.training.runs import load_run  # noqa: E402
from forecaster.training.train import prepare  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--panel", choices=PANELS, required=True)
    parser.add_argument("--keep", type=Path, required=True, help="the folder of a `m4.py --keep` validation run")
    parser.add_argument("--level", type=float, default=95.0)
    parser.add_argument("--shrink", default="none,0,2,4,8,16,32", help="k values (none: no factor; 0: unshrunk)")
    args = parser.parse_args()

    history, actual, horizon, mase_season, _ = split_panel(args.panel, "validation")
    run = load_run(args.keep / "run")
    cfg = run.config
    panel = load_panel(args.keep / "panel.csv", cfg.data)
    prepared = prepare(panel, cfg)
    model = run.load_model()
    season = run.season
    recent = forecast_windows(model, prepared, panel, cfg, calibration_windows(prepared.val_index, horizon), season)
    served = recent.forecast
    if cfg.train.select == "auto" and not cfg.model.quantiles:
        selection, rows, chosen = select_method(recent, prepared, panel, cfg, season)
        if selection.method != "model":  # as `train` calibrates: on the windows the served method was scored on
            picked = {name: getattr(recent, name)[rows] for name in ("series_idx", "origins", "actual", "spreads")}
            recent = dataclasses.replace(recent, forecast=chosen, **picked)
            served = chosen
    kept = np.isfinite(served).all(axis=1)
    every = forecast_windows(model, prepared, panel, cfg, prepared.val_index, season)
    older = older_windows(every, recent)

    forecast = pd.read_csv(args.keep / "forecast.csv", dtype={"id": str})
    ids = [s.series_id for s in panel.series]
    target_values = [panel.series[i].values[:, 0] for i in range(len(ids))]
    target_origins = np.array([len(v) for v in target_values])
    target_scales = np.array([run.series[sid].scaler.scale[0] if sid in run.series else 1.0 for sid in ids])
    point = {sid: g["forecast"].to_numpy("float64") for sid, g in forecast.groupby("id", sort=False)}
    kept_ids = [ids[prepared.kept[s]] for s in range(len(prepared.kept))]

    def values_of(idx: np.ndarray) -> list[np.ndarray]:
        return [panel.series[prepared.kept[s]].values[:, 0] for s in idx]

    def scales_of(idx: np.ndarray) -> np.ndarray:
        return np.array([list(prepared.states.values())[s].scaler.scale[0] for s in idx])

    w = cfg.window
    states = list(prepared.states.values())
    n_train = {ids[prepared.kept[s]]: states[s].n_train for s in range(len(states))}

    def spreads(values, origins, scales, sids, kind):
        if kind.startswith("train"):  # one number per series: the seasonal-naive MAE of its training part
            lag = season if kind == "train" else 1
            ends = [n_train.get(sid, len(v)) for v, sid in zip(values, sids)]
            return np.array([max(seasonal_naive_scale(v[: min(e, o)], lag), 1e-9)
                             for v, e, o in zip(values, ends, origins)])  # fmt: skip
        return window_spreads(values, origins, w.lookback, w.patch, scales, kind, season)

    def at(windows, kind, rows=slice(None)):
        idx = windows.series_idx[rows]
        return spreads(values_of(idx), windows.origins[rows], scales_of(idx), [kept_ids[s] for s in idx], kind)

    for kind in (*SPREADS, "train", "train1"):
        cal_spreads, old_spreads = at(recent, kind), at(every, kind, older)
        target_spreads = spreads(target_values, target_origins, target_scales, ids, kind)
        for shrink in args.shrink.split(","):
            factors = {}
            if shrink != "none":
                errors = np.abs(every.actual[older] - every.forecast[older])
                older_ids = [kept_ids[s] for s in every.series_idx[older]]
                factors = difficulty_factors(errors, old_spreads, older_ids, horizon, float(shrink))
            cal_factors = np.array([factors.get(kept_ids[s], 1.0) for s in recent.series_idx])
            cal = Calibration.fit(recent.actual[kept], served[kept], (cal_spreads * cal_factors)[kept])
            bands = {}
            for i, sid in enumerate(ids):
                spread = np.array([target_spreads[i] * factors.get(sid, 1.0)])
                made = cal.bands(point[sid][None, :], spread, (args.level,))
                bands[sid] = (made[f"lo_{args.level:g}"][0], made[f"hi_{args.level:g}"][0])
            scores = interval_scores(history, actual, bands, args.level, mase_season)
            print(json.dumps({"panel": args.panel, "spread": kind, "shrink": shrink,
                              **{k: round(v, 4) for k, v in scores.items()}}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
