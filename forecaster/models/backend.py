"""TensorFlow imported once, quietly, by the CLI and the Python API alike."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def quiet_tensorflow_import() -> None:
    """Import TensorFlow with file descriptor 2 silenced: its C++ start-up lines (oneDNN, CUDA probing)
    ignore TF_CPP_MIN_LOG_LEVEL in TF 2.21 and bury the command's own output. Level 3 also hides the
    `E0000 ... oneDNN supports DT_BOOL only on platforms with AVX-512` line every CPU run printed, which
    looks like an error and is not (set TF_CPP_MIN_LOG_LEVEL=0 to see TensorFlow's C++ log). Real
    failures still surface as Python exceptions.

    Not in a thread while the data is read (tried: 3 s less on 40,000 series): TensorFlow's import is not
    safe against another thread importing meanwhile (a module seen half-made: AttributeError)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf

        tf.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextmanager
def retracing_unsaid() -> Iterator[None]:
    """TensorFlow's retracing warnings held back inside: a refitting backtest loads new networks at every refit and
    a search builds one a trial, each tracing its steps once, by design, which TensorFlow warns of from the fifth
    as if it were a slip (five lines of advice each time). Only that warning; the filter goes on leaving, so the
    process's logging is as it was."""
    logger = logging.getLogger("tensorflow")  # tf.get_logger()'s, without importing TensorFlow for it

    def unsaid(record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()

    logger.addFilter(unsaid)
    try:
        yield
    finally:
        logger.removeFilter(unsaid)
