"""From a file to series: the panel (validation, regular grid, gaps), season, calendar, scaling, windows."""
