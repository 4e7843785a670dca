"""`forecaster --help` wall time (it imports neither TensorFlow nor pandas): the median of 7 runs."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from results import record  # noqa: E402


def main() -> None:
    command = [str(Path(sys.executable).parent / "forecaster"), "--help"]
    times = []
    for _ in range(7):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    record("startup", {"command": "forecaster --help", "median_s": statistics.median(times), "max_s": max(times)})


if __name__ == "__main__":
    main()
