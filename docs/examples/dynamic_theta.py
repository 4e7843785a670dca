"""statsforecast's DynamicOptimizedTheta: the Theta method with its theta line and smoothing optimised together."""

from forecaster.scoring.candidates._statsforecast import fitted

forecast = fitted("DynamicOptimizedTheta")
