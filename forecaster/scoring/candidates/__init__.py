"""Statistical candidates of the validation guard: each module here is one, by one function
`forecast(history, horizon, season, known=None) -> forecast` (NaN where it cannot fit). Adding a candidate
is adding a module: its file name is its `--statistical` choice (`forecaster.config.STATISTICAL` lists this
folder; a leading _ keeps a module out)."""
