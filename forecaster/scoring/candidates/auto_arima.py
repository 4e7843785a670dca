"""statsforecast's AutoARIMA: seasonal ARIMA by its stepwise search. Slow (3 s a fit on 150 monthly points,
over 100 s at season 52): only on request (`--statistical auto_ets,auto_theta,auto_arima`)."""

from forecaster.scoring.candidates._statsforecast import fitted

forecast = fitted("AutoARIMA")
