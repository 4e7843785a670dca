"""Synthetic panels for the speed and memory benchmarks: id,time,value, hourly, daily seasonality."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_panel(path: Path, n_series: int, length: int, seed: int = 0) -> Path:
    """`n_series` series of `length` hourly points (level + daily sine + noise), long format."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    t = np.arange(length)
    levels = rng.uniform(-5, 50, n_series)[:, None]
    amplitudes = rng.uniform(0.5, 5, n_series)[:, None]
    values = levels + amplitudes * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3, (n_series, length))
    frame = pd.DataFrame(
        {
            "id": np.repeat([f"s{i:05d}" for i in range(n_series)], length),
            "time": np.tile(pd.date_range("2020-01-01", periods=length, freq="h").strftime("%Y-%m-%d %H:%M"), n_series),
            "value": values.ravel().round(4),
        }
    )
    frame.to_csv(path, index=False)
    return path


def write_parquet_shards(directory: Path, n_series: int, length: int, shards: int = 16, seed: int = 0) -> Path:
    """The same kind of panel as `write_panel` as `shards` Parquet files of whole series (id, time as a
    timestamp, value), written shard by shard so a panel larger than memory can be made."""
    import pandas as pd

    directory.mkdir(parents=True, exist_ok=True)
    times = pd.date_range("2020-01-01", periods=length, freq="h")
    bounds = np.linspace(0, n_series, shards + 1).round().astype(int)
    for k, (first, last) in enumerate(zip(bounds[:-1], bounds[1:])):
        rng = np.random.default_rng([seed, k])
        count = last - first
        levels = rng.uniform(-5, 50, count)[:, None]
        amplitudes = rng.uniform(0.5, 5, count)[:, None]
        t = np.arange(length)
        values = levels + amplitudes * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3, (count, length))
        frame = pd.DataFrame(
            {
                "id": np.repeat([f"s{i:06d}" for i in range(first, last)], length),
                "time": np.tile(times, count),
                "value": values.ravel().round(4),
            }
        )
        frame.to_parquet(directory / f"part-{k:03d}.parquet", index=False)
    return directory
