"""Typed configuration: what a run is made of, resolved once and saved as JSON in the run directory."""

from __future__ import annotations

import dataclasses
import math
import pkgutil
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar

from forecaster.errors import SettingsError
from forecaster.kinds import JSON, Options

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

SCALERS = ("standard", "minmax", "robust", "none")
TRANSFORMS = ("none", "log")  # of the target before its scaler (`forecaster.data.scaling.AffineScaler`)
LOSSES = ("mse", "mae", "huber")
FILL_POLICIES = ("error", "interpolate", "ffill")
SINGLE_SERIES_ID = "series"  # the id of a file without --id-col (one series), or of a wide file's one column
CELLS = tuple(  # the encoder modules (forecaster/models/encoders/NAME.py), listed without importing them
    sorted((m.name for m in pkgutil.iter_modules([str(Path(__file__).parent / "models" / "encoders")])
            if not m.name.startswith("_")), key=lambda name: (name != "lstm", name))
)  # fmt: skip
INSTANCE_NORMS = ("last", "mean", "last_std", "mean_std", "none")
POOLINGS = ("last", "attention")
LOSS_SCALES = ("series", "window", "level")
TUNERS = ("hyperband", "bayesian", "random")  # forecaster.training.tune.ORACLES
EXPORT_FORMATS = ("saved_model", "keras", "onnx")  # forecaster.serving.export.FORMATS
SELECTIONS = ("auto", "model")  # forecaster.scoring.selection.SELECTIONS
STATISTICAL = tuple(  # the guard's statistical candidates (forecaster/scoring/candidates/NAME.py), unimported
    sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent / "scoring" / "candidates")])
           if not m.name.startswith("_"))
)  # fmt: skip
SPREADS = ("history", "seasonal", "step")  # forecaster.scoring.calibration.SPREADS
LEVEL_STEP = 0.5  # interval levels (%) the calibration keeps: every half percent
TOP_LEVEL = 99.5  # ... up to this one
BASELINE_NAMES = ("naive", "seasonal_naive", "drift")  # forecaster.scoring.baselines.BASELINES, unimported


def _positive_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _choice_list(choices: tuple[str, ...]) -> Callable[[object], bool]:
    return lambda value: isinstance(value, str) and all(part in choices for part in value.split(","))


def _frequency(value: object) -> bool:
    if not isinstance(value, str):
        return False
    if value.startswith("int:"):
        return value[4:].isdigit() and int(value[4:]) >= 1
    from pandas.tseries.frequencies import to_offset

    try:
        to_offset(value)
    except (ValueError, TypeError):
        return False
    return True


MAX_ENSEMBLE, MAX_LAYERS, MAX_UNITS, MAX_EMBEDDING = 100, 32, 4096, 1024

# A setting's rule: (test, what it must be). Each is declared beside its field (`option(..., rule=...)`,
# `setting(..., rule)`; an option with `choices` gets `one_of` them) and checked wherever settings come in:
# options, config files, code, and a run directory's config.json read back; so a bad value is one line
# before any data is read.
Rule = tuple[Callable[[object], bool], str]
WHOLE: Rule = (_positive_int, "a whole number of at least 1")
COUNT: Rule = (_count, "a whole number of at least 0")
FLAG: Rule = (lambda v: isinstance(v, bool), "true or false")
TEXT: Rule = (lambda v: v is None or isinstance(v, str) and v.strip() != "", "a column's name, not empty")


def one_of(choices: tuple[str, ...]) -> Rule:
    return (lambda v: v in choices, f"one of {', '.join(choices)}")


def setting(default: Any = dataclasses.MISSING, rule: Rule | None = None) -> Any:
    """A config field that is not an option (resolved from the data), checked by `rule`."""
    return field(default=default, metadata={"rule": rule} if rule else {})


SEED: Rule = (lambda v: _count(v) and v < 2**32, "a whole number from 0 to 4294967295 (2**32 - 1)")
CALENDAR: Rule = (
    lambda v: isinstance(v, str) or (isinstance(v, tuple) and all(isinstance(part, str) for part in v)),
    "auto, none, or cycles from day,week,year",
)
CUDNN: Rule = (lambda v: v == "auto" or isinstance(v, bool), "auto, true or false")
FRACTION: Rule = (lambda v: _number(v) and 0 < v < 1, "a fraction strictly between 0 and 1")
DROPOUT: Rule = (lambda v: _number(v) and 0 <= v < 1, "a fraction in [0, 1)")
NON_NEGATIVE: Rule = (lambda v: _number(v) and v >= 0, "a number of at least 0")
POSITIVE: Rule = (lambda v: _number(v) and v > 0, "a number above 0")
CLIPNORM: Rule = (lambda v: v is None or (_number(v) and v > 0), "a number above 0")
ENSEMBLE: Rule = (lambda v: _positive_int(v) and v <= MAX_ENSEMBLE, f"a whole number from 1 to {MAX_ENSEMBLE}")
EMBEDDING: Rule = (lambda v: _count(v) and v <= MAX_EMBEDDING, f"a whole number from 0 to {MAX_EMBEDDING}")
STATISTICAL_NAMES: Rule = (
    lambda v: isinstance(v, tuple) and 0 < len(v) == len(set(v)) and all(name in STATISTICAL for name in v),
    f"one or more distinct names from {', '.join(STATISTICAL)} (for the network alone: --select model)",
)
SHARES: Rule = (
    lambda v: isinstance(v, tuple) and 0 < len(v) <= MAX_ENSEMBLE and all(_number(x) and 0 < x <= 1 for x in v),
    "shares of the lookback in (0, 1], e.g. 1,0.5",
)
INSTANCE_NORM_LIST: Rule = (_choice_list(INSTANCE_NORMS), f"one of {', '.join(INSTANCE_NORMS)}, or a list of them")
FLAG_OR_NONE: Rule = (lambda v: v is None or isinstance(v, bool), "true or false")
FREQUENCY: Rule = (lambda v: v is None or _frequency(v), "a pandas frequency such as h, D, W-SUN, MS (or int:N)")
LAYERS: Rule = (
    lambda v: isinstance(v, tuple) and 0 < len(v) <= MAX_LAYERS and all(_positive_int(u) and u <= MAX_UNITS for u in v),
    f"sizes such as 64,64: at most {MAX_LAYERS} layers of at most {MAX_UNITS} units",
)
KNOTS: Rule = (
    lambda v: isinstance(v, tuple) and len(v) == len(set(v)) and all(_positive_int(k) and k >= 2 for k in v),
    "distinct numbers of knots of at least 2, e.g. 2,4,48 (at most the horizon; none: a value at every step)",
)
MAX_QUANTILES = 19  # quantile levels a run learns: every 5% from 5% to 95%; 999 wrote a 14.5 MB calibration.json
QUANTILES: Rule = (
    lambda v: (
        isinstance(v, tuple)
        and all(_number(q) and 0 < q < 1 for q in v)
        and len(set(v)) == len(v)
        and list(v) == sorted(v)
        and (not v or len(v) % 2 == 1)
        and len(v) <= MAX_QUANTILES
        and len({f"{100 * q:g}" for q in v}) == len(v)  # their columns (q_10) and outputs must differ
    ),
    f"an odd number (at most {MAX_QUANTILES}) of distinct ascending levels in (0, 1), e.g. 0.1,0.5,0.9, that differ "
    "in their first six digits (q_10, q_50, q_90 name them)",
)


def option(default: Any = dataclasses.MISSING, help: str = "", **how: Any) -> Any:
    """A config field that is also an option (`--name` of the CLI, a keyword of `Forecaster`): its help
    text, and how: `shown` (the default as --help says it, when not the value itself), `choices`,
    `flag` (the flag's spelling, e.g. "--dayfirst/--monthfirst"), `text` (taken as written, parsed later).
    The CLI's option table and the Forecaster's keywords are derived from these fields; `rule` checks the
    value (`one_of` the choices when there are choices and no rule)."""
    if "rule" not in how and "choices" in how:
        how["rule"] = one_of(how["choices"])
    return field(default=default, metadata={"help": help, **how})


@dataclass(frozen=True)
class DataConfig:
    """How to read the CSV: which columns hold what."""

    target: str = option(
        help="Column to forecast (in wide files: the name of the value).",
        shown="required, except with --wide",
        rule=TEXT,
    )
    time_col: str | None = option(None, "Timestamps or integer steps; without it, row order is time.", rule=TEXT)
    id_col: str | None = option(None, "Series id column of a long file; without it the file is one series.", rule=TEXT)
    features: tuple[str, ...] = option((), "Past covariate columns (known up to the forecast origin): a,b.")
    future: tuple[str, ...] = option(
        (), "Covariate columns known over the horizon too (load or weather forecasts, prices, holidays): a,b. "
        "Their values for the forecast steps are rows after a series' last target value, the target left empty.",
    )  # fmt: skip
    static: tuple[str, ...] = option(
        (), "Columns with one value per series (store type, region, size): a,b; numbers standardised over the "
        "series, text one-hot; the network sees them beside each window.",
    )  # fmt: skip
    wide: bool = option(False, "One column per series (detected when unambiguous).", flag="--wide", rule=FLAG)
    freq: str | None = option(
        None,
        "Pandas frequency (h, D, W-SUN, MS...).",
        shown="inferred",
        rule=FREQUENCY,
    )
    fill: str = option("error", "Gaps and empty cells: stop with an error, interpolate, or forward-fill.",
                       choices=FILL_POLICIES)  # fmt: skip
    season: int | None = option(
        None, "Season length in steps.", shown="from the frequency, or found in the data", rule=WHOLE
    )
    dayfirst: bool | None = option(
        None, "Numeric dates such as 03/04/2021: day or month first.", flag="--dayfirst/--monthfirst",
        shown="decided by a value above 12", rule=FLAG_OR_NONE,
    )  # fmt: skip

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class WindowConfig:
    """How series become (lookback -> horizon) windows, and how they are scaled and split."""

    horizon: int = option(help="Steps to forecast.", shown="required", rule=WHOLE)
    lookback: int = option(help="Input steps.", shown="max(2 seasons, 4 horizons, the longest cycle found)", rule=WHOLE)
    patch: int = option(1, "Input steps per LSTM step.", shown="one season, or lookback/16", rule=WHOLE)
    min_context: int = setting(1, WHOLE)
    scaler: str = option("standard", "Per-series scaler.", choices=SCALERS)
    transform: str = option(
        "none",
        "Take the target's natural logarithm before its scaler and forecast it (errors then count relative to "
        "the level; every value must be above zero); forecasts are turned back into the data's units.",
        shown="log on a panel of 200 series or more, the longest of more than 200 points, whose values are all "
        "above zero, else none",
        choices=TRANSFORMS,
    )
    val_fraction: float = option(
        0.2,
        "Share of each series used for validation.",
        rule=FRACTION,
    )
    holdout: int = option(0, "Steps at the end of each series kept out of training, for evaluate.", rule=COUNT)

    def __post_init__(self) -> None:
        check_fields(self)


FULL_BATCH, FULL_EPOCHS = 128, 30  # training on many windows (forecaster.data.resolve.sized_training)
MIN_STEPS = 400  # gradient steps the epochs allow at least, on few windows

PANEL_OR_ONE = "with two or more series, {} with one"  # a default that depends on the panel (data/resolve.py)
LONG_PANEL = "on a panel of 200 series or more with a lookback of 192 or more"  # resolve.py: WIDE_PANEL, LONG_WINDOW


@dataclass(frozen=True)
class ModelConfig:
    """The network: see `forecaster.models.network.build_model`."""

    lookback: int = setting(rule=WHOLE)
    horizon: int = setting(rule=WHOLE)
    n_features: int = setting(1, WHOLE)
    n_future: int = setting(0, COUNT)  # the last n_future features are known over the horizon too (`--future`)
    static_encoding: tuple[JSON, ...] = ()  # how `--static` columns become numbers (data/static.py)
    patch: int = setting(1, WHOLE)
    layers: tuple[int, ...] = option(
        (64, 64), "Units per recurrent layer.", shown=f"64,64; 128,128 {LONG_PANEL}", rule=LAYERS
    )
    cell: str = option("lstm", "Encoder (a module of forecaster/models/encoders).", choices=CELLS)
    bidirectional: bool = option(
        False, "Bidirectional recurrent layers.", flag="--bidirectional/--no-bidirectional", rule=FLAG
    )
    dropout: float = option(0.0, "Dropout between layers.", rule=DROPOUT)
    instance_norm: str = option(
        "last",
        "last, mean, last_std, mean_std or none: subtract each window's last value or mean (and with _std divide "
        "by its spread) before the network; a list (mean_std,last_std) is taken in turn by --ensemble members.",
        shown="mean_std,last_std " + PANEL_OR_ONE.format("last"),
        rule=INSTANCE_NORM_LIST,
    )
    pooling: str = option("last", "Last state or attention over states.", choices=POOLINGS)
    linear_skip: bool = option(
        False,
        "Add a linear path from inputs to forecast.",
        shown=f"true {LONG_PANEL}, else false",
        flag="--linear-skip/--no-linear-skip",
        rule=FLAG,
    )
    season_norm: bool = option(
        False,
        "Take each window's average seasonal shape out before the network and add it back over the horizon "
        "(ES-RNN's deseasonalisation; needs a season of 2 steps or more).",
        shown="true on a panel of 200 series or more whose lookback holds 6 seasons or more, else false",
        flag="--season-norm/--no-season-norm",
        rule=FLAG,
    )
    season_steps: int = setting(0, COUNT)  # the season for season_norm (0, 1: none); `season` is a DataConfig option
    output_knots: tuple[int, ...] = option(
        (),
        "Heads that forecast this many knots each, drawn out to every horizon step and summed (NHITS' outputs at "
        "several rates): 2,4,48.",
        shown="none (one value at every step)",
        rule=KNOTS,
    )
    floor: bool = option(
        True,
        "Never forecast below the minimum a series' input window keeps returning to (zero, a base load).",
        flag="--floor/--no-floor",
        rule=FLAG,
    )
    l2: float = option(0.0, "L2 weight decay.", rule=NON_NEGATIVE)
    quantiles: tuple[float, ...] = option((), "Quantile levels, e.g. 0.1,0.5,0.9.", shown="none", rule=QUANTILES)
    calendar: tuple[str, ...] = option(  # cycles of known-future calendar features ("day", "week", "year")
        (), "Known-future calendar features: auto (by frequency), none, or cycles from day,week,year.", text=True,
        shown="none", rule=CALENDAR,
    )  # fmt: skip
    step_seconds: float = setting(0.0, NON_NEGATIVE)  # the length of one step, for the calendar features
    series_embedding: int = option(
        0,
        "Size of a learned vector per series for global models (0: none).",
        rule=EMBEDDING,
    )
    n_series: int = setting(0, COUNT)  # rows of that embedding
    ensemble: int = option(
        3,
        "Networks trained with successive seeds, combined by median.",
        shown=f"3; 2 {LONG_PANEL}",
        rule=ENSEMBLE,
    )
    member_windows: tuple[float, ...] = option(
        (1.0,),
        "Each ensemble member's share of the lookback it reads (its latest points), taken in turn: 1,0.5.",
        rule=SHARES,
    )
    recent: int = setting(0, COUNT)  # this network reads only the window's latest `recent` points (0: all)
    use_cudnn: str | bool = setting("auto", CUDNN)

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class TrainConfig:
    """The optimisation: epochs, batches, early stopping, seeds."""

    epochs: int | None = option(
        None,
        "Maximum epochs; early stopping ends sooner.",
        shown=f"{FULL_EPOCHS}, more on few windows (see --batch-size)",
        rule=WHOLE,
    )
    batch_size: int | None = option(
        None, "Windows per batch.",
        shown=f"{FULL_BATCH}; on fewer than {FULL_BATCH * 8} training windows an eighth of them (at least 16), "
        f"with epochs for {MIN_STEPS} steps", rule=WHOLE,
    )  # fmt: skip
    learning_rate: float = option(
        1e-3, "Adam learning rate.", shown=f"0.001; 0.002 from 200 series; 0.004 {LONG_PANEL}", rule=POSITIVE
    )
    loss: str = option(  # point forecasts only; quantile runs use the pinball loss
        "mse",
        "Training loss of point forecasts.",
        choices=LOSSES,
        shown="mae with two or more series or with --future, mse with one series without",
    )
    loss_scale: str = option(
        "series",
        "window: weigh each window's error by 1/its spread, so every series counts on its own scale; level: by "
        "1/its level (its mean absolute value, no less than its spread), as sMAPE weighs errors.",
        choices=LOSS_SCALES,
        shown="level on a panel of 200 series or more whose lookback of 192 or more holds 6 seasons or more, else "
        "window " + PANEL_OR_ONE.format("series"),
    )
    clipnorm: float | None = option(1.0, "Gradient clipping norm.", rule=CLIPNORM)
    patience: int = option(5, "Early-stopping patience in epochs.", rule=WHOLE)
    final_epochs: int = option(
        0,
        "Epochs each network trains after early stopping on every window, the validation part's included, so it "
        "learns the newest data too; the guard and the bands are scored before them (0: none).",
        shown="3 on a panel of series of 200 points or fewer and on one longer series, else 0",
        rule=COUNT,
    )
    max_windows_per_epoch: int = option(
        20_000,
        "Windows sampled per epoch on large data.",
        shown=f"20,000; 40,000 from 200 series; 28,000 {LONG_PANEL}",
        rule=WHOLE,
    )
    max_val_windows: int = setting(20_000, WHOLE)
    seed: int = option(0, "Random seed.", rule=SEED)
    select: str = option(
        "auto",
        "How the run is forecast: auto (the validation guard: the combination of the network and the --statistical "
        "models, unless the network alone, seasonal naive or one model scores clearly below it on validation "
        "windows spread over the whole validation period, and a method whose statistical fits are costly clearly "
        "below the network alone too) or model (the network alone).",
        choices=SELECTIONS,
    )
    statistical: tuple[str, ...] = option(
        ("auto_ets", "auto_theta"),
        f"statsforecast models the guard weighs, any of {','.join(STATISTICAL)} (each a module of "
        "forecaster/scoring/candidates).",
        shown="auto_ets,auto_theta,auto_arima,auto_ces on one short series (200 points or fewer, a season of 4 steps "
        "or none), auto_ets,theta,auto_arima,auto_ces on a panel of them, else auto_ets,auto_theta",
        rule=STATISTICAL_NAMES,
    )
    interval_spread: str = option(
        "history",
        "What an interval's width scales with: history (seasonal naive's error over the series' history: how "
        "hard it is to forecast), seasonal (the same over the lookback), step (the lookback's step changes).",
        choices=SPREADS,
    )
    deterministic: bool = True  # tf op determinism: identical runs for the same data, config and seed
    verbose: int = 0  # Keras's fit output: 0 none (the API's default), 1 a progress bar, 2 a line an epoch

    def __post_init__(self) -> None:
        check_fields(self)


SECTION_CLASSES = {"data": DataConfig, "window": WindowConfig, "model": ModelConfig, "train": TrainConfig}
# every option by name -> its config section; derived from the fields declared with `option`
SECTIONS = {f.name: section for section, cls in SECTION_CLASSES.items() for f in fields(cls) if "help" in f.metadata}
# the options that take a list (a,b): a config file's or a keyword's text is split at its commas
LIST_SETTINGS = frozenset(
    f.name for cls in SECTION_CLASSES.values() for f in fields(cls)
    if "help" in f.metadata and str(f.type).startswith("tuple[") and not f.metadata.get("text")
)  # fmt: skip


# setting -> its rule, from the fields' declarations (a section's field and a ModelConfig copy share one)
SETTING_RULES: dict[str, Rule] = {
    f.name: f.metadata["rule"] for cls in SECTION_CLASSES.values() for f in fields(cls) if "rule" in f.metadata
}


@dataclass(frozen=True)
class RunConfig:
    """Everything a run was made from."""

    data: DataConfig
    window: WindowConfig
    model: ModelConfig
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> JSON:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: JSON) -> RunConfig:
        return cls(
            data=_build(DataConfig, raw["data"]),
            window=_build(WindowConfig, raw["window"]),
            model=_build(ModelConfig, raw["model"]),
            train=_build(TrainConfig, raw.get("train", {})),
        )


Section = TypeVar("Section", bound="DataclassInstance")


def _build(cls: type[Section], raw: Options) -> Section:
    known = {f.name: f for f in fields(cls)}
    unknown = set(raw) - set(known)
    if unknown:
        raise SettingsError(
            f"unknown {cls.__name__} setting(s): {', '.join(sorted(unknown))}; known: {', '.join(known)}"
        )
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    return cls(**values)  # each config checks its own fields (check_fields)


def check_setting(name: str, value: object) -> None:
    """One line naming the option and what it must be, for a value of the wrong type or range."""
    rule = SETTING_RULES.get(name)
    if rule is not None and value is not None and not rule[0](value):
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise SettingsError(f"--{name.replace('_', '-')} must be {rule[1]}, got {shown}")


def check_fields(config: DataclassInstance) -> None:
    """Every field of a config dataclass against SETTING_RULES: so a config is valid however it is made
    (options, a config file, a run's config.json, or code)."""
    for item in fields(config):
        check_setting(item.name, getattr(config, item.name))


def check_settings(sections: dict[str, Options]) -> None:
    """Every setting given, checked before any work (see SETTING_RULES)."""
    for values in sections.values():
        for name, value in values.items():
            check_setting(name, tuple(value) if isinstance(value, list) else value)


MAX_CONFIG_BYTES = 1 << 20  # a settings file is a few hundred bytes; anything past a megabyte is not one


def read_config_file(path: str | Path) -> dict[str, Options]:
    """Read a TOML config with optional [data], [window], [model], [train] and [tune] tables: a regular
    file (not a device or a pipe, which could be endless or never end), at most a megabyte, UTF-8."""
    path = Path(path)
    try:
        status = path.stat()
    except FileNotFoundError:
        raise SettingsError(f"{path}: config file not found") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the config file ({exc.strerror})") from None
    if not stat.S_ISREG(status.st_mode):
        raise SettingsError(f"{path}: not a regular file; give --config a TOML file")
    try:
        with open(path, "rb") as handle:
            content = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the config file ({exc.strerror})") from None
    if len(content) > MAX_CONFIG_BYTES:
        raise SettingsError(f"{path}: over 1 MiB, too large for a config file; give a TOML file of settings")
    try:
        raw = tomllib.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: not UTF-8 text; save the config file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:  # arrays nested thousands deep: no setting is more than a list
        raise SettingsError(f"{path}: values nested too deep; a setting is a value or a list of values") from None
    sections = {"data", "window", "model", "train", "tune"}
    unknown = set(raw) - sections
    if unknown:
        shown = ", ".join(sorted(name[:40] for name in unknown)[:5])
        raise SettingsError(f"{path}: unknown section(s) {shown}; use {', '.join(sorted(sections))}")
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise SettingsError(
                f"{path}: {name} must be a table of settings ([{name}] and lines such as key = value), "
                f"got {type(table).__name__}"
            )
    return {name: dict(raw.get(name, {})) for name in sections}


# a config file's [tune] table: hyperparameter -> the rule each of its choices keeps (forecaster.training.tune)
TUNE_RULES: dict[str, Rule] = {
    "lookback": WHOLE,
    "layers": WHOLE,
    "units": WHOLE,
    "bidirectional": FLAG,
    "dropout": DROPOUT,
    "learning_rate": POSITIVE,
    "batch_size": WHOLE,
    "loss": one_of(LOSSES),
}
MAX_CHOICES = 100  # choices of one hyperparameter: a search tries a few dozen trials


def check_tune_table(table: Mapping[str, object]) -> None:
    """The [tune] table's lists of choices, each choice by its hyperparameter's rule, before any work."""
    unknown = sorted(str(name)[:40] for name in set(table) - set(TUNE_RULES))
    if unknown:
        raise SettingsError(f"[tune]: unknown key(s) {', '.join(unknown[:5])}; use {', '.join(TUNE_RULES)}")
    for name, values in table.items():
        test, what = TUNE_RULES[name]
        if not isinstance(values, (list, tuple)) or not 0 < len(values) <= MAX_CHOICES:
            raise SettingsError(f"[tune] {name} must be a list of 1 to {MAX_CHOICES} choices, e.g. {name} = [1, 2]")
        wrong = [value for value in values if not test(value)]
        if wrong:
            shown = repr(wrong[0]) if len(repr(wrong[0])) <= 40 else repr(wrong[0])[:37] + "..."
            raise SettingsError(f"[tune] {name}: each choice must be {what}, got {shown}")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SettingsError(f"--{name.replace('_', '-')} must be one of {', '.join(choices)}, got {value!r}")
