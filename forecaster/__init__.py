"""forecaster: CSV time series in, LSTM forecasts out. `from forecaster import Forecaster` for Python;
`forecaster.load_keras(path)` reads a `--format keras` export."""

from forecaster.api import Forecaster, load_keras  # light: TensorFlow loads on first fit, predict or load
from forecaster.version import __version__

__all__ = ["Forecaster", "load_keras", "__version__"]
