"""statsforecast's AutoETS: the exponential smoothing model (error, trend, season) its information criterion picks."""

from forecaster.scoring.candidates._statsforecast import fitted

forecast = fitted("AutoETS")
