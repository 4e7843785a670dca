"""forecaster: CSV time series in, LSTM forecasts out."""

__version__ = "0.1.0"
