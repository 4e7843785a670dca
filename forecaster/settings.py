"""The settings a user gave, by config section: the CLI's options over a config file's, or the Python API's
keyword arguments. Each value is checked by its option's rule (`forecaster.config.SETTING_RULES`) when the
`Settings` are made, and they cannot change after: a changed copy is made with `with_values`.

What was not given is absent, not filled with its default: a default may depend on the data (the panel
defaults, the lookback, the epochs), and `forecaster.data.resolve.resolve_config` fills it in when the run is
resolved against the panel, into the complete, typed `RunConfig`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, overload

from forecaster.config import (
    LIST_SETTINGS,
    SECTION_CLASSES,
    SECTIONS,
    DataConfig,
    ModelConfig,
    TrainConfig,
    WindowConfig,
    _build,
    check_settings,
    check_tune_table,
)
from forecaster.errors import SettingsError
from forecaster.kinds import Options

SECTION_NAMES = (*SECTION_CLASSES, "tune")  # tune: the search space's lists (forecaster.training.tune)

Values = Mapping[str, Any]  # a section's settings by name, as given: each checked by its option's rule


def _frozen(values: Values | None = None) -> Values:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True)
class Settings:
    """The given settings of each section (`data`, `window`, `model`, `train`, `tune`), read-only."""

    data: Values = field(default_factory=_frozen)
    window: Values = field(default_factory=_frozen)
    model: Values = field(default_factory=_frozen)
    train: Values = field(default_factory=_frozen)
    tune: Values = field(default_factory=_frozen)

    @classmethod
    def given(cls, options: Values, base: Settings | Mapping[str, Values] | None = None) -> Settings:
        """`base` (a config file's sections, or Settings) overridden by the `options` that are not None, each
        option in its section (`config.SECTIONS`); an unknown option or a value its rule refuses is refused."""
        sections = {name: dict(values) for name, values in _sections(base).items()}
        unknown = [name for name in options if name not in SECTIONS]
        if unknown:
            raise SettingsError(f"unknown option(s) {', '.join(sorted(unknown))}; known: {', '.join(SECTIONS)}")
        for name, value in options.items():
            if value is not None:
                sections[SECTIONS[name]][name] = tuple(value) if isinstance(value, list) else value
        if not isinstance(base, Settings):  # a config file's sections: only what an option can say, each in its own
            for section, values in sections.items():
                for name in values:
                    if section != "tune" and SECTIONS.get(name) != section:
                        raise SettingsError(misplaced(section, name))
        check_tune_table(sections["tune"])
        for values in sections.values():  # features = "date" is the list ("date",), not the letters d, a, t, e
            for name, value in values.items():
                if name in LIST_SETTINGS and isinstance(value, str):
                    values[name] = tuple(part.strip() for part in value.split(",") if part.strip())
        check_settings({name: values for name, values in sections.items() if name != "tune"})
        return cls(**{name: _frozen(values) for name, values in sections.items()})

    @classmethod
    def of_run(cls, config: Mapping[str, Values]) -> Settings:
        """The options a run's resolved config (config.json's sections) holds; what was resolved from the data
        and is no option (the calendar's step, the embedding's rows) is resolved again from the data."""
        return cls.given({}, {name: {k: v for k, v in values.items() if SECTIONS.get(k) == name}
                              for name, values in config.items()})  # fmt: skip

    def section(self, name: str) -> Values:
        return getattr(self, name)

    def with_values(self, section: str, **values: object) -> Settings:
        """A copy with these values set in `section` (None removes one: not given)."""
        merged = {**self.section(section), **values}
        return self._replaced(section, {name: value for name, value in merged.items() if value is not None})

    def with_defaults(self, section: str, defaults: Values) -> Settings:
        """A copy with `defaults` under what was given in `section`."""
        return self._replaced(section, {**defaults, **self.section(section)})

    def without(self, section: str) -> Settings:
        """A copy with nothing given in `section`."""
        return self._replaced(section, {})

    @overload
    def build(self, section: Literal["data"]) -> DataConfig: ...
    @overload
    def build(self, section: Literal["window"]) -> WindowConfig: ...
    @overload
    def build(self, section: Literal["model"]) -> ModelConfig: ...
    @overload
    def build(self, section: Literal["train"]) -> TrainConfig: ...

    def build(self, section: str) -> DataConfig | WindowConfig | ModelConfig | TrainConfig:
        """The section's config dataclass (`DataConfig`, ...) from what was given, its defaults for the rest."""

        return _build(SECTION_CLASSES[section], dict(self.section(section)))

    def as_dict(self) -> dict[str, Options]:
        """Plain dicts by section (what a config file holds)."""
        return {name: dict(self.section(name)) for name in SECTION_NAMES}

    def _replaced(self, section: str, values: Values) -> Settings:
        if section not in SECTION_NAMES:
            raise KeyError(section)
        return Settings(**{name: _frozen(values) if name == section else self.section(name) for name in SECTION_NAMES})


def _sections(base: Settings | Mapping[str, Values] | None) -> dict[str, Values]:
    if isinstance(base, Settings):
        return {name: base.section(name) for name in SECTION_NAMES}
    sections: dict[str, Values] = {name: {} for name in SECTION_NAMES}
    sections.update(base or {})
    return sections


def misplaced(section: str, name: str) -> str:
    """Why `name` in the config's [section] is refused: it belongs to another section, or is no option."""
    shown = name if len(name) <= 40 else name[:37] + "..."
    if name in SECTIONS:
        return f"[{section}] {shown}: {shown} is a [{SECTIONS[name]}] setting; move it under [{SECTIONS[name]}]"
    own = [option for option, where in SECTIONS.items() if where == section]
    return f"[{section}] {shown}: not a setting a config can give; [{section}] takes {', '.join(own)}"
