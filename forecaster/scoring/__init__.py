"""Scores: metrics, baselines (a registry), the validation scorer and conformal calibration."""
