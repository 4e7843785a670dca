"""The forecast files' column names: the data's own id and time columns, q_10 for a quantile."""

from __future__ import annotations

from forecaster.config import RunConfig


def id_and_time_columns(cfg: RunConfig) -> tuple[str, str]:
    """The forecast CSV's id and time column names: the data's own, else "series" and "step"."""
    return cfg.data.id_col or "series", cfg.data.time_col or "step"


def quantile_column(level: float) -> str:
    """The CSV column of a quantile level: 0.1 -> q_10, 0.05 -> q_5, 0.975 -> q_97.5."""
    return f"q_{100 * level:g}"
