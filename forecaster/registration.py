"""Keras finds the classes of a saved model only once they are registered, i.e. once their module is
imported. So that `import forecaster` alone lets `keras.saving.load_model` read a keras export (or a
run's model.keras) without loading TensorFlow at `import forecaster`, the registering modules are
imported right after Keras itself is, whenever that happens."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from typing import Any

REGISTERING = ("forecaster.models.layers", "forecaster.models.network", "forecaster.serving.graph")


def register_when_keras_loads() -> None:
    if "keras" in sys.modules:
        register()
    elif not any(isinstance(finder, KerasWatcher) for finder in sys.meta_path):
        sys.meta_path.insert(0, KerasWatcher())


def register() -> None:
    if any(initializing(name) for name in list(sys.modules) if name.startswith("forecaster.")):
        return  # one of ours is importing Keras itself: it imports what it needs the usual way
    for name in REGISTERING:
        importlib.import_module(name)


def initializing(name: str) -> bool:
    """Whether the module `name` is still running its own import."""
    spec = getattr(sys.modules.get(name), "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


class KerasWatcher(importlib.abc.MetaPathFinder):
    """Finds `keras` as the other finders do, then registers our classes once the module has run.
    (A mere lookup, as TensorFlow makes to see whether Keras is installed, leaves it watching.)"""

    def __init__(self) -> None:
        self.looking = False

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "keras" or self.looking:
            return None
        self.looking = True
        try:
            spec = importlib.util.find_spec("keras")
        finally:
            self.looking = False
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run_keras = loader.exec_module

        def exec_module(module: Any) -> None:
            run_keras(module)
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            register()

        loader.exec_module = exec_module
        return spec
