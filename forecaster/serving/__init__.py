"""Using a run: forecasts, backtests, the exported graph and export."""
