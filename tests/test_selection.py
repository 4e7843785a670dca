"""The validation guard (a series is served by what its validation windows score best, said and
labelled) and training sized to the data."""

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import invoke

from forecaster.config import RunConfig
from forecaster.data.resolve import sized_training
from forecaster.io.files import write_json
from forecaster.scoring.evidence import blocks, paired_difference, spread_windows
from forecaster.scoring.selection import Selection, choose
from forecaster.scoring.statistical import STATISTICAL

MONTHLY = ["--target", "sales", "--time-col", "month", "--horizon", "12", "--quiet"]
WEAK_NETWORK = ["--epochs", "1", "--layers", "4", "--ensemble", "1", "--learning-rate", "0.0001"]


@pytest.fixture
def trending_csv(tmp_path):
    """150 months of a trend times a season with a little noise: easy for ETS and Theta, hard for a
    network given one epoch."""
    rng = np.random.default_rng(1)
    t = np.arange(150)
    sales = (100 + 0.8 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) * np.exp(rng.normal(0, 0.03, len(t)))
    path = tmp_path / "sales.csv"
    months = pd.date_range("2000-01-01", periods=len(t), freq="MS").strftime("%Y-%m-%d")
    pd.DataFrame({"month": months, "sales": sales.round(2)}).to_csv(path, index=False)
    return path


def test_a_series_the_network_loses_on_is_served_by_the_better_method_and_labelled(trending_csv, tmp_path):
    run = tmp_path / "run"
    result = invoke("train", trending_csv, *MONTHLY, *WEAK_NETWORK, "--holdout", "24", "--out", run)
    assert result.exit_code == 0, result.output
    selection = json.loads((run / "selection.json").read_text())
    chosen = selection["method"]
    assert chosen != "model" and selection["scores"][chosen] < selection["scores"]["model"]
    assert f"method: {chosen}: " in result.output and "validation windows of 1 series" in result.output

    out = tmp_path / "fc.csv"
    result = invoke("forecast", run, "--data", trending_csv, "--out", out, "--level", "80")
    assert result.exit_code == 0, result.output
    assert f"1 series forecast by {chosen}: {selection['reason']}" in result.output
    frame = pd.read_csv(out)
    assert (frame["method"] == chosen).all()
    assert np.all(frame["lo_80"] < frame["forecast"]) and np.all(frame["forecast"] < frame["hi_80"])
    if chosen in STATISTICAL:  # what the statistical model makes from the whole history, exactly
        history = pd.read_csv(trending_csv)["sales"].to_numpy("float64")
        np.testing.assert_allclose(frame["forecast"], STATISTICAL[chosen](history, 12, 12))

    result = invoke("evaluate", run, "--data", trending_csv, "--folds", "2", "--out", tmp_path / "eval")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert report["overall"]["served"]["mase"] < report["overall"]["model"]["mase"]  # what forecast writes, scored

    result = invoke("export", run, "--out", tmp_path / "export")
    assert result.exit_code == 0 and "this export serves the network's forecast" in result.output
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert manifest["method"] == chosen and "served" in manifest


def test_select_model_serves_the_network_alone(trending_csv, tmp_path):
    run = tmp_path / "run"
    result = invoke("train", trending_csv, *MONTHLY, *WEAK_NETWORK, "--select", "model", "--out", run)
    assert result.exit_code == 0 and "method:" not in result.output
    assert invoke("forecast", run, "--data", trending_csv, "--out", tmp_path / "fc.csv").exit_code == 0
    assert (pd.read_csv(tmp_path / "fc.csv")["method"] == "model").all()


def test_training_is_sized_to_the_number_of_windows():
    few, note = sized_training({}, 97, 1, 8)
    assert few["batch_size"] == 16 and few["epochs"] == 58  # 7 steps an epoch, at least 400 steps
    assert "sized to few windows" in note and "batch 16 (7 steps an epoch)" in note
    many, note = sized_training({}, 100_000, 1, 8)  # an epoch samples 20,000 windows: 157 full batches
    assert many["batch_size"] == 128 and many["epochs"] == 30 and "sized" not in note
    given, note = sized_training({"batch_size": 128, "epochs": 5}, 97, 1, 8)
    assert given["batch_size"] == 128 and given["epochs"] == 5 and "as given" in note
    assert sized_training({}, 20, 1, 8)[0]["batch_size"] == 16  # never below 16 windows a batch


def test_a_panel_of_many_series_samples_twice_the_windows_an_epoch():
    from forecaster.data.resolve import EPOCH_WINDOWS, WIDE_PANEL, WIDE_PANEL_EPOCH_WINDOWS

    wide, note = sized_training({}, 237_260, n_series=WIDE_PANEL, lookback=104)
    assert wide["max_windows_per_epoch"] == WIDE_PANEL_EPOCH_WINDOWS == 40_000 and wide["batch_size"] == 128
    assert "40,000 sampled an epoch: batch 128 (313 steps an epoch)" in note
    narrow, _ = sized_training({}, 237_260, n_series=WIDE_PANEL - 1, lookback=104)
    assert narrow["max_windows_per_epoch"] == EPOCH_WINDOWS == 20_000
    given, _ = sized_training({"max_windows_per_epoch": 5_000}, 237_260, n_series=414, lookback=104)
    assert given["max_windows_per_epoch"] == 5_000  # what is given stays


def test_the_combination_serves_unless_another_candidate_scores_clearly_better():
    series_idx = np.array([0, 0, 0, 1])  # series 0: three windows, series 1: one; each series counts once
    errors = {
        "model": np.array([1.0, 1.0, 1.0, 0.9]),
        "auto_ets": np.array([2.0, 2.0, np.nan, 1.0]),  # a failed fit counts as that window's worst: 1.0
        "combination": np.array([1.0, 1.0, 1.0, 0.94]),
    }
    verdict = choose(errors, series_idx)
    method, scores = verdict.method, verdict.scores
    assert scores["model"] == pytest.approx(0.95) and scores["combination"] == pytest.approx(0.97)
    assert scores["auto_ets"] == pytest.approx((5 / 3 + 1.0) / 2)
    assert method == "combination"  # the network is 2% better: within the margin
    errors["model"] = np.array([0.9, 0.9, 0.9, 0.9])
    few = choose(errors, series_idx)
    assert few.method == "combination"  # 7% better, but on 4 windows: too few for it alone
    assert "the network alone is not eligible on 4 windows: it needs 50" in few.reason
    many = {name: np.tile(values, 13) for name, values in errors.items()}  # 52 windows
    assert choose(many, np.tile(series_idx, 13)).method == "model"


def test_scored_windows_are_spread_over_each_series_whole_validation_part():
    series_idx, origins = np.repeat(np.arange(5), 40), np.tile(np.arange(100, 140), 5)
    cost = np.full(200, 400.0)
    assert len(spread_windows(series_idx, origins, cost, 10**6)) == 200  # everything fits
    rows = spread_windows(series_idx, origins, cost, 5 * 4 * 400)  # four windows a series
    assert list(origins[rows[:4]]) == [100, 113, 126, 139]  # the first, the latest and evenly between
    assert list(series_idx[rows]) == list(np.repeat(np.arange(5), 4))
    few = spread_windows(series_idx, origins, cost, 3 * 400)  # not one window a series: evenly spaced series
    assert list(series_idx[few]) == [0, 2, 4]
    assert len(set(origins[few])) == 3  # one window each, staggered in time rather than all the latest


def test_a_difference_is_clear_only_against_the_spread_of_its_blocks():
    rng = np.random.default_rng(0)
    origins = np.arange(200)
    series_idx = np.zeros(200, dtype=int)
    assert len(np.unique(blocks(series_idx, origins))) == 10  # one series: ten stretches of 20 windows
    assert len(np.unique(blocks(np.arange(200) % 20, origins))) == 20  # 20 series: a block each
    anchor = 1 + rng.normal(0, 0.05, 200)
    steady = paired_difference(anchor - 0.05, anchor, series_idx, origins)  # 5% better on every window
    assert steady.relative == pytest.approx(-0.05, abs=1e-3) and steady.se < 1e-9
    assert steady.clearly_below(0.03, 2.0) and steady.words() == "5.0% ± 0.0% below"
    # 5% better on average, but all of it in one stretch of the period: the blocks disagree
    lumpy = anchor - np.where(origins < 20, 0.5, 0.0)
    uneven = paired_difference(lumpy, anchor, series_idx, origins)
    assert uneven.relative == pytest.approx(-0.05, abs=1e-3) and uneven.se > 0.04
    assert not uneven.clearly_below(0.03, 2.0)


def test_months_with_gaps_are_monthly_and_the_real_gap_is_named(tmp_path):
    months = pd.date_range("1949-01-01", periods=60, freq="MS").delete([2, 3, 4])
    path = tmp_path / "gaps.csv"
    pd.DataFrame({"date": months.strftime("%Y-%m-%d"), "y": np.arange(len(months))}).to_csv(path, index=False)
    options = ["--target", "y", "--time-col", "date", "--horizon", "6"]
    result = invoke("train", path, *options, "--out", tmp_path / "run")
    assert result.exit_code == 2 and "3 missing or empty value(s) from 1949-03-01" in result.output
    result = invoke("doctor", path, *options, "--fill", "interpolate")
    assert result.exit_code == 0 and "frequency MS" in result.output and "filled 3 missing" in result.output
    quarters = pd.date_range("1990-03-31", periods=40, freq="QE-DEC").delete([5])
    pd.DataFrame({"date": quarters.strftime("%Y-%m-%d"), "y": np.arange(39)}).to_csv(path, index=False)
    result = invoke("train", path, *options, "--out", tmp_path / "run")
    assert result.exit_code == 2 and "1 missing or empty value(s) from 1991-06-30" in result.output


def test_on_long_validation_parts_the_network_needs_no_margin_over_the_combination():
    series_idx = np.repeat(np.arange(10), 6)  # 60 windows
    errors = {"model": np.full(60, 0.98), "auto_ets": np.full(60, 1.2), "combination": np.full(60, 1.0)}
    short = choose(errors, series_idx)
    assert short.method == "combination"  # 2% better: within the margin on short series
    assert short.reason.startswith("no candidate scored clearly below the combination (best: model 2.0% ± 0.0% below")
    assert "it needed 3% below and 2 standard errors" in short.reason
    long = choose(errors, series_idx, long_validation=True)
    assert long.method == "model"
    assert long.reason == (
        "model scored 2.0% ± 0.0% below the combination (any amount below, validation holding 2 horizons or more of "
        "each series)"
    )


def test_a_costly_method_serves_only_clearly_below_the_network_alone():
    rng = np.random.default_rng(0)
    series_idx = np.repeat(np.arange(20), 5)  # 100 windows: the network alone is eligible
    network = 1.0 + rng.normal(0, 0.3, 100)
    errors = {"model": network, "auto_ets": network + 0.5, "combination": network - 0.01 + rng.normal(0, 0.1, 100)}
    cheap = {"model": 2.0, "seasonal_naive": 2.0, "auto_ets": 40.0, "combination": 50.0}
    costs = {**cheap, "auto_ets": 400.0, "combination": 500.0}
    panel = {"long_validation": True, "series_count": 1000}  # the fits of 1,000 series: minutes
    assert choose(errors, series_idx, costs=cheap, **panel).method == "combination"  # cheap fits
    # short validation parts: the network's validation score is optimistic, the cost rule does not apply
    assert choose(errors, series_idx, costs=costs).method == "combination"
    one = {"long_validation": True, "series_count": 1}  # one series: half a second of fits, whatever the ratio
    assert choose(errors, series_idx, costs=costs, **one).method == "combination"
    verdict = choose(errors, series_idx, costs=costs, **panel)
    assert verdict.method == "model"  # about 1% below the network, within its noise: not worth 250 times the time
    assert verdict.reason.startswith("combination scored ")
    assert verdict.reason.endswith("the network alone, not 2 standard errors below it as a method costing 500 s "
                                   "per 1,000 series (the network alone 2.0 s) must")  # fmt: skip
    errors["combination"] = network - 0.2  # clearly below the network: worth its cost
    assert choose(errors, series_idx, costs=costs, **panel).method == "combination"
    few = np.repeat(np.arange(10), 3)  # 30 windows: the network alone is not eligible, nor is the cost rule
    short = {name: values[:30] for name, values in errors.items()}
    short["combination"] = short["model"] - 0.01
    assert choose(short, few, costs=costs, **panel).method == "combination"


def test_an_update_keeps_what_its_parent_served_unless_another_scores_clearly_below_it():
    rng = np.random.default_rng(1)
    series_idx = np.repeat(np.arange(20), 5)  # 100 windows on long validation parts: the network needs no margin
    network = 1.0 + rng.normal(0, 0.3, 100)
    near = {"model": network, "auto_ets": network + 0.5, "combination": network - 0.005 + rng.normal(0, 0.1, 100)}
    panel = {"long_validation": True}
    assert choose(near, series_idx, **panel).method == "combination"  # afresh: slightly below the network
    kept = choose(near, series_idx, standing="model", **panel)
    assert kept.method == "model"  # a near tie keeps the parent's choice
    assert kept.reason.startswith("model still serves, as it did in the run updated: combination scored ")
    assert kept.reason.endswith(" below it on the newest windows, not 2 standard errors below")
    clear = {**near, "combination": network - 0.2}
    assert choose(clear, series_idx, standing="model", **panel).method == "combination"  # clearly below: it serves
    assert choose(near, series_idx, standing="combination", **panel).method == "combination"  # the same choice
    tie = {**near, "combination": network + 0.025 + rng.normal(0, 0.1, 100)}
    assert choose(tie, series_idx, **panel).method == "model"
    assert choose(tie, series_idx, standing="combination", **panel).method == "combination"
    few = np.repeat(np.arange(10), 3)  # 30 windows: the network alone is not eligible, so it cannot stand
    short = {name: values[:30] for name, values in tie.items()}
    assert choose(short, few, standing="model", **panel).method == "combination"


def test_on_one_validation_window_a_wider_margin_alone_decides(tmp_path):
    """A short series: one validation window, no standard error; on fewer than 10 windows a candidate must score
    10% below the combination (3% on more)."""
    one = lambda value: np.array([value])  # noqa: E731
    errors = {"model": one(1.2), "seasonal_naive": one(1.5), "auto_ets": one(1.05), "auto_theta": one(0.85),
              "combination": one(1.0)}  # fmt: skip
    verdict = choose(errors, np.array([0]))
    assert verdict.method == "auto_theta"
    assert verdict.reason == (
        "auto_theta scored 15.0% below the combination (10% below, on fewer than 10 windows: the margin alone, one "
        "block of windows giving no standard error)"
    )
    errors["auto_theta"] = one(0.95)  # 5% below: within the margin on one window
    assert choose(errors, np.array([0])).method == "combination"
    ten = {name: np.repeat(values, 10) for name, values in errors.items()}  # ten windows, 5% below on each
    assert choose(ten, np.zeros(10, dtype=int)).method == "auto_theta"
    four = {name: np.repeat(values, 4) for name, values in errors.items()}
    within = choose(four, np.zeros(4, dtype=int))
    assert within.method == "combination"
    assert "it needed 10% below and 2 standard errors, on fewer than 10 windows" in within.reason

    differences = {name: (d.relative, d.se) for name, d in verdict.differences.items()}
    selection = Selection(verdict.method, verdict.scores, 1, 1, ("auto_ets", "auto_theta"), differences)
    path = tmp_path / "selection.json"
    write_json(path, selection.to_json())  # one block of windows: no standard error, written as null
    again = Selection.from_json(json.loads(path.read_text()))
    assert again.method == "auto_theta" and again.scores == verdict.scores
    assert np.isnan(again.differences["auto_theta"][1]) and again.differences["auto_theta"][0] == pytest.approx(-0.15)


def test_a_run_decided_on_one_validation_window_forecasts(tmp_path):
    """14 years, 6 ahead: one validation window, whose differences have no standard error (null in selection.json):
    the run reads back and forecasts (it was refused as corrupt)."""
    values = [1339.9, 1569.7, 1751.9, 1824.5, 2091.1, 2277.0, 2560.2, 2615.3, 2745.0, 2993.3, 3101.1, 3300.4,
              3528.7, 3610.2]  # fmt: skip
    data = tmp_path / "yearly.csv"
    years = [f"{1975 + k}-01-01" for k in range(len(values))]
    pd.DataFrame({"time": years, "value": values}).to_csv(data, index=False)
    options = ["--target", "value", "--time-col", "time", "--horizon", "6", "--epochs", "2", "--ensemble", "1"]
    assert invoke("train", data, *options, "--quiet", "--out", tmp_path / "run").exit_code == 0
    assert json.loads((tmp_path / "run" / "selection.json").read_text())["windows"] == 1
    result = invoke("forecast", tmp_path / "run", "--data", data, "--out", tmp_path / "forecast.csv")
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "forecast.csv")) == 6


def test_a_candidate_blind_to_the_covariates_needs_a_wider_margin():
    series_idx = np.repeat(np.arange(10), 6)
    errors = {"model": np.full(60, 1.1), "seasonal_naive": np.full(60, 0.94), "combination": np.full(60, 1.0)}
    assert choose(errors, series_idx).method == "seasonal_naive"  # 6% better: serves a run without covariates
    blind = choose(errors, series_idx, blind=frozenset({"seasonal_naive"}))
    assert blind.method == "combination"  # a --future or --static run: 6% is not enough for a blind one
    assert "it needed 10% below and 2 standard errors, being blind to the run's covariates" in blind.reason


@pytest.mark.slow
def test_many_statistical_fits_spread_over_processes_give_the_same_numbers(monkeypatch):
    """fit_each in two spawned workers equals the fits one at a time, in order (a failed fit stays NaN)."""
    from forecaster.scoring import statistical

    rng = np.random.default_rng(3)
    histories = [10 + np.sin(np.arange(120) * 2 * np.pi / 12) + rng.normal(0, 0.3, 120) for _ in range(40)]
    histories[5] = np.array([1.0])  # too short to fit: NaN
    jobs = [(name, history, None) for history in histories for name in ("auto_ets", "auto_theta")]
    one_at_a_time = [STATISTICAL[name](history, 6, 12) for name, history, _ in jobs]
    with statistical.fit_processes(2):
        spread = statistical.fit_each(jobs, 6, 12)
    np.testing.assert_array_equal(np.array(spread), np.array(one_at_a_time))
    assert np.isnan(spread[10]).all() and np.isfinite(spread[0]).all()


def test_a_long_series_is_decided_on_its_whole_validation_period_not_its_last_days():
    """One long series: the network is better over most of the validation period, seasonal naive over its
    last 100 windows (four days of hourly origins). The latest windows alone would serve seasonal naive;
    windows spread over the whole period serve the network."""
    origins = np.arange(5000, 7000)
    series_idx = np.zeros(len(origins), dtype=int)
    last_days = origins >= 6900
    errors = {
        "model": np.where(last_days, 1.6, 0.8) + 0.01 * np.sin(origins),
        "seasonal_naive": np.where(last_days, 0.5, 1.3),
        "combination": np.ones(len(origins)),
    }
    rows = spread_windows(series_idx, origins, np.full(len(origins), 400.0), 40_000)  # the guard's budget
    assert len(rows) == 100 and origins[rows].min() == 5000 and origins[rows].max() == 6999
    spread = choose({name: e[rows] for name, e in errors.items()}, series_idx[rows], origins[rows], True)
    assert spread.method == "model"
    latest = np.argsort(origins)[-100:]
    assert choose(
        {name: e[latest] for name, e in errors.items()}, series_idx[latest], origins[latest], True
    ).method == ("seasonal_naive")


@pytest.mark.slow
def test_a_future_run_s_statistical_candidates_take_the_future_columns(tmp_path):
    """The target is driven by a known column that is not seasonal: blind models cannot follow it.
    The statistical candidates, given the column, score far below seasonal naive, a blind candidate
    does not serve, and the served forecast moves with the known values given for the horizon."""
    rng = np.random.default_rng(4)
    n, horizon = 1200, 24
    driver = np.zeros(n + horizon)
    for t in range(1, n + horizon):
        driver[t] = 0.9 * driver[t - 1] + rng.normal(0, 1)
    hours = np.arange(n + horizon)
    target = 50 + 4 * driver + np.sin(2 * np.pi * hours / 24) + rng.normal(0, 0.3, n + horizon)
    times = pd.date_range("2020-01-01", periods=n + horizon, freq="h").strftime("%Y-%m-%d %H:%M")
    frame = pd.DataFrame({"time": times, "load": driver.round(3), "price": target.round(3)})
    frame.loc[n:, "price"] = np.nan  # the horizon's known load, its price to come
    path, shifted = tmp_path / "prices.csv", tmp_path / "shifted.csv"
    frame.to_csv(path, index=False)
    frame.assign(load=frame["load"] + np.where(np.arange(n + horizon) >= n, 10.0, 0.0)).to_csv(shifted, index=False)
    options = ["--target", "price", "--time-col", "time", "--horizon", str(horizon), "--future", "load", "--quiet"]
    run = tmp_path / "run"
    result = invoke("train", path, *options, *WEAK_NETWORK, "--out", run)
    assert result.exit_code == 0, result.output
    selection = json.loads((run / "selection.json").read_text())
    scores = selection["scores"]
    assert scores["auto_ets"] < 0.5 * scores["seasonal_naive"] and scores["auto_theta"] < 0.5 * scores["seasonal_naive"]
    assert selection["method"] != "seasonal_naive" and not selection["covariates_unused"]
    forecasts = []
    for data in (path, shifted):
        out = tmp_path / f"{data.stem}-forecast.csv"
        assert invoke("forecast", run, "--data", data, "--out", out).exit_code == 0
        forecasts.append(pd.read_csv(out)["forecast"].to_numpy())
    if selection["method"] != "model":  # 10 more load: about 40 more price from each statistical member
        assert np.mean(forecasts[1] - forecasts[0]) > 10


def test_the_explanation_lines_say_the_rule_that_decided():
    from forecaster.training.summary import selection_lines

    base = {"scores": {"model": 0.9, "combination": 1.0, "seasonal_naive": 1.2}, "windows": 120, "series": 1,
            "period": "from 2016-03-01 to 2016-12-16 (290 days)", "seconds_per_1000_series": [412.0, 3.0],
            "fit_seconds": 24.2}  # fmt: skip
    served = selection_lines({**base, "method": "combination", "reason": "no candidate scored clearly below ..."})
    assert served[0] == "method: combination: no candidate scored clearly below ..."
    assert served[1].startswith(
        "  decided on 120 validation windows of 1 series, origins from 2016-03-01 to 2016-12-16 (290 days), their "
        "statistical fits 24 s (MASE: model 0.900"
    )
    assert any("1,000 series with combination takes about 412 s" in line for line in served)
    assert served[-1] == "  for the network alone, train with --select model"
    network = selection_lines({**base, "method": "model", "reason": "model scored 10.0% ± 2.0% below the combination"})
    assert not any("--select model" in line or "1,000 series" in line for line in network)
    blind = selection_lines({**base, "method": "seasonal_naive", "reason": "...", "covariates_unused": ["region"]})
    assert "  note: seasonal_naive does not see region: they are unused" in blind


def test_the_columns_a_served_method_ignores_are_named():
    from forecaster.config import DataConfig, ModelConfig, RunConfig, WindowConfig
    from forecaster.scoring.validation import blind_candidates, unused_covariates

    def config(**data):
        window, model = WindowConfig(horizon=6, lookback=12), ModelConfig(lookback=12, horizon=6)
        return RunConfig(DataConfig(target="y", **data), window, model)

    cfg = config(future=("load",), static=("region",))
    assert blind_candidates(cfg) == {"seasonal_naive", "auto_ets", "auto_theta"}
    assert unused_covariates("seasonal_naive", cfg) == ("load", "region")
    assert unused_covariates("auto_ets", cfg) == ("region",)  # it takes the --future column
    assert unused_covariates("combination", cfg) == () and unused_covariates("model", cfg) == ()
    assert blind_candidates(config()) == frozenset()


def test_a_forecast_that_statistics_will_make_slow_says_so_first():
    from forecaster.scoring.selection import Selection
    from forecaster.serving.forecast import cost_note

    class Run:
        def __init__(self, selection):
            self._selection = selection

        def selection(self):
            return self._selection

    served = Selection("combination", {}, 100, 1, ("auto_ets", "auto_theta"), seconds_per_1000=(120.0, 2.0))
    assert cost_note(Run(served), 400) is None  # 48 s: under a minute
    note = cost_note(Run(served), 40_000)
    assert note.startswith("40,000 series served by combination: about 80 min of statistical fits")
    assert "--engine" in note and "--select model" in note
    assert cost_note(Run(Selection("model", {}, 100, 1, (), seconds_per_1000=(2.0, 2.0))), 10**6) is None


def test_the_regression_on_known_columns_follows_them():
    from forecaster.scoring.statistical import known_columns, regressed

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 1))
    y = 100 + 5 * x[:, 0]
    values = np.column_stack([y, x])
    past, ahead = known_columns(values, 276, 24, 1)
    assert past.shape == (276, 1) and ahead.shape == (24, 1)
    residual, effect = regressed(y[:276], (past, ahead), 24)
    np.testing.assert_allclose(effect, 5 * x[276:, 0], atol=1e-8)
    np.testing.assert_allclose(residual, 100, atol=1e-8)  # the level kept, the column's effect taken out
    assert regressed(y[:276], (past, ahead[:10]), 24) is None  # the horizon's values incomplete: no fit
    assert known_columns(values, 276, 24, 0) is None


def test_the_span_of_the_scored_origins_is_said_in_dates_or_steps():
    from types import SimpleNamespace

    from forecaster.data.series import Series
    from forecaster.scoring.validation import origin_period

    hourly = Series("a", pd.Timestamp("2016-01-01"), "h", np.zeros((9000, 1)))
    panel = SimpleNamespace(series=[hourly, Series("b", 0, "int:1", np.zeros((50, 1)))])
    assert origin_period(panel, [0], np.array([0, 0]), np.array([1658, 8616])) == (
        "from 2016-03-10 02:00:00 to 2016-12-25 (290 days)"
    )
    assert origin_period(panel, [0], np.array([0]), np.array([48])) == "2016-01-03 only"
    assert origin_period(panel, [1], np.array([0, 0]), np.array([7, 40])) == "from steps 7 to 40"


@pytest.mark.parametrize(
    "series,length,horizon,given,expected",
    [
        (200, 400, 48, None, True),  # a wide panel of hourly series: lookback 192 (two days, four horizons)
        (199, 400, 48, None, False),  # one series fewer: not wide
        (200, 400, 24, None, False),  # lookback 96: a short window
        (200, 400, 48, False, False),  # --no-linear-skip is kept
        (1, 400, 48, True, True),  # --linear-skip is kept
    ],
)
def test_wide_panels_of_long_windows_get_the_linear_path(series, length, horizon, given, expected):
    cfg = hourly_panel_config(series, length, horizon, {} if given is None else {"linear_skip": given})
    assert cfg.model.linear_skip is expected
    assert cfg.window.lookback == (192 if horizon == 48 else 96)


@pytest.mark.parametrize(
    "series,horizon,given,expected",
    [
        (200, 48, None, 4e-3),  # a wide panel of hourly series read through 192 hours: M4 Hourly's step
        (199, 48, None, 1e-3),  # one series fewer: not wide
        (200, 24, None, 2e-3),  # lookback 96: a short window keeps the wide panel's step (M4 Weekly lost at 0.003)
        (200, 48, 1e-3, 1e-3),  # --learning-rate is kept
    ],
)
def test_wide_panels_of_long_windows_take_a_larger_step_still(series, horizon, given, expected):
    cfg = hourly_panel_config(series, 400, horizon, {} if given is None else {"learning_rate": given})
    assert cfg.train.learning_rate == expected


@pytest.mark.parametrize(
    "series,horizon,given,layers,members,windows",
    [
        (200, 48, {}, (128, 128), 2, 28_000),  # a wide panel read through 192 hours: M4 Hourly's two wider members
        (199, 48, {}, (64, 64), 3, 20_000),  # one series fewer: not wide
        (200, 24, {}, (64, 64), 3, 40_000),  # lookback 96: a wide panel's network (as M4 Weekly's)
        (200, 48, {"layers": (64,), "ensemble": 4}, (64,), 4, 28_000),  # --layers and --ensemble are kept
        (200, 48, {"max_windows_per_epoch": 40_000}, (128, 128), 2, 40_000),  # --max-windows-per-epoch too
    ],
)
def test_wide_panels_of_long_windows_train_two_wider_members(series, horizon, given, layers, members, windows):
    cfg = hourly_panel_config(series, 400, horizon, given)
    assert (cfg.model.layers, cfg.model.ensemble, cfg.train.max_windows_per_epoch) == (layers, members, windows)


def test_train_says_the_windows_an_epoch_its_wide_panel_of_long_windows_trains_on():
    from forecaster.data.resolve import LONG_PANEL_EPOCH_WINDOWS, resolve_config
    from forecaster.training.train import prepare, training_note

    panel, settings = hourly_panel(200, 400, {"horizon": 48})
    cfg = resolve_config(settings, panel)[0]
    note = training_note(settings, panel, cfg, prepare(panel, cfg))
    steps = -(-LONG_PANEL_EPOCH_WINDOWS // cfg.train.batch_size)
    assert cfg.train.max_windows_per_epoch == LONG_PANEL_EPOCH_WINDOWS
    assert f"{LONG_PANEL_EPOCH_WINDOWS:,} sampled an epoch: batch 128 ({steps} steps an epoch)" in note


@pytest.mark.parametrize(
    "series,horizon,season,given,expected",
    [
        (200, 48, 24, None, True),  # a wide panel whose 192-hour windows hold 8 days: as M4 Hourly, where it won
        (199, 48, 24, None, False),  # one series fewer: not wide (the 126 ETTh1 pieces lost)
        (200, 24, 24, None, False),  # 96-hour windows hold 4 days (M4 Weekly's windows held 4 seasons: it lost)
        (200, 48, 1, None, False),  # no season to take out
        (200, 48, 24, False, False),  # --no-season-norm is kept
        (1, 48, 24, True, True),  # --season-norm is kept
    ],
)
def test_wide_panels_whose_windows_hold_many_seasons_take_them_out(series, horizon, season, given, expected):
    options = {"season": season} if given is None else {"season": season, "season_norm": given}
    cfg = hourly_panel_config(series, 400, horizon, options)
    assert cfg.model.season_norm is expected
    assert cfg.model.season_steps == season


@pytest.mark.parametrize(
    "series,horizon,season,given,expected",
    [
        (200, 48, 24, None, "level"),  # deseasonalised windows of 192 steps: as M4 Hourly, where it won
        (199, 48, 24, None, "window"),  # not wide: the panel default
        (200, 24, 24, None, "window"),  # 96-hour windows hold 4 days: not deseasonalised (as M4 Weekly's)
        (200, 8, 4, None, "window"),  # deseasonalised windows of 32 steps (as M3 Quarterly's 28: its MASE lost)
        (200, 48, 24, "window", "window"),  # --loss-scale is kept
        (1, 48, 24, None, "series"),  # one series
    ],
)
def test_wide_panels_of_long_seasoned_windows_weigh_errors_by_the_level(series, horizon, season, given, expected):
    options = {"season": season} if given is None else {"season": season, "loss_scale": given}
    cfg = hourly_panel_config(series, 400, horizon, options)
    assert cfg.train.loss_scale == expected


def hourly_panel_config(series: int, length: int, horizon: int, given: dict) -> RunConfig:
    """The configuration `train` resolves for `series` hourly series of `length` points with a daily cycle."""
    from forecaster.data.resolve import resolve_config

    panel, settings = hourly_panel(series, length, {"horizon": horizon, **given})
    return resolve_config(settings, panel)[0]


def hourly_panel(series: int, length: int, given: dict):
    """`series` hourly series of `length` points with a daily cycle, and `train`'s settings for them."""
    from forecaster.config import DataConfig
    from forecaster.data.panel import read_panel
    from forecaster.settings import Settings

    t = np.arange(length)
    frame = pd.DataFrame(
        {
            "id": np.repeat([f"s{k}" for k in range(series)], length),
            "time": np.tile(pd.date_range("2024-01-01", periods=length, freq="h"), series),
            "y": np.tile(10 + np.sin(2 * np.pi * t / 24), series),
        }
    )
    panel = read_panel(frame, DataConfig(target="y", time_col="time", id_col="id"))
    options = {"target": "y", "time_col": "time", "id_col": "id", "season": 24, **given}
    return panel, Settings.given(options)


@pytest.mark.parametrize(
    "series,given,expected",
    [
        (200, None, 2e-3),  # a wide panel: the larger step that won on M4 Hourly, M4 Weekly, M3 Yearly and Quarterly
        (199, None, 1e-3),  # one series fewer: Adam's usual step (M3 Other's 174 series lost with a larger one)
        (1, None, 1e-3),
        (200, 5e-4, 5e-4),  # --learning-rate is kept
    ],
)
def test_wide_panels_train_with_a_larger_step(series, given, expected):
    from forecaster.config import DataConfig
    from forecaster.data.panel import read_panel
    from forecaster.data.resolve import resolve_config
    from forecaster.settings import Settings

    frame = pd.DataFrame(
        {
            "id": np.repeat([f"s{k}" for k in range(series)], 120),
            "time": np.tile(pd.date_range("2024-01-01", periods=120, freq="D"), series),
            "y": np.tile(10 + np.sin(2 * np.pi * np.arange(120) / 7), series),
        }
    )
    panel = read_panel(frame, DataConfig(target="y", time_col="time", id_col="id"))
    options = {"target": "y", "time_col": "time", "id_col": "id", "horizon": 7}
    if given is not None:
        options["learning_rate"] = given
    cfg, _ = resolve_config(Settings.given(options), panel)
    assert cfg.train.learning_rate == expected


@pytest.mark.parametrize(
    "series,length,season,given,expected",
    [
        (2, 200, 4, None, ("auto_ets", "theta", "auto_arima", "auto_ces")),  # short quarterly-like: four models
        (2, 200, 1, None, ("auto_ets", "theta", "auto_arima", "auto_ces")),  # short, no season (M3 Yearly, Other)
        (2, 201, 4, None, ("auto_ets", "auto_theta")),  # one point longer: AutoARIMA grows costly, unmeasured
        (2, 200, 12, None, ("auto_ets", "auto_theta")),  # a longer season: likewise
        (1, 100, 4, None, ("auto_ets", "auto_theta", "auto_arima", "auto_ces")),  # one series: AutoTheta (measured)
        (2, 100, 4, ("auto_ets",), ("auto_ets",)),  # --statistical is kept
    ],
)
def test_short_series_weigh_four_statistical_models(series, length, season, given, expected):
    options = {"season": season} if given is None else {"season": season, "statistical": given}
    cfg = hourly_panel_config(series, length, 8, options)
    assert cfg.train.statistical == expected


def test_a_short_quarterly_panel_weighs_four_statistical_models_through_the_cli(tmp_path):
    rng = np.random.default_rng(3)
    quarters = pd.date_range("2000-01-01", periods=40, freq="QS").strftime("%Y-%m-%d")
    rows = []
    for k in range(3):
        t = np.arange(40)
        values = (50 + k * 10 + 0.5 * t) * (1 + 0.1 * np.sin(np.pi * t / 2)) + rng.normal(0, 0.5, 40)
        rows.append(pd.DataFrame({"id": f"s{k}", "quarter": quarters, "y": values.round(2)}))
    path = tmp_path / "quarterly.csv"
    pd.concat(rows).to_csv(path, index=False)
    run = tmp_path / "run"
    options = ["--target", "y", "--time-col", "quarter", "--id-col", "id", "--horizon", "4", "--quiet"]
    result = invoke("train", path, *options, *WEAK_NETWORK, "--out", run)
    assert result.exit_code == 0, result.output
    assert json.loads((run / "config.json").read_text())["run"]["train"]["statistical"] == [
        "auto_ets", "theta", "auto_arima", "auto_ces"
    ]  # fmt: skip
    selection = json.loads((run / "selection.json").read_text())
    assert {"theta", "auto_arima", "auto_ces", "combination"} <= set(selection["scores"])
    out = tmp_path / "fc.csv"
    result = invoke("forecast", run, "--data", path, "--out", out)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert len(frame) == 12 and (frame["method"] == selection["method"]).all() and frame["forecast"].notna().all()
