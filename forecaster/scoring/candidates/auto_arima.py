"""statsforecast's AutoARIMA: seasonal ARIMA by its stepwise search. Slow on long seasonal series (3 s a fit on
150 monthly points, over 100 s at season 52), about a tenth of a second on a short yearly or quarterly one: a
default only on short yearly or quarterly-like series (`forecaster.data.resolve.weighed_models`), else on request
(`--statistical auto_ets,auto_theta,auto_arima`)."""

from forecaster.scoring.candidates._statsforecast import fitted

forecast = fitted("AutoARIMA")
