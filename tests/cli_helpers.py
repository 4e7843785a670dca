"""What the CLI tests share: one way to invoke the CLI, and the option sets of the fixture files."""

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from click.testing import CliRunner

from forecaster.cli import main

# the network alone (--select model): these tests follow the network; tests/test_selection.py covers the guard
FAST = ["--epochs", "1", "--layers", "8", "--batch-size", "32", "--quiet", "--ensemble", "1", "--select", "model"]
# the 200-point hourly sine (conftest `sine_csv`) and the three-series daily panel (`panel_csv`)
SINE = ["--target", "y", "--time-col", "time", "--horizon", "6", "--lookback", "24"]
PANEL = ["--target", "y", "--time-col", "time", "--id-col", "id", "--horizon", "5", "--lookback", "56"]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@contextmanager
def tensorflow_warnings() -> Iterator[list[str]]:
    """What TensorFlow's Python logger says inside (its own handler writes to the stderr it found at import,
    which pytest's capture does not see)."""
    said: list[str] = []
    heard = logging.Handler()
    heard.emit = lambda record: said.append(record.getMessage())  # type: ignore[method-assign]
    tensorflow = logging.getLogger("tensorflow")
    tensorflow.addHandler(heard)
    try:
        yield said
    finally:
        tensorflow.removeHandler(heard)


@contextmanager
def python_warnings(category: type[Warning] = Warning) -> Iterator[list[str]]:
    """The messages of the Python warnings of `category` raised inside, every time one is raised; deprecations
    left out (they speak to developers, not to the user at the terminal)."""
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        said: list[str] = []
        yield said
    deprecations = (DeprecationWarning, PendingDeprecationWarning)
    said.extend(
        str(w.message) for w in warned if issubclass(w.category, category) and not issubclass(w.category, deprecations)
    )


def train(data, options, out, *extra):
    """`forecaster train DATA OPTIONS --out OUT` on a tiny budget; returns click's result."""
    return invoke("train", data, *options, *extra, *FAST, "--out", out)


def dead_pid():
    """The id of a process that has ended: what a killed command's staging names carry."""
    import subprocess
    import sys

    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True).stdout)
