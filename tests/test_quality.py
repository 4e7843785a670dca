"""Quality thresholds: slow, run with `make test-slow`."""

import json

import pytest
from click.testing import CliRunner

from forecaster.cli import main


@pytest.mark.slow
def test_demo_beats_seasonal_naive_on_validation(tmp_path):
    run = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        [
            "train",
            "data/co2_weekly.csv",
            "--target",
            "co2",
            "--time-col",
            "date",
            "--horizon",
            "52",
            "--fill",
            "interpolate",
            "--quiet",
            "--out",
            str(run),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((run / "metrics.json").read_text())
    assert report["model"]["mase"] < report["seasonal_naive"]["mase"]
