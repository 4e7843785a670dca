"""Files in and out: reading CSV, writing outputs safely, plots."""
