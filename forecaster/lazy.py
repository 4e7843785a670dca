"""Modules loaded on first use. `forecaster --help` and `import forecaster` load neither numpy, pandas nor
TensorFlow: the CLI and the `Forecaster` class name the heavy modules they use at their top, where the
layering test reads every dependency, and each loads when a command or method first reaches into it.

    train = lazy_module("forecaster.training.train")   # nothing loads here
    train.train_run(...)                                # the module loads here, once
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """A stand-in for the module `name` that imports it on the first attribute read and hands every read on."""

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attribute)

    def __repr__(self) -> str:
        return f"<module {self.__name__!r}, loaded on first use>"


def lazy_module(name: str) -> ModuleType:
    """The module `name`, imported when one of its attributes is first read (an import error surfaces there)."""
    return LazyModule(name)
