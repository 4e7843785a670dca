"""Long steps show progress: what is done of how much, the time spent and left, at most a line every few
seconds; the validation guard's statistical fits among them."""

from cli_helpers import SINE, invoke

from forecaster.io import progress
from forecaster.io.progress import Progress


def test_progress_says_done_spent_and_left_at_most_every_few_seconds():
    said, now = [], [0.0]
    step = Progress(said.append, "statistical fits", 100, every=5.0, clock=lambda: now[0])
    for done, at in [(10, 2.0), (20, 5.0), (30, 6.0), (40, 10.5), (100, 30.0)]:
        now[0] = at
        step(done)
    assert said == [
        "  statistical fits: 20 of 100 done (5 s, about 20 s left)",
        "  statistical fits: 40 of 100 done (10 s, about 16 s left)",
    ]  # nothing at 2 s or 6 s (too soon), nothing once all are done


def test_the_guards_statistical_fits_show_progress(sine_csv, tmp_path, monkeypatch):
    monkeypatch.setattr(progress, "EVERY_SECONDS", 0.0)
    options = ["--epochs", "1", "--layers", "8", "--batch-size", "32", "--quiet", "--ensemble", "1"]
    result = invoke("train", sine_csv, *SINE, *options, "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    scoring = next(k for k, line in enumerate(lines) if line.startswith("scoring auto_ets, auto_theta"))
    shown = [line for line in lines[scoring + 1 :] if line.startswith("  statistical fits: ")]
    assert len(shown) >= 10 and shown[0].startswith("  statistical fits: 1 of ")
    assert all(" done (" in line and " s left)" in line for line in shown)
