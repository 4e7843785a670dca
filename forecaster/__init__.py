"""forecaster: CSV time series in, LSTM forecasts out. `from forecaster import Forecaster` for Python."""

__version__ = "0.1.0"

from forecaster.api import Forecaster  # noqa: E402  (light: TensorFlow loads on first fit or predict)
from forecaster.registration import register_when_keras_loads  # noqa: E402

register_when_keras_loads()  # a keras export loads after `import forecaster` alone

__all__ = ["Forecaster", "__version__"]
