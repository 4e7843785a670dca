"""forecaster: CSV time series in, LSTM forecasts out. `from forecaster import Forecaster` for Python."""

from forecaster.api import Forecaster  # light: TensorFlow loads on first fit or predict
from forecaster.registration import register_when_keras_loads
from forecaster.version import __version__

register_when_keras_loads()  # a keras export loads after `import forecaster` alone

__all__ = ["Forecaster", "__version__"]
