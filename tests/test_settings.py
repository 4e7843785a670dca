"""The settings a user gave travel as one read-only `Settings` object, by section, checked when made."""

import dataclasses

import pytest

from forecaster.errors import SettingsError
from forecaster.settings import Settings


def test_each_option_goes_to_its_section_over_the_config_files_and_is_checked():
    config = {"data": {"target": "y", "time_col": "t"}, "window": {"horizon": 3}, "tune": {"units": [32, 64]}}
    settings = Settings.given({"horizon": 6, "layers": [16, 16], "features": "date, hour", "seed": None}, config)
    assert dict(settings.data) == {"target": "y", "time_col": "t", "features": ("date", "hour")}
    assert dict(settings.window) == {"horizon": 6} and dict(settings.model) == {"layers": (16, 16)}
    assert "seed" not in settings.train and dict(settings.tune) == {"units": [32, 64]}
    assert settings.build("data").target == "y" and settings.build("data").features == ("date", "hour")
    with pytest.raises(SettingsError, match="unknown option"):
        Settings.given({"lookbak": 10})
    with pytest.raises(SettingsError, match="horizon"):
        Settings.given({"horizon": 0})


def test_settings_cannot_change_and_a_changed_copy_leaves_them_as_they_were():
    settings = Settings.given({"target": "y", "horizon": 6})
    with pytest.raises(TypeError):
        settings.data["target"] = "z"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.data = {}  # type: ignore[misc]
    quiet = settings.with_values("train", verbose=0).with_defaults("window", {"horizon": 1, "lookback": 24})
    assert dict(quiet.train) == {"verbose": 0} and dict(quiet.window) == {"horizon": 6, "lookback": 24}
    assert dict(settings.train) == {} and dict(settings.window) == {"horizon": 6}
    assert dict(quiet.without("window").window) == {} and Settings.given({}, quiet) == quiet
