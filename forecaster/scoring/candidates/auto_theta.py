"""statsforecast's AutoTheta: the Theta model (standard, optimised, dynamic) its in-sample error picks."""

from forecaster.scoring.candidates._statsforecast import fitted

forecast = fitted("AutoTheta")
