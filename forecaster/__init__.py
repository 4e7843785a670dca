"""forecaster: CSV time series in, LSTM forecasts out. `from forecaster import Forecaster` for Python."""

__version__ = "0.1.0"

from forecaster.api import Forecaster  # noqa: E402  (light: TensorFlow loads on first fit or predict)

__all__ = ["Forecaster", "__version__"]
