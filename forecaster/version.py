"""The package version, which every run and export manifest records."""

__version__ = "0.1.0"
