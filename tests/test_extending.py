"""The worked examples of docs/extending.md are real: each file, dropped into its folder of a copy of the
package, is picked up by its registry and passes the registry's tests."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {  # docs/examples/FILE -> the registry folder it goes into
    "jsonl.py": "forecaster/io/readers",
    "conv.py": "forecaster/models/encoders",
    "dynamic_theta.py": "forecaster/scoring/candidates",
    "dask_one.py": "forecaster/serving/clusters",
}


@pytest.mark.slow
def test_the_worked_examples_plug_in_and_pass_the_registry_tests(tmp_path):
    shutil.copytree(ROOT / "forecaster", tmp_path / "forecaster", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", tmp_path / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")  # the test settings and markers
    for name, folder in EXAMPLES.items():
        shutil.copy(ROOT / "docs" / "examples" / name, tmp_path / folder / name)
    tests = [
        "tests/test_registries.py",
        "tests/test_model.py::test_padded_short_series_equals_the_same_series_unpadded",
        "tests/test_engines.py::test_an_engine_forecasts_every_series_as_local_does",
    ]
    every_tier = "slow or not slow"  # the engine tests are in the slow tier
    chosen = "jsonl or dynamic_theta or conv or dask_one or setting_lists or fallback"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-m", every_tier, "-k", chosen, *tests],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    passed = [line for line in result.stdout.splitlines() if " PASSED" in line]
    for example in ("[jsonl]", "[dynamic_theta]", "-conv]", "[dask_one]"):  # each example ran, and passed
        assert any(example in line for line in passed), result.stdout[-3000:]
