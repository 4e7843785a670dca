"""What every benchmark shares: the machine description and one way to record a figure.

Each benchmark prints its figures as one JSON line and appends them, with the machine, to
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "RESULTS.md"


def machine() -> dict[str, Any]:
    """CPU model, cores, GPU (if TensorFlow sees one) and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    described: dict[str, Any] = {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "python": platform.python_version()}
    try:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        described["gpu"] = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
        described["tensorflow"] = tf.__version__
    except ImportError:
        pass
    from forecaster.training.runs import library_versions

    described.update({k: v for k, v in library_versions().items() if k not in described})
    return described


def record(benchmark: str, figures: dict[str, Any], *, out: Path | None = RESULTS) -> None:
    """Print `figures` as one JSON line and append them to `out` (RESULTS.md; None: print only) under the
    machine's description."""
    line = {"benchmark": benchmark, **figures}
    print(json.dumps(line), flush=True)
    if out is None:
        return
    header = "" if out.exists() else "# Measured figures\n\nAppended by the scripts in `benchmarks/` (`make bench`).\n"
    with out.open("a") as handle:
        handle.write(
            f"{header}\n## {benchmark} — {time.strftime('%Y-%m-%d %H:%M')}\n\n"
            f"machine: `{json.dumps(machine())}`\n\n```json\n{json.dumps(figures, indent=1)}\n```\n"
        )
