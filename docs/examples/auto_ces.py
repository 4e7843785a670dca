"""statsforecast's AutoCES: complex exponential smoothing, its model picked by information criterion."""

from forecaster.scoring.candidates._statsforecast import fitted

forecast = fitted("AutoCES")
