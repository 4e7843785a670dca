"""The README and the documentation pages say only what is so: every `forecaster` command they show names a
real command and real options, every `make` target exists, every Python block compiles, and the site
builds without a warning (`make docs`). The Python that needs a trained run is run as written: the README's
session and the API page's by `tests/test_api.py::test_readme_python_session_runs_as_written`, the export
page's by `test_the_export_pages_python_runs_as_written_and_gives_the_forecast`."""

import re
from pathlib import Path

import click
import pytest

from forecaster.cli import main

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)
INLINE = re.compile(r"`(forecaster (?:doctor|train|update|tune|forecast|evaluate|export)\b[^`]*)`")


def commands(text):
    """Every `forecaster CMD ...` the text shows: the lines of shell blocks (continuations joined, comments
    cut) and inline code spans."""
    for kind, body in BLOCK.findall(text):
        if kind in ("bash", "sh", "shell", ""):
            for line in body.replace("\\\n", " ").splitlines():
                line = line.split(" # ")[0].strip()
                if line.startswith("forecaster "):
                    yield line
    yield from INLINE.findall(text)


def options_of(command):
    return {name for param in command.params if isinstance(param, click.Option) for name in param.opts}


def shown(find):
    """(page name, item) for each item `find(text)` gives on each page: what the tests below check, one case each."""
    return [(page.name, item) for page in PAGES for item in find(page.read_text())]


COMMANDS = shown(commands)
TARGETS = shown(lambda text: re.findall(r"`make ([a-z][\w-]*)", text) + re.findall(r"^make ([a-z][\w-]*)", text, re.M))
PYTHON = shown(lambda text: [body for kind, body in BLOCK.findall(text) if kind == "python"])
INSTALLS = shown(lambda text: re.findall(r"pip install [^`\n]*", text))


def test_the_pages_show_commands_targets_python_and_installs():
    """Each check below has something to check, the README's own among them."""
    for found in (COMMANDS, TARGETS, PYTHON, INSTALLS):
        assert len(found) >= 3 and "README.md" in {page for page, _ in found}, found[:3]


@pytest.mark.parametrize(("page", "line"), COMMANDS)
def test_every_command_shown_names_a_real_command_and_real_options(page, line):
    name = line.split()[1]
    assert name in main.commands, f"{page}: {line}"
    known = options_of(main.commands[name])
    for option in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", line):
        assert option in known, f"{page}: {option} is not an option of `forecaster {name}`: {line}"


@pytest.mark.parametrize(("page", "target"), TARGETS)
def test_every_make_target_shown_exists(page, target):
    assert target in set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M)), (
        f"{page}: make {target}"
    )


@pytest.mark.parametrize(("page", "block"), PYTHON)
def test_every_python_block_compiles(page, block):
    compile(block, page, "exec")


def test_the_site_lists_every_page_and_the_readme_links_only_pages_that_exist():
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in (ROOT / "docs").glob("*.md"):
        assert f": {page.name}" in nav, f"{page.name} is not in mkdocs.yml's nav"
    for link in re.findall(r"\]\((docs/[^)#]+)", (ROOT / "README.md").read_text()):
        assert (ROOT / link).is_file(), link


@pytest.mark.slow
def test_make_docs_builds_the_site_with_no_warning(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1", "PATH": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "site" / "extending" / "index.html").is_file()


@pytest.mark.parametrize(("page", "line"), INSTALLS)
def test_every_install_line_installs_this_project(page, line):
    """`pip install 'forecaster[...]'` would fetch an unrelated package that owns that name on the index:
    every install line names the checkout (`-e .`) or our distribution, forecaster-lstm."""
    assert "-e '." in line or "forecaster-lstm" in line, f"{page}: {line}"


@pytest.mark.slow
def test_the_export_pages_python_runs_as_written_and_gives_the_forecast(tmp_path, monkeypatch, capsys):
    """docs/export.md's commands and its SavedModel and ONNX Python blocks, run as written in a folder laid out
    as the checkout (the bundled CO2 data, `make demo`'s run trained on a small budget): each block prints
    the first four numbers `forecaster forecast` wrote."""
    import shutil

    import numpy as np
    import pandas as pd
    from cli_helpers import invoke

    text = (ROOT / "docs" / "export.md").read_text()
    (tmp_path / "data").mkdir()
    shutil.copy(ROOT / "data" / "co2_weekly.csv", tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    demo = ["--target", "co2", "--time-col", "date", "--horizon", "52", "--fill", "interpolate"]
    small = ["--epochs", "1", "--layers", "8", "--ensemble", "1", "--select", "model", "--quiet"]
    assert invoke("train", "data/co2_weekly.csv", *demo, *small, "--out", "models/co2_weekly").exit_code == 0
    assert invoke("forecast", "models/co2_weekly", "--data", "data/co2_weekly.csv").exit_code == 0
    expected = pd.read_csv("models/co2_weekly/forecast.csv")["forecast"].to_numpy()[:4]
    shown = list(commands(text))
    assert any("--format onnx" in line for line in shown)
    for line in shown:
        if line.startswith("forecaster export models/"):  # the shell blocks' commands, not the usage line
            result = invoke(*line.split()[1:])
            assert result.exit_code == 0, (line, result.output)
    blocks = [body for kind, body in BLOCK.findall(text) if kind == "python"]
    assert len(blocks) == 2
    for body in blocks:
        capsys.readouterr()
        exec(compile(body, "docs/export.md", "exec"), {})  # noqa: S102
        printed = np.array(capsys.readouterr().out.strip(" []\n").split(), dtype=float)
        np.testing.assert_allclose(printed, expected, rtol=1e-5)


def test_the_api_pages_python_session_is_the_readmes_which_a_test_runs():
    session = re.compile(r"<!-- python-session -->\s*```python\n(.*?)```", re.S)
    readme, api = (session.search(page.read_text()) for page in (ROOT / "README.md", ROOT / "docs" / "api.md"))
    assert readme and api and readme.group(1) == api.group(1)


@pytest.mark.slow
def test_the_covariates_pages_bundled_example_runs_as_written(tmp_path, monkeypatch):
    """docs/covariates.md's commands on the bundled bike-share files, as written (default budget), in a folder
    laid out as a clone: train, backtest 12 weeks with their known columns, forecast the next week from its
    future file; the forecast covers exactly that week."""
    import shutil

    import pandas as pd
    from cli_helpers import invoke

    text = (ROOT / "docs" / "covariates.md").read_text()
    (tmp_path / "data").mkdir()
    for name in ("bikes_daily.csv", "bikes_next_week.csv"):
        shutil.copy(ROOT / "data" / name, tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    shown = [line for line in commands(text) if "data/bikes_daily.csv" in line]
    assert [line.split()[1] for line in shown] == ["train", "evaluate", "forecast"]
    for line in shown:
        result = invoke(*line.split()[1:])
        assert result.exit_code == 0, (line, result.output)
    forecast = pd.read_csv("models/bikes/next_week.csv")
    week = pd.read_csv("data/bikes_next_week.csv")
    assert forecast["date"].tolist() == week["date"].tolist() and forecast["forecast"].notna().all()
    assert {"lo_80", "hi_80"} <= set(forecast.columns)
    windows = pd.read_csv("models/bikes/evaluation/forecasts.csv")
    assert len(windows) == 12 * 7
