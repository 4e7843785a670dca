"""Training runs and hyperparameter search: train, tune (chief and workers), resume, run directories."""
