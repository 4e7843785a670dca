"""`forecaster doctor`: what a user wants to know about a file before training on it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from forecaster.data.grid import filled_note
from forecaster.data.panel import read_panel
from forecaster.data.resolve import resolve_config
from forecaster.data.series import first_few
from forecaster.data.windowing import min_length, split_series
from forecaster.errors import DataError
from forecaster.io.plain import frequency_named, plain_time
from forecaster.kinds import JSON
from forecaster.serving.forecast import forecast_method
from forecaster.settings import Settings


def diagnose(data: Any, settings: Settings) -> JSON:
    """Per-series lengths, frequency, gaps, and the fate of each series for the chosen window."""
    data_cfg = settings.build("data")
    # read with interpolation so gaps are counted rather than fatal; say what the chosen policy would do; every
    # kind of problem in the cells, duplicates and steps is listed, not only the first
    problems: list[str] = []
    try:
        panel = read_panel(
            data, data_cfg if data_cfg.fill != "error" else replace(data_cfg, fill="interpolate"), problems
        )
    except DataError:
        if problems:  # what was read past left too little to go on: the first problem is the one to fix
            raise DataError(problems[0]) from None
        raise
    if not panel.series:
        raise DataError(f"{problems[0]} (no series could be read: {len(problems)} problems in all)")
    horizon_given = "horizon" in settings.window
    cfg, found = resolve_config(settings.with_defaults("window", {"horizon": 1}), panel)
    w = cfg.window
    series = []
    for s in panel.series:
        split = split_series(len(s), w)
        fate = "ok" if len(s) >= w.lookback else "padded and masked"
        if split is None:
            method = forecast_method(len(s), w, found.period)
            fate = "too short to train on; forecast " + ("by the model" if method == "model" else f"by {method}")
        series.append(
            {
                "series_id": s.series_id,
                "length": len(s),
                "start": plain_time(s.start),
                "end": plain_time(s.time_at(-1)),
                "gaps_or_empty": s.n_filled,
                "fate": fate,
            }
        )
    notes = panel.notes
    with_gaps = [s for s in panel.series if s.n_filled]
    if with_gaps and data_cfg.fill == "error":  # the file was read with interpolate only to count the gaps
        counted = {filled_note(s.series_id, s.n_filled, "interpolate") for s in with_gaps}
        notes = [note for note in notes if note not in counted]
        problems.append(
            f"{len(with_gaps)} series have gaps or empty cells ({first_few([s.series_id for s in with_gaps])}): "
            "train refuses the file with --fill error; pass --fill interpolate or --fill ffill, or fix the file"
        )
    if all(str(s["fate"]).startswith("too short") for s in series):
        problems.append(f"every series is shorter than the {min_length(w)} points training needs")
    return {
        "file": panel.path,
        "series_count": len(series),
        "points": panel.n_points,
        "frequency": panel.freq,
        "season": found.period,
        "season_note": found.note,
        "horizon": w.horizon if horizon_given else None,
        "lookback": w.lookback,
        "patch": w.patch,
        "min_length": min_length(w),
        "notes": notes,
        "problems": problems,
        "series": series,
    }


def render(report: JSON) -> str:
    lines = [
        f"{report['file']}: {report['series_count']} series, {report['points']} points, "
        f"frequency {frequency_named(report['frequency'])}, season {report['season']}",
        f"window: lookback {report['lookback']} (patch {report['patch']}), horizon "
        f"{report['horizon'] if report['horizon'] is not None else '(give --horizon to check)'}; "
        f"series need {report['min_length']} points",
    ]
    lines += [f"note: {note}" for note in [report["season_note"], *report["notes"]]]
    lines.append(f"{'series':<24}{'length':>8}  {'start':<20}{'end':<20}{'gaps':>6}  fate")
    for s in report["series"][:50]:
        lines.append(
            f"{s['series_id'][:23]:<24}{s['length']:>8}  {s['start'][:19]:<20}{s['end'][:19]:<20}"
            f"{s['gaps_or_empty']:>6}  {s['fate']}"
        )
    if len(report["series"]) > 50:
        lines.append(f"... and {len(report['series']) - 50} more (use --json for all)")
    lines += [f"problem: {p}" for p in report["problems"]] or ["no problems found"]
    return "\n".join(lines)
