"""statsforecast's AutoCES: complex exponential smoothing (Svetunkov's), the form its information criterion
picks among none, partial, simple and full seasonality. Cheap: under 20 ms a fit on a short yearly or quarterly
series."""

from forecaster.scoring.candidates._statsforecast import fitted

forecast = fitted("AutoCES")
