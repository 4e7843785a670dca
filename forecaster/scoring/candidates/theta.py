"""statsforecast's Theta: the standard Theta method (Assimakopoulos and Nikolopoulos, the M3 competition's best),
its smoothing fitted, its theta fixed at 2. The default in place of AutoTheta on panels of short series
(`forecaster.data.resolve.weighed_models`), else on request."""

from forecaster.scoring.candidates._statsforecast import fitted

forecast = fitted("Theta")
