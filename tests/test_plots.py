"""What the plots draw: what serves is the thickest line and is labelled so, the network beside it when another
method serves, and legends beside the axes where they cover no line."""

import re

import pytest
from cli_helpers import SINE, invoke

from forecaster.io import plots

# the network on a tiny budget, the guard left on: on 200 hourly points it has too few windows to serve alone
GUARDED = ["--epochs", "1", "--layers", "8", "--batch-size", "32", "--quiet", "--ensemble", "1"]


@pytest.fixture
def drawn(monkeypatch):
    """Every figure the tool saves, by file name, as drawn (axes, lines, legend)."""
    figures = {}
    save = plots._save

    def keep(plt, fig, path):
        fig.canvas.draw()  # lay the figure out as the file gets it, then read it back before it is closed
        figures[path.name] = [
            {
                "lines": {line.get_label(): line.get_linewidth() for line in ax.get_lines()},
                "legend": ax.get_legend().get_window_extent() if ax.get_legend() else None,
                "axes": ax.get_window_extent(),
            }
            for ax in fig.axes
            if ax.get_visible()
        ]
        save(plt, fig, path)

    monkeypatch.setattr(plots, "_save", keep)
    return figures


@pytest.fixture
def guarded_run(sine_csv, tmp_path, drawn):
    run = tmp_path / "run"
    result = invoke("train", sine_csv, *SINE, *GUARDED, "--holdout", "24", "--out", run)
    assert result.exit_code == 0, result.output
    method = re.search(r"^method: (\w+):", result.output, re.M).group(1)
    assert method != "model", result.output  # 31 validation windows: too few for the network to serve alone
    return sine_csv, run, f"{method.replace('_', ' ')} (served)"


def test_validation_plot_draws_the_method_that_serves_thickest(guarded_run, drawn):
    served = guarded_run[2]
    [axes] = drawn["validation.png"]
    lines = axes["lines"]
    assert lines[served] == plots.SERVED_WIDTH
    assert lines["network (not served)"] == plots.OTHER_WIDTH
    assert max(lines.values()) == plots.SERVED_WIDTH and list(lines.values()).count(plots.SERVED_WIDTH) == 1


def test_backtest_plot_draws_what_serves_thickest_and_the_network_thin(guarded_run, drawn, tmp_path):
    data, run, served = guarded_run
    result = invoke("evaluate", run, "--data", data, "--folds", "3", "--step", "6", "--out", tmp_path / "ev")
    assert result.exit_code == 0, result.output
    [axes] = drawn["backtest.png"]
    lines = axes["lines"]
    assert lines[served] == plots.SERVED_WIDTH
    assert lines["network (not served)"] == plots.OTHER_WIDTH
    assert all(
        width < plots.SERVED_WIDTH for label, width in lines.items() if label != served and not label.startswith("_")
    ), lines


def test_forecast_legend_sits_beside_the_axes_not_on_the_lines(guarded_run, drawn, tmp_path):
    data, run, _ = guarded_run
    result = invoke("forecast", run, "--data", data, "--out", tmp_path / "f.csv", "--level", "80")
    assert result.exit_code == 0, result.output
    [axes] = next(axes for name, axes in drawn.items() if name.startswith(".f.tmp-"))  # written, then renamed
    assert axes["legend"].x0 >= axes["axes"].x1  # right of the plotting area: no line runs under it
    assert {"history", "forecast"} <= set(axes["lines"])


def test_a_network_run_labels_the_network_as_what_serves(sine_csv, tmp_path, drawn):
    result = invoke("train", sine_csv, *SINE, *GUARDED, "--select", "model", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    [axes] = drawn["validation.png"]
    assert axes["lines"]["network"] == plots.SERVED_WIDTH and "network (not served)" not in axes["lines"]
    assert axes["legend"].x0 >= axes["axes"].x1
