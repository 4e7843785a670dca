"""The validation guard: a run serves what its validation windows score best among the network, seasonal
naive, the statistical models and their combination, never silently a worse one.

Every candidate forecasts the same validation windows, spread over each series' whole validation part
(as many as STAT_POINT_BUDGET allows: `forecaster.scoring.evidence.spread_windows`), scored by their
scaled absolute error (MASE's). A candidate's score is the mean over series of each series' mean. The
run is served by the combination (the mean of the network's and the statistical models' forecasts)
unless another candidate scores clearly below it on the same windows: more than SELECTION_MARGIN
below, and CLEAR_Z standard errors below (the paired difference's, over blocks of windows:
`forecaster.scoring.evidence.paired_difference`). The network alone is eligible only on
MIN_NETWORK_WINDOWS scored windows or more; on long validation parts it serves as soon as it scores
below the combination (`standard_errors`). In a run with --future columns the statistical models take
them (`forecaster.scoring.statistical.regressed`); a candidate blind to the run's covariates (seasonal
naive; the statistical models to --static columns) needs BLIND_MARGIN.

Why one choice for the panel, anchored on the combination (measured on held-out targets, the last
horizon of each training series: `benchmarks/m3.py --split validation`, `benchmarks/m4.py --split
validation`): the network's validation score is optimistic (early stopping chose its epoch on those
very windows), and the statistical models' is pessimistic (they are fitted on the shorter histories
of the validation origins). On M3 Quarterly the network scored 0.3% better than the combination on
validation, yet 15% worse on the held-out targets; on M3 Other 1.1% better, yet 4% worse; on M4
Weekly (long validation parts) 4.6% better, and 3% better held out. Choosing per series (each
series' own windows, shrunk towards the panel's) followed that noise: Quarterly MASE 1.164 held out,
against 1.081 for the combination everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from forecaster.errors import DamagedRunError
from forecaster.kinds import JSON
from forecaster.scoring.baselines import BASELINES
from forecaster.scoring.evidence import MIN_BLOCKS, Difference, paired_difference
from forecaster.scoring.statistical import STATISTICAL, Known, fit_each

SELECTIONS = ("auto", "model")  # the guard on, or the network alone
SELECTION_MARGIN = 0.03  # how far below the combination's validation MASE another candidate must score
# ... and on fewer than MIN_BLOCKS scored windows (a short series: one to a few validation windows, a standard error
# on few blocks or none): on 61 one-series M3 runs of two samples (benchmarks/guard_study.py --set m3-single
# [--sample 1]) held-out MASE 1.7349 / 1.7220 against 1.7563 / 1.7366 with 3%; 15% scored as 10%, 20% better still
# but 30% worse than 3% on the first sample
FEW_WINDOWS_MARGIN = 0.10
# the network alone needs this many scored windows: on fewer (one short series) its early-stopped
# validation score is too optimistic to serve it alone (30 one-series M3 validation runs, benchmarks/m3.py)
MIN_NETWORK_WINDOWS = 50
# where the validation parts are long (this many horizons of windows per series on average: long series),
# early stopping's choice is a small selection over much data and the latest windows lie far from the
# training part: the network's validation score is then taken as it is (M4 Weekly validation: the network
# 4.6% better than the combination there, 3% better on the held-out targets); on short ones (M3: one to
# four windows a series) it needs the margin
LONG_VALIDATION = 2
COMBINATION = "combination"  # the mean of the network and the statistical models
# standard errors (over blocks of windows) a candidate's paired difference must lie below the combination; and at an
# update (`forecaster update`, a refitting backtest), whose newest windows mostly overlap those its parent was judged
# on, below what the parent served, for another to serve instead: a near tie then keeps the choice
CLEAR_Z = 2.0
# how far below the combination a candidate blind to the run's --future or --static columns must score
BLIND_MARGIN = 0.10
# a method whose forecast of the run's own series would take more than this many seconds (its statistical fits,
# measured in training on its machine), and over COST_RATIO times the network's, is costly: on long validation
# parts (where the network's validation score is not optimistic) it serves only when it scores clearly (CLEAR_Z
# standard errors) below the network alone. A one-series run is never costly (a quarter of a second), a
# large panel of long series is (benchmarks/guard_study.py: the combination costs 340-500 s per 1,000 long series,
# the network under 1 s)
COSTLY_SECONDS = 60.0
COST_RATIO = 10.0
# history points the statistical models are fitted on in validation, over every scored window: AutoETS costs
# about 0.5 ms a point on seasonal data on this 2-core machine, so about 20 s (the hourly 400-series panel
# then scores the latest window of 100 series; M3 every calibration window of every series)
STAT_POINT_BUDGET = 40_000


def candidates(statistical: tuple[str, ...]) -> tuple[str, ...]:
    """What the guard chooses among."""
    return ("model", "seasonal_naive", *statistical, COMBINATION)


def combined(network: np.ndarray, statistical: list[np.ndarray]) -> np.ndarray:
    """The combination: the mean of the network's forecast and the statistical ones that could be made."""
    return np.mean([network, *(made for made in statistical if np.all(np.isfinite(made)))], axis=0)


def served_forecast(
    method: str,
    history: np.ndarray,
    horizon: int,
    season: int,
    network: np.ndarray,
    statistical: tuple[str, ...],
    known: Known = None,
) -> tuple[np.ndarray, str]:
    """The forecast `method` makes after `history` (1-D, oldest first), given the network's forecast
    `network` (horizon,) and the --future columns' values (`Known`), and the method that made it: a
    statistical fit that fails leaves the network's forecast (as in validation, where a failed fit
    scored no window)."""
    made, served = served_forecasts([method], [history], horizon, season, network[None], statistical, [known])
    return made[0], served[0]


def served_forecasts(
    methods: list[str],
    histories: list[np.ndarray],
    horizon: int,
    season: int,
    networks: np.ndarray,
    statistical: tuple[str, ...],
    known: list[Known] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """`served_forecast` for many series (or windows) at once: (forecasts (n, horizon), the method that
    made each), their statistical fits spread over processes (`forecaster.scoring.statistical.fit_each`)."""
    jobs: list[tuple[str, np.ndarray, Known]] = []
    for method, history, columns in zip(methods, histories, known or [None] * len(histories)):
        names = statistical if method == COMBINATION else (method,) if method in STATISTICAL else ()
        jobs += [(name, history, columns) for name in names]
    fitted = iter(fit_each(jobs, horizon, season))
    made, served = np.array(networks, dtype="float64", copy=True), list(methods)
    for k, (method, history) in enumerate(zip(methods, histories)):
        if method in BASELINES:
            made[k] = BASELINES[method](history, horizon, season)
        elif method == COMBINATION:
            made[k] = combined(networks[k], [next(fitted) for _ in statistical])
        elif method in STATISTICAL:
            forecast = next(fitted)
            if np.all(np.isfinite(forecast)):
                made[k] = forecast
            else:
                served[k] = "model"
    return made, served


@dataclass(frozen=True)
class Selection:
    """What serves the run's series, and the validation evidence that decided it."""

    method: str  # the candidate that serves every series the network can forecast
    scores: dict[str, float]  # candidate -> mean over series of their mean scaled error (MASE) on the scored windows
    windows: int  # windows scored per candidate
    series: int  # series with scored windows
    statistical: tuple[str, ...]
    differences: dict[str, tuple[float, float]] = field(default_factory=dict)  # candidate -> (relative, se)
    reason: str = ""  # the rule that decided, in words
    period: str = ""  # the span of the scored windows' origins
    covariates: tuple[str, ...] = ()  # the run's --future and --static columns the served method ignores
    seconds_per_1000: tuple[float, float] | None = None  # forecast cost of 1,000 series: served method, network
    fit_seconds: float = 0.0  # what the statistical fits on the scored windows took
    costs: dict[str, float] = field(default_factory=dict)  # candidate -> forecast seconds per 1,000 series
    against_network: dict[str, tuple[float, float]] = field(default_factory=dict)  # candidate -> (relative, se)

    def to_json(self) -> JSON:
        return {
            "rule": RULE,
            "method": self.method,
            "reason": self.reason,
            "scores": self.scores,
            "differences": {name: list(pair) for name, pair in self.differences.items()},
            "windows": self.windows,
            "series": self.series,
            "period": self.period,
            "statistical": list(self.statistical),
            "covariates_unused": list(self.covariates),
            "seconds_per_1000_series": None if self.seconds_per_1000 is None else list(self.seconds_per_1000),
            "fit_seconds": self.fit_seconds,
            "costs_per_1000_series": self.costs,
            "against_network": {name: list(pair) for name, pair in self.against_network.items()},
        }

    @classmethod
    def from_json(cls, raw: JSON) -> Selection:

        statistical = tuple(str(name) for name in raw.get("statistical", ()))
        method = str(raw.get("method", "model"))
        if not set(statistical) <= set(STATISTICAL) or method not in candidates(statistical):
            raise DamagedRunError("selection.json: unknown methods; retrain the run")
        scores = {str(k): number(v) for k, v in dict(raw.get("scores", {})).items()}
        differences = {str(k): (number(v[0]), number(v[1])) for k, v in dict(raw.get("differences", {})).items()}
        cost = raw.get("seconds_per_1000_series")
        return cls(
            method,
            scores,
            int(raw.get("windows", 0)),
            int(raw.get("series", 0)),
            statistical,
            differences,
            str(raw.get("reason", "")),
            str(raw.get("period", "")),
            tuple(str(c) for c in raw.get("covariates_unused", ())),
            None if cost is None else (float(cost[0]), float(cost[1])),
            float(raw.get("fit_seconds", 0.0)),
            {str(k): number(v) for k, v in dict(raw.get("costs_per_1000_series", {})).items()},
            {str(k): (number(v[0]), number(v[1])) for k, v in dict(raw.get("against_network", {})).items()},
        )


def number(value: object) -> float:
    """A figure as selection.json holds it: null where it was not a finite number (`write_json` writes NaN so: the
    standard error of a difference measured on one block of windows), read back as NaN."""
    return float("nan") if value is None else float(value)  # type: ignore[arg-type]


RULE = (
    f"the combination, unless another candidate scores more than {SELECTION_MARGIN:.0%} below it ({BLIND_MARGIN:.0%} "
    f"for one blind to the run's covariates, {FEW_WINDOWS_MARGIN:.0%} on fewer than {MIN_BLOCKS} windows) and "
    f"{CLEAR_Z:g} standard errors below it on the same windows; the "
    f"network alone only on {MIN_NETWORK_WINDOWS} windows or more, and where validation holds {LONG_VALIDATION} "
    "horizons or more of each series as soon as it scores "
    "below the combination, and there a method whose statistical fits would take over "
    f"{COSTLY_SECONDS:g} s to forecast the run's series serves only {CLEAR_Z:g} standard errors below the network "
    f"alone; an update keeps what the run it updates served unless another scores {CLEAR_Z:g} standard errors below it"
)


def costly(costs: dict[str, float], series: int) -> frozenset[str]:
    """The candidates whose forecast of `series` series would take over COSTLY_SECONDS and cost COST_RATIO times
    the network's (`costs`: candidate -> seconds per 1,000 series)."""
    network = costs.get("model", 0.0)
    return frozenset(n for n, c in costs.items() if c * series / 1000 > COSTLY_SECONDS and c > COST_RATIO * network)


def margin(name: str, long_validation: bool, blind: frozenset[str], windows: int = MIN_BLOCKS) -> float:
    """How far below the combination `name` must score to serve instead, decided on `windows` scored windows."""
    if name in blind:
        return BLIND_MARGIN
    if name == "model" and long_validation:
        return 0.0
    return FEW_WINDOWS_MARGIN if windows < MIN_BLOCKS else SELECTION_MARGIN


def standard_errors(name: str, long_validation: bool) -> float:
    """How many standard errors below the combination `name` must score: CLEAR_Z, but none for the network
    on long validation parts, where its validation score is not optimistic and the choice between it and
    the combination is a choice between two forecasts that both see everything (on the validation splits
    of M4 Weekly, EPF NP and PJM, the network did better held out whenever it scored below on validation)."""
    return 0.0 if name == "model" and long_validation else CLEAR_Z


@dataclass(frozen=True)
class Verdict:
    """`choose`'s answer: the method, every candidate's score and paired difference, and why, in words."""

    method: str
    scores: dict[str, float]
    differences: dict[str, Difference]
    reason: str
    against_network: dict[str, Difference] = field(default_factory=dict)  # where the network alone is eligible


def choose(
    errors: dict[str, np.ndarray],
    series_idx: np.ndarray,
    origins: np.ndarray | None = None,
    long_validation: bool = False,
    blind: frozenset[str] = frozenset(),
    costs: dict[str, float] | None = None,
    series_count: int | None = None,
    standing: str | None = None,
) -> Verdict:
    """The candidate that serves the panel (`RULE`). `long_validation`: the series' validation parts hold
    LONG_VALIDATION horizons of windows on average; the network then needs no margin over the combination.
    `blind`: candidates that ignore the run's covariates. `costs`: candidate -> forecast seconds per 1,000
    series; on long validation parts a `costly` one (for the run's `series_count` series; default: those scored)
    must also score clearly below the network alone. `standing`: what the run an update renews served; it serves
    on unless the candidate chosen scores CLEAR_Z standard errors below it (see CLEAR_Z).

    errors: candidate -> (windows,) scaled mean absolute error of each scored window (NaN: no forecast);
    series_idx, origins: (windows,) the window's series and origin (origins order a series' windows into
    blocks; default: as given). A candidate's score is the mean over series of each series' mean (a window
    a candidate could not forecast counts as the worst any candidate did there).
    """
    origins = np.arange(len(series_idx)) if origins is None else origins
    names = list(errors)
    table = np.stack([errors[name] for name in names], axis=1)  # (windows, candidates)
    table = np.where(np.isfinite(table), table, np.nanmax(np.where(np.isfinite(table), table, np.nan), axis=1,
                     keepdims=True))  # fmt: skip
    series = np.unique(series_idx)
    means = np.stack([table[series_idx == s].mean(axis=0) for s in series])  # (series, candidates)
    scores = {name: round(float(score), 6) for name, score in zip(names, means.mean(axis=0))}
    anchor = table[:, names.index(COMBINATION)]
    differences = {
        name: paired_difference(table[:, k], anchor, series_idx, origins)
        for k, name in enumerate(names)
        if name != COMBINATION
    }
    eligible = [name for name in differences if name != "model" or len(series_idx) >= MIN_NETWORK_WINDOWS]
    clear = [
        n
        for n in eligible
        if differences[n].clearly_below(
            margin(n, long_validation, blind, len(series_idx)), standard_errors(n, long_validation)
        )
    ]
    method = min(clear, key=scores.__getitem__) if clear else COMBINATION
    reason = explain(method, differences, len(series_idx), long_validation, blind)
    against_network = {}
    if "model" in eligible:
        network = table[:, names.index("model")]
        against_network = {
            name: paired_difference(table[:, k], network, series_idx, origins)
            for k, name in enumerate(names)
            if name != "model"
        }
    worth = against_network.get(method)
    expensive = costly(costs or {}, len(series) if series_count is None else series_count)
    if long_validation and method in expensive and worth and not worth.clearly_below(0.0, CLEAR_Z):
        reason = too_costly(method, worth, costs or {})
        method = "model"
    # the parent's choice can stand where it could be chosen afresh (eligible, and not too costly)
    can_stand = standing in eligible + [COMBINATION] and not (long_validation and standing in expensive)
    if standing is not None and standing != method and can_stand:
        versus = paired_difference(table[:, names.index(method)], table[:, names.index(standing)], series_idx, origins)
        if not versus.clearly_below(0.0, CLEAR_Z):
            reason = why_kept(standing, method, versus)
            method = standing
    return Verdict(method, scores, differences, reason, against_network)


def why_kept(standing: str, method: str, versus: Difference) -> str:
    """Why an update's run serves what the run it updates served (`standing`) instead of `method`."""
    return (
        f"{standing} still serves, as it did in the run updated: {method} scored {versus.words()} it on the newest "
        f"windows, not {CLEAR_Z:g} standard errors below"
    )


def too_costly(method: str, versus: Difference, costs: dict[str, float]) -> str:
    """Why the network alone serves instead of a costly `method` that did not score clearly below it."""
    return (
        f"{method} scored {versus.words()} the network alone, not {CLEAR_Z:g} standard errors below it as a method "
        f"costing {costs[method]:,.0f} s per 1,000 series (the network alone {costs['model']:,.1f} s) must"
    )


def explain(
    method: str, differences: dict[str, Difference], windows: int, long_validation: bool, blind: frozenset[str]
) -> str:
    """The rule that decided, in words: what the served candidate scored against the combination, or why
    none replaced it; and when the network alone did better but could not serve, why."""
    if method != COMBINATION:
        need = needs(method, long_validation, blind, differences[method], windows)
        words = f"{method} scored {differences[method].words()} the combination ({need})"
    else:
        best = min(differences, key=lambda name: differences[name].relative)
        words = f"no candidate scored clearly below the combination (best: {best} {differences[best].words()} it"
        eligible = best != "model" or windows >= MIN_NETWORK_WINDOWS
        words += f"; it needed {needs(best, long_validation, blind, differences[best], windows)})" if eligible else ")"
    model = differences.get("model")
    if method != "model" and model is not None and model.relative < 0 and windows < MIN_NETWORK_WINDOWS:
        words += f"; the network alone is not eligible on {windows} windows: it needs {MIN_NETWORK_WINDOWS}"
    return words


def needs(
    name: str,
    long_validation: bool,
    blind: frozenset[str],
    difference: Difference | None = None,
    windows: int = MIN_BLOCKS,
) -> str:
    """What `name` must score to replace the combination, decided on `windows` windows, in words (`difference`: its
    own, whose standard error may be unknown: then the margin alone)."""
    need, z = margin(name, long_validation, blind, windows), standard_errors(name, long_validation)
    if name in blind:
        qualifier = ", being blind to the run's covariates"
    else:
        qualifier = f", on fewer than {MIN_BLOCKS} windows" if need and windows < MIN_BLOCKS else ""
    if not need and not z:
        return f"any amount below, validation holding {LONG_VALIDATION} horizons or more of each series"
    if difference is not None and not np.isfinite(difference.se):
        return f"{need:.0%} below{qualifier}: the margin alone, one block of windows giving no standard error"
    return (f"{need:.0%} below and " if need else "") + f"{z:g} standard errors{qualifier}"
