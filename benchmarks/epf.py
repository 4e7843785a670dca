"""Day-ahead electricity prices (EPF, ../shared/data/epf/): the `train` defaults with and without the two
future-known columns, on the day-ahead protocol of ../shared/data/epf/PUBLISHED.md, through the CLI.

Train once on the first 1,456 days (`--holdout` keeps the last 728 days out; validation lies inside the
training days), then `forecaster evaluate --folds 728 --step 24`: every test day forecast at midnight
from the prices before it and, with `--future`, the day's two known columns (the file's own rows).
No refit during the two test years. Scored over all 17,472 test hours: MAE, rMAE (over the weekly
naive's MAE: `--season 168` makes evaluate's seasonal naive the weekly one), sMAPE, RMSE; what serves
is what `forecast` would (the validation guard's choice: the `served` row, else the network).

    python benchmarks/epf.py --market NP [--no-future] [-- extra train options]
    python benchmarks/epf.py --market NP --refit-every 7 [--refit-from-scratch] [--test-days 84]
    python benchmarks/epf.py --table          # NP and PJM, with and without --future -> benchmarks/EPF.md

`--refit-every K`: the run is updated (`forecaster update`: a warm start) on the prices before every K-th test
day, as `evaluate --refit-every K` does, or trained anew there with `--refit-from-scratch`. `--test-days N`:
only the first N of the 728 test days are forecast (the data file cut after them), for a shorter measurement.
A refitting row over the two test years takes hours on 2 cores, so such rows are measured one at a time and
kept: `--record ROW.json` adds the row a run printed (its last line) to benchmarks/epf_refits.json, and
`--refit-table` writes the recorded rows into EPF.md's section "Refitting rows, recorded one at a time"
(`make bench-epf-refit` runs the six rows, then writes it). `--keep DIR` keeps the trained run and, in a refitting
row, the refitted runs (`evaluate --keep-refits`): the same command run again after an interruption trains nothing
it has already trained (`make bench-epf-refit` keeps each row's in .epf-refits/). `--table` rewrites EPF.md's
trained-once tables and keeps every section after them.

    python benchmarks/epf.py --market NP --refit-every 7 | tail -1 > row.json
    python benchmarks/epf.py --record row.json && python benchmarks/epf.py --refit-table
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data" / "epf"
RECORDED = HERE / "epf_refits.json"  # the refitting rows measured over the two test years, one at a time
KEPT = "<!-- written by `benchmarks/epf.py --table` above this line; what follows it is kept -->"
REFITS = "## Refitting rows, recorded one at a time"
TRAIN_DAYS, TEST_DAYS, HOURS = 1456, 728, 24
FUTURE = {  # the two day-ahead columns, named as a user would type them (the file's headers start with a space)
    "NP": ("Grid load forecast", "Wind power forecast"),
    "PJM": ("System load forecast", "Zonal COMED load foecast"),
}
PUBLISHED = {  # MAE / rMAE / sMAPE / RMSE from PUBLISHED.md (refitted every day)
    "NP": {"LEAR-Ens": (1.738, 0.420, 5.01, 3.362), "DNN-Ens": (1.667, 0.403, 4.85, 3.333)},
    "PJM": {"LEAR-Ens": (3.013, 0.476, 11.98, 5.127), "DNN-Ens": (2.779, 0.439, 11.22, 4.637)},
}
# NeuralForecast 3.3.0 NHITS with the two columns as futr_exog, trained once: MAE, rMAE, sMAPE, RMSE and where
# measured (PUBLISHED.md, and here: `benchmarks/epf_nhits.py --market M` in its own venv, torch 2.14.1 CPU)
NHITS = {
    "NP": [(1.821, 0.441, None, None, "PUBLISHED.md"), (1.852, 0.449, 5.43, 3.482, "measured here, 229 s")],
    "PJM": [(3.383, 0.538, 13.47, 5.609, "measured here, 362 s")],
}


def cli() -> str:
    return str(Path(sys.executable).with_name("forecaster"))


def cut(data: Path, days: int, work: Path) -> Path:
    """The market file `data` up to its first `days` days (header kept), written in `work`."""
    rows = data.read_text().splitlines(keepends=True)
    path = work / f"{data.stem}-{days}.csv"
    path.write_text("".join(rows[: 1 + days * HOURS]))
    return path


def bench(
    market: str,
    future: bool,
    extra: list[str],
    shared: Path = SHARED,
    keep: Path | None = None,
    refit: tuple[str, ...] | list[str] = (),
    days: int = TEST_DAYS,
) -> dict:
    data = shared / f"{market}.csv"
    work = keep or Path(tempfile.mkdtemp(prefix=f"epf-{market}-"))
    work.mkdir(parents=True, exist_ok=True)
    columns = ["--target", "OT", "--time-col", "date", "--horizon", str(HOURS)]
    known = ["--future", ",".join(FUTURE[market])] if future else []
    if days < TEST_DAYS:  # the file cut after the first `days` test days: those are the backtest's days
        data = cut(data, TRAIN_DAYS + days, work)
    started = time.time()
    options = [*columns, *known, "--holdout", str(days * HOURS), "--quiet", *extra]
    command = [cli(), "train", str(data), *options, "--out", str(work / "run")]
    trained_by = work / "trained-by.json"  # with --keep: the data and options the kept run was trained with
    how = [data.name, *options]
    if keep and trained_by.is_file() and json.loads(trained_by.read_text()) == how:
        started -= json.loads((work / "run" / "manifest.json").read_text())["train_seconds"]  # kept: not again
    else:
        subprocess.run(command, check=True)
        trained_by.write_text(json.dumps(how))
    trained = time.time()
    if keep and refit:  # run again with the same --keep, a refitting row goes on from the refits kept there
        refit = [*refit, "--keep-refits", str(work / "refits")]
    report = evaluated(work, data, days, "evaluate", refit, shown=True)
    evaluated_at = time.time()
    measured = [("adaptive", report)]  # a refitting backtest's static bands would take a second one: not run
    once = None
    if refit:  # the run as trained, on the same days: what the refits bought
        once = evaluated(work, data, days, "evaluate-once")["overall"]
        once = once["served" if "served" in once else "model"]
    else:  # the bands calibrated in training, unchanged: the adaptive bands' baseline
        measured.append(("static", evaluated(work, data, days, "evaluate-static", ["--adapt", "off"])))
    overall = report["overall"]
    served = "served" if "served" in overall else "model"
    weekly = overall["seasonal_naive"]["mae"]
    row = {
        "market": market,
        "future": future,
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
        ).stdout.strip(),  # fmt: skip
        "date": date.today().isoformat(),
        "options": " ".join(extra),
        "windows": report["windows"],
        "served_by": json.loads((work / "run" / "metrics.json").read_text())
        .get("selection", {})
        .get("method", "model"),
        "train_seconds": round(trained - started, 1),
        "evaluate_seconds": round(evaluated_at - trained, 1),
        "test_days": days,
        "refits": report.get("refits"),
        "once": None if once is None else {k: round(once[k], 6) for k in ("mae", "smape", "rmse")},
        "intervals": {
            bands: {
                level: {k: m[k] for k in ("coverage", "coverage_by_period", "msis")}
                for level, m in source["conformal"].items()
            }
            for bands, source in measured
        },
    }
    names = [("forecaster", served), ("network", "model"), ("weekly_naive", "seasonal_naive")]
    if not refit:  # the combination's figures, to check the guard's choice
        if row["served_by"] != "combination":
            overall["combination"] = combination_metrics(work / "run", data, days)
        names.append(("combination", "combination" if row["served_by"] != "combination" else served))
    for name, key in names:
        m = overall[key]
        row[name] = {"mae": m["mae"], "rmae": m["mae"] / weekly, "smape": m["smape"], "rmse": m["rmse"]}
        row[name] = {k: round(v, 6) for k, v in row[name].items()}  # the table rounds once, from these
    return row


def evaluated(work: Path, data: Path, days: int, name: str, options: Sequence[str] = (), shown: bool = False) -> dict:
    """`forecaster evaluate` of the run in `work` over the `days` test days, into `work / name`: its metrics."""
    subprocess.run(
        [cli(), "evaluate", str(work / "run"), "--data", str(data), "--folds", str(days), "--step", str(HOURS),
         "--season", str(7 * HOURS), "--out", str(work / name), *options],
        check=True, stdout=None if shown else subprocess.DEVNULL,
    )  # fmt: skip
    return json.loads((work / name / "metrics.json").read_text())


def combination_metrics(run: Path, data: Path, days: int = TEST_DAYS) -> dict[str, float]:
    """The combination's figures over the same test days as `evaluate`'s rows, its statistical models
    refitted on each day's own history (with the day's known columns in a --future run), as `forecast`
    would make it had the guard chosen it."""
    from forecaster.api import Forecaster
    from forecaster.scoring.metrics import point_metrics
    from forecaster.scoring.selection import served_forecasts
    from forecaster.scoring.statistical import fit_processes, known_columns
    from forecaster.serving.evaluate import backtest_here
    from forecaster.serving.requests import BacktestRequest

    with fit_processes(None):  # the statistical fits on every core, as the CLI's
        forecaster = Forecaster.load(run)
        request = BacktestRequest(str(data), days, HOURS, 7 * HOURS)
        found = backtest_here(forecaster.run, lambda: forecaster.model, request, lambda _: None)
        bt, panel = found.backtest, found.panel
        cfg = forecaster.run.config
        windows = list(zip(bt.series_idx, bt.origins))
        histories = [panel.series[s].values[:o, 0] for s, o in windows]
        known = [known_columns(panel.series[s].values, o, HOURS, cfg.model.n_future) for s, o in windows]
        made = served_forecasts(["combination"] * len(windows), histories, HOURS, forecaster.run.season,
                                bt.forecasts["model"], cfg.train.statistical, known)[0]  # fmt: skip
        return point_metrics(bt.actual, made, bt.scales)


def table(rows: list[dict], out: Path) -> None:
    def cells(m: dict) -> str:
        return f"{m['mae']:.3f} | {m['rmae']:.3f} | {m['smape']:.2f} | {m['rmse']:.3f}"

    lines = [
        "# EPF day-ahead prices: `forecaster train` defaults with and without `--future`",
        "",
        "Made by `make bench-epf` (`benchmarks/epf.py --table`). Trained once on the first 1,456 days (no refit),",
        "every one of the last 728 days forecast at midnight (24 hourly steps) by `forecaster evaluate --folds 728",
        "--step 24`; with `--future` the day's two known columns (day-ahead load / wind or zonal load forecasts)",
        "come from the file's own rows. MAE / rMAE (over the weekly naive) / sMAPE % / RMSE over 17,472 hours.",
        "",
        "| market | method | MAE | rMAE | sMAPE | RMSE | train + evaluate |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        label = "**forecaster, `--future`**" if row["future"] else "forecaster, no covariates"
        seconds = f"{row['train_seconds'] + row['evaluate_seconds']:.0f} s"
        lines.append(
            f"| {row['market']} | {label} (served: {row['served_by']}) | {cells(row['forecaster'])} | {seconds} |"
        )
        lines.append(f"| {row['market']} | its network alone | {cells(row['network'])} | |")
        lines.append(f"| {row['market']} | its combination | {cells(row['combination'])} | |")
    for market in dict.fromkeys(row["market"] for row in rows):
        weekly = next(row["weekly_naive"] for row in rows if row["market"] == market)
        lines.append(f"| {market} | weekly naive | {cells(weekly)} | |")
        for mae, rmae, smape, rmse, where in NHITS.get(market, []):
            rest = f"{smape:.2f} | {rmse:.3f}" if smape is not None else " | "
            lines.append(
                f"| {market} | NHITS + futr_exog, trained once ({where}) | {mae:.3f} | {rmae:.3f} | {rest} | |"
            )
        for name, (mae, rmae, smape, rmse) in PUBLISHED[market].items():
            lines.append(
                f"| {market} | {name} (refitted daily) | {mae:.3f} | {rmae:.3f} | {smape:.2f} | {rmse:.3f} | |"
            )
    lines += [
        "",
        "Intervals over the same 728 days: `evaluate`'s 80% and 95% bands (conformal, calibrated in training),",
        "adaptive (the default: each day's band also learns from the days before it whose prices were known,",
        "`--adapt on`) and static (`--adapt off`); coverage overall and over each quarter of the two years,",
        "and MSIS (M4's interval score, over the weekly naive's in-sample error).",
        "",
        "| market | run | bands | 80% coverage | by quarter | 95% coverage | by quarter | 95% MSIS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for bands in ("adaptive", "static"):
            m = row["intervals"][bands]
            quarters = {level: " / ".join(f"{c:.3f}" for c in m[level]["coverage_by_period"]) for level in m}
            run = "`--future`" if row["future"] else "no covariates"
            lines.append(
                f"| {row['market']} | {run} | {bands} | {m['80']['coverage']:.3f} | {quarters['80']} | "
                f"{m['95']['coverage']:.3f} | {quarters['95']} | {m['95']['msis']:.2f} |"
            )
    lines += [
        "",
        "The weekly naive is evaluate's seasonal naive at lag 168 on each day's own history; PUBLISHED.md's",
        '(NP 4.135, PJM 6.326) come from the epftoolbox files and differ slightly. "served" is what `forecast`',
        "would serve: the validation guard's choice on 100 validation windows spread over the training days'",
        'validation part (its rule: docs/guard.md). "its combination": the mean of the network and',
        "AutoETS / AutoTheta refitted on each day's history (with `--future`, regressed on the day's known columns).",
    ]
    lines.append("")
    before = out.read_text() if out.is_file() else ""
    kept = before.split(KEPT, 1)[1] if KEPT in before else "\n"
    out.write_text("\n".join(lines) + "\n" + KEPT + kept)


def record(row_file: Path) -> None:
    """Add the row a run of this script printed (`row_file`: its last line) to RECORDED, replacing a row of the
    same market, refits and span recorded before."""
    row = json.loads(row_file.read_text().strip().splitlines()[-1])
    if not row.get("refits") or "commit" not in row:
        raise SystemExit(f"{row_file}: not a refitting row printed by this script (no refits or no commit)")
    rows = json.loads(RECORDED.read_text()) if RECORDED.is_file() else []
    rows = [old for old in rows if refit_key(old) != refit_key(row)] + [row]
    RECORDED.write_text(json.dumps(sorted(rows, key=refit_key), indent=1) + "\n")
    print(f"recorded in {RECORDED}: {refit_name(row)}")


def refit_key(row: dict) -> tuple:
    return row["market"], row["future"], row["test_days"], row["refits"]["every"], row["refits"]["from_scratch"]


def refit_name(row: dict) -> str:
    every = "every day" if row["refits"]["every"] == 1 else f"every {row['refits']['every']} days"
    how = "trained anew" if row["refits"]["from_scratch"] else "updated"
    return f"{how} {every}" + ("" if row["future"] else ", no covariates")


def refit_table(out: Path) -> None:
    """EPF.md's section REFITS, from the recorded rows (the section replaced, or added at the end)."""
    rows = json.loads(RECORDED.read_text()) if RECORDED.is_file() else []
    lines = [
        REFITS,
        "",
        "Written by `benchmarks/epf.py --refit-table` from the rows recorded in `benchmarks/epf_refits.json`, each",
        "measured with `python benchmarks/epf.py --market M --refit-every K [--refit-from-scratch]` at the commit",
        "given: the run trained once on the first 1,456 days with `--future`, then refitted before every K-th test",
        "day on the prices before it (a warm start from the run before, or trained anew) and every day forecast at",
        "midnight; each refit renews the guard, so what serves may change (the network alone beside it where it",
        "differs). The bands are the adaptive ones. Seconds are as measured, on whatever else the machine ran.",
        "Rows measured before 506b9b3 also refitted the run before the first test day, on the very data it was",
        "trained on; since, the run trained once forecasts the first K days itself.",
        "",
        "| market | refits | test days | MAE | rMAE | sMAPE | RMSE | 80% / 95% coverage | 95% MSIS | trained once, "
        "the same days: MAE / RMSE | cost | commit, date |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        m, bands, refits = row["forecaster"], row["intervals"]["adaptive"], row["refits"]
        each = refits["seconds"] / max(refits["count"], 1)
        cost = f"training {row['train_seconds']:.0f} s, {refits['count']} refits of {each:.0f} s"
        network = row["network"]["mae"]
        alone = f" (network alone {network:.3f})" if round(network, 3) != round(m["mae"], 3) else ""
        once = "" if not row.get("once") else f"{row['once']['mae']:.3f} / {row['once']['rmse']:.3f}"
        lines.append(
            f"| {row['market']} | {refit_name(row)} | {row['test_days']} | {m['mae']:.3f}{alone} | {m['rmae']:.3f} | "
            f"{m['smape']:.2f} | {m['rmse']:.3f} | {bands['80']['coverage']:.3f} / {bands['95']['coverage']:.3f} | "
            f"{bands['95']['msis']:.2f} | {once} | {cost} ({refits['seconds']:,.0f} s) | "
            f"{row['commit']}, {row['date']} |"
        )
    if not rows:
        lines.append("| (none recorded yet) | | | | | | | | | | | |")
    text = out.read_text()
    start = text.find(REFITS)
    end = text.find("\n## ", start + 1) if start >= 0 else -1
    section = "\n".join(lines) + "\n"
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        text = text[:start] + section + (text[end:] if end >= 0 else "")
    out.write_text(text)
    print(f"written to {out}: {len(rows)} recorded rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--market", choices=sorted(FUTURE), default="NP")
    parser.add_argument("--no-future", action="store_true", help="the same defaults without --future")
    parser.add_argument("--table", action="store_true", help="both markets, with and without: benchmarks/EPF.md")
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--keep", type=Path, help="keep the run, its refits and evaluation here (run again: reused)")
    parser.add_argument("--refit-every", type=int, help="update the run before every K-th test day (a warm start)")
    parser.add_argument("--refit-from-scratch", action="store_true", help="with --refit-every: train anew instead")
    parser.add_argument("--test-days", type=int, default=TEST_DAYS, help="forecast only the first N test days")
    parser.add_argument("--record", type=Path, help="add the refitting row printed into this file to the record")
    parser.add_argument("--refit-table", action="store_true", help="the recorded refitting rows -> EPF.md")
    parser.add_argument("extra", nargs="*", help="train options after --")
    args = parser.parse_args()
    if args.record or args.refit_table:
        if args.record:
            record(args.record)
        if args.refit_table:
            refit_table(HERE / "EPF.md")
        return
    if not args.table:
        refit = ["--refit-every", str(args.refit_every)] if args.refit_every else []
        refit += ["--refit-from-scratch"] if refit and args.refit_from_scratch else []
        row = bench(args.market, not args.no_future, args.extra, args.shared, args.keep, refit, args.test_days)
        print(json.dumps(row), flush=True)
        return
    rows = []
    for market in ("NP", "PJM"):
        for future in (True, False):
            rows.append(bench(market, future, args.extra, args.shared))
            print(json.dumps(rows[-1]), flush=True)
    table(rows, HERE / "EPF.md")
    print(f"written to {HERE / 'EPF.md'}")


if __name__ == "__main__":
    main()
