"""A config file (or the API's settings) holds only what an option can say, each in its own section and
checked by its rule, before any work: nothing internal is taken from it, nothing is dropped in silence."""

import subprocess
import sys

import pytest
from cli_helpers import FAST, SINE, invoke

from forecaster.errors import SettingsError
from forecaster.settings import Settings


@pytest.mark.parametrize(
    "content, message",
    [
        ('[model]\nstatic_encoding = ["a", "b"]\n', "[model] static_encoding: not a setting a config can give"),
        ('[train]\ndeterministic = "no"\n', "[train] deterministic: not a setting a config can give"),
        ("[train]\nmax_val_windows = 1\n", "[train] max_val_windows: not a setting a config can give"),
        ("[model]\nhorizon = 12\n", "[model] horizon: horizon is a [window] setting; move it under [window]"),
        ("[model]\nlookback = 48\n", "[model] lookback: lookback is a [window] setting"),
        ("[data]\nlayers = [8]\n", "[data] layers: layers is a [model] setting"),
        ('[tune]\nunits = ["abc"]\n', "[tune] units: each choice must be a whole number of at least 1, got 'abc'"),
        ("[tune]\nunit = [16]\n", "[tune]: unknown key(s) unit"),
        ("[tune]\ndropout = 0.1\n", "[tune] dropout must be a list of 1 to 100 choices"),
        ('[tune]\nloss = ["mse", "l1"]\n', "[tune] loss: each choice must be one of mse, mae, huber, got 'l1'"),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "values nested too deep"),
    ],
)
def test_a_config_holds_only_options_each_checked(sine_csv, tmp_path, content, message):
    config = tmp_path / "config.toml"
    config.write_text(content)
    for command in ("train", "tune"):
        result = invoke(command, sine_csv, *SINE, *FAST[:2], "--config", config, "--out", tmp_path / command)
        assert result.exit_code == 2 and message in result.output, result.output
        assert "Traceback" not in result.output and not (tmp_path / command).exists()


def test_tune_settings_are_refused_before_tensorflow_loads(sine_csv, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[tune]\nunits = ["abc"]\n')
    code = (
        "import sys\nfrom forecaster.cli import main\n"
        f"try:\n    main(['tune', {str(sine_csv)!r}, '--target', 'y', '--time-col', 'time', '--horizon', '6', "
        f"'--config', {str(config)!r}, '--out', {str(tmp_path / 'out')!r}])\n"
        "except SystemExit as done:\n    print('tensorflow' in sys.modules, done.code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False 2", done.stdout + done.stderr


def test_the_api_s_settings_are_held_to_the_same_rules():
    with pytest.raises(SettingsError, match="deterministic: not a setting"):
        Settings.given({}, {"train": {"deterministic": "no"}})
    with pytest.raises(SettingsError, match="units: each choice must be a whole number"):
        Settings.given({}, {"tune": {"units": ["abc"]}})


def test_quantiles_are_capped(sine_csv, tmp_path):
    levels = ",".join(f"{q / 1000:g}" for q in range(1, 1000, 50))  # 20 levels
    result = invoke("train", sine_csv, *SINE, *FAST, "--quantiles", levels, "--out", tmp_path / "run")
    assert result.exit_code == 2 and "an odd number (at most 19)" in result.output, result.output
    assert not (tmp_path / "run").exists()
