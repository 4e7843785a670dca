"""What a training run tells when it ends, in the same words from the CLI and the Python API: the validation
scores against seasonal naive and the validation guard's decision."""

from __future__ import annotations

from forecaster.kinds import JSON
from forecaster.scoring.metrics import ZERO_SCALE_NOTE


def validation_line(report: JSON) -> str:
    """What training's validation found: the network against seasonal naive, and the guard's decision."""
    model, naive = report["model"], report["seasonal_naive"]
    line = (
        f"validation ({report['windows']} windows): model MAE {model['mae']:.4g} MASE {model['mase']:.3f}"
        f" | seasonal naive MAE {naive['mae']:.4g} MASE {naive['mase']:.3f}"
        f" -> {'beats' if report['beats_seasonal_naive'] else 'does NOT beat'} seasonal naive"
    )
    if report.get("zero_scale_series"):
        line += f"\nnote: {ZERO_SCALE_NOTE.format(report['zero_scale_series'])}"
    selection = report.get("selection")
    if selection:
        line += "\n" + "\n".join(selection_lines(selection))
    return line


def selection_lines(selection: JSON) -> list[str]:
    """What the validation guard decided and why, its evidence, what the served method ignores and costs."""
    method = selection["method"]
    ranked = sorted(selection["scores"].items(), key=lambda item: item[1])
    scores = ", ".join(f"{name} {score:.3f}" for name, score in ranked)
    lines = [
        f"method: {method}: {selection.get('reason', '')}",
        f"  decided on {selection['windows']} validation windows of {selection['series']} series, origins "
        f"{selection.get('period', '?')}, their statistical fits {selection.get('fit_seconds', 0):.0f} s "
        f"(MASE: {scores})",
    ]
    if selection.get("covariates_unused"):
        lines.append(f"  note: {method} does not see {', '.join(selection['covariates_unused'])}: they are unused")
    cost = selection.get("seconds_per_1000_series")
    if cost and method != "model":
        lines.append(
            f"  forecasting 1,000 series with {method} takes about {cost[0]:,.0f} s on this machine (statistical "
            f"fits), the network alone {cost[1]:,.1f} s"
        )
    if method != "model":
        lines.append("  for the network alone, train with --select model")
    return lines
