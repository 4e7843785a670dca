"""Safety round four (issue 30): round three's items 13-21 for real, and the new surfaces. Every case ends
in one line, exit code 2, no traceback, and nothing written."""

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from cli_helpers import FAST, SINE, invoke, train
from test_outputs import rehash


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    """A 200-point hourly sine with noise (so its calibration table is not all zeros) and a run on it."""
    root = tmp_path_factory.mktemp("noisy")
    n = 200
    t = np.arange(n)
    values = 10 + np.sin(2 * np.pi * t / 24) + 0.3 * np.random.default_rng(0).standard_normal(n)
    data = root / "sine.csv"
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"), "y": values}).to_csv(data, index=False)
    assert train(data, SINE, root / "run").exit_code == 0
    return data, root / "run"


def _one_line_refusal(result, message):
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output, result.output


# item 17: --config must be a regular file of bounded size
def test_config_must_be_a_regular_file_of_bounded_size(sine_csv, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * (2 << 20) + b"\n")
    for config, message in (("/dev/zero", "not a regular file"), (fifo, "not a regular file"), (big, "over 1 MiB")):
        result = invoke("train", sine_csv, *SINE, *FAST, "--config", config, "--out", tmp_path / "run")
        _one_line_refusal(result, message)
    assert not (tmp_path / "run").exists()


# item 19: tracebacks on odd settings
@pytest.mark.parametrize(
    "content,message",
    [
        (b"data = 5\n", "data must be a table of settings"),
        (b"[model]\ncalendar = 5\n", "--calendar must be"),
        (b'[model]\nuse_cudnn = "maybe"\n', "--use-cudnn must be auto, true or false"),
        (b'[data]\ntarget = "\xff"\n', "not UTF-8 text"),
    ],
)
def test_odd_config_files_are_one_line(sine_csv, tmp_path, content, message):
    config = tmp_path / "bad.toml"
    config.write_bytes(content)
    result = invoke("train", sine_csv, *SINE, *FAST, "--config", config, "--out", tmp_path / "run")
    _one_line_refusal(result, message)
    assert not (tmp_path / "run").exists()


def test_a_seed_past_2_to_the_32_is_refused_before_work(sine_csv, tmp_path):
    result = invoke("train", sine_csv, *SINE, *FAST, "--seed", 2**32, "--out", tmp_path / "run")
    _one_line_refusal(result, "--seed must be a whole number from 0 to 4294967295")


def test_a_file_with_cr_only_line_endings_is_read(sine_csv, tmp_path):
    old_mac = tmp_path / "cr.csv"
    old_mac.write_bytes(sine_csv.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    result = invoke("doctor", old_mac, "--target", "y", "--time-col", "time")
    assert result.exit_code == 0 and "1 series, 200 points, frequency h" in result.output, result.output


# item 16: a grid far larger than the rows is refused before it is allocated, naming the row
def test_one_huge_step_is_refused_before_allocating_the_grid(tmp_path):
    steps = tmp_path / "steps.csv"
    steps.write_text("time,y\n" + "".join(f"{t},{t % 7}\n" for t in range(1, 40)) + "1000000000000,3\n")
    result = invoke("doctor", steps, "--target", "y", "--time-col", "time")
    _one_line_refusal(result, "row 41: series 'series' jumps from 39 to 1000000000000")
    typo = tmp_path / "typo.csv"
    hours = pd.date_range("2026-01-01", periods=300, freq="h").astype(str).tolist()
    hours[-1] = hours[-1].replace("2026", "2260")
    typo.write_text("time,y\n" + "".join(f"{h},{i % 5}\n" for i, h in enumerate(hours)))
    result = invoke("doctor", typo, "--target", "y", "--time-col", "time", "--fill", "interpolate")
    _one_line_refusal(result, "row 301: series 'series' jumps from 2026-01-13 10:00:00 to 2260-01-13 11:00:00")


# item 17's regression: a header with one enormous name
def test_a_header_with_a_two_million_character_name_is_one_line(tmp_path):
    data = tmp_path / "long.csv"
    data.write_text("time," + "x" * 2_000_000 + "\n")
    result = invoke("doctor", data, "--target", "y", "--time-col", "time")
    _one_line_refusal(result, "a column name over 131,072 characters")


def test_a_large_file_without_line_breaks_is_refused_after_one_block(tmp_path):
    sparse = tmp_path / "sparse.csv"
    with open(sparse, "wb") as handle:  # 5 GB of zeros, sparse: refused at the first block, not read whole
        handle.truncate(5 << 30)
    result = invoke("doctor", sparse, "--target", "y")
    _one_line_refusal(result, "not a text CSV file")


# item 13: tampered runs
def _tampered(noisy, tmp_path, damage, level):
    data, good = noisy
    run = tmp_path / "run"
    shutil.copytree(good, run)
    damage(run)
    return invoke("forecast", run, "--data", data, "--out", tmp_path / "fc.csv", *(["--level", "95"] if level else []))


def _edit(run, name, change, unlist=False):
    content = json.loads((run / name).read_text())
    change(content)
    (run / name).write_text(json.dumps(content))
    manifest = rehash(run)
    if unlist:
        manifest["files"].pop(name)
        (run / "manifest.json").write_text(json.dumps(manifest))


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def change(content):
        for key in keys[:-1]:
            content = content[key]
        content[keys[-1]] = value

    return change


TAMPERED = {
    "calibration zeroed and unlisted": (
        lambda run: _edit(
            run, "calibration.json", lambda c: c.update(pooled=np.zeros_like(c["pooled"]).tolist()), True
        ),
        "its manifest does not list calibration.json",
    ),
    "calibration reversed and rehashed": (
        lambda run: _edit(run, "calibration.json", lambda c: c.update(pooled=[r[::-1] for r in c["pooled"]])),
        "a higher level with a narrower band",
    ),
    "selection removed with its entry": (
        lambda run: (
            (run / "selection.json").unlink(),
            _edit(run, "manifest.json", lambda m: m["files"].pop("selection.json")),
        ),
        "its manifest does not list selection.json",
    ),
    "model a symlink out of the run": (
        lambda run: (
            shutil.move(run / "model.keras", run.parent / "elsewhere.keras"),
            (run / "model.keras").symlink_to(run.parent / "elsewhere.keras"),
        ),
        "a symbolic link, not a file of the run",
    ),
    "manifest a list": (lambda run: (run / "manifest.json").write_text("[1,2,3]"), "must be objects"),
    "scalers n_fit text": (lambda run: _edit(run, "scalers.json", _set("series", "n_fit", "abc")), "whole numbers"),
    "scaler with two centers": (
        lambda run: _edit(
            run, "scalers.json", lambda s: s["series"].update(center=[1.0, 2.0], scale=[1.0, 1.0])
        ),  # fmt: skip
        "2 scaler columns, the model 1",
    ),
    "season 0": (lambda run: _edit(run, "config.json", _set("season", 0)), "season '0' is not a whole number"),
    "season -3": (lambda run: _edit(run, "config.json", _set("season", -3)), "season '-3'"),
    "season 1e12": (lambda run: _edit(run, "config.json", _set("season", 10**12)), "season '1000000000000'"),
    "season text": (lambda run: _edit(run, "config.json", _set("season", "x")), "season 'x'"),
    "horizon 9": (
        lambda run: _edit(run, "config.json", _set("run", "window", "horizon", 9)),
        "a horizon of 9, the model takes 24 and forecasts 6",
    ),
    "horizon 14 in both": (
        lambda run: _edit(run, "config.json", lambda c: [c["run"][s].update(horizon=14) for s in ("window", "model")]),
        "a horizon of 14, the model takes 24 and forecasts 6",
    ),
    "lookback 56": (
        lambda run: _edit(run, "config.json", _set("run", "window", "lookback", 56)),
        "windows of 56 steps",
    ),
}


@pytest.mark.parametrize("name", list(TAMPERED))
def test_a_tampered_run_is_a_damaged_run(noisy, tmp_path, name):
    damage, message = TAMPERED[name]
    result = _tampered(noisy, tmp_path, damage, level="calibration" in name)
    _one_line_refusal(result, message)
    assert not (tmp_path / "fc.csv").exists() and not (tmp_path / "fc.png").exists()
