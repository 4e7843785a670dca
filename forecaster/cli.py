"""The `forecaster` command line: a thin skin over the library (no TensorFlow import until a command runs)."""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from types import FrameType
from typing import cast

import click

from forecaster.api import Forecaster
from forecaster.config import BASELINE_NAMES, EXPORT_FORMATS, SECTION_CLASSES, SECTIONS, TUNERS, read_config_file
from forecaster.errors import ForecasterError, SettingsError, one_line
from forecaster.io.files import check_replaceable
from forecaster.kinds import Function, Options
from forecaster.lazy import lazy_module
from forecaster.models.backend import quiet_tensorflow_import
from forecaster.serving.checks import (
    CLUSTERS,
    as_levels,
    check_data_path,
    check_engine,
    check_forecast_outputs,
    check_run_dir,
    either,
    plot_beside,
    require_horizon,
    with_target,
)
from forecaster.settings import Settings
from forecaster.training.access import resolve_token

diagnosis = lazy_module("forecaster.doctor")
resumes = lazy_module("forecaster.training.resume")
summaries = lazy_module("forecaster.training.summary")
backtests = lazy_module("forecaster.serving.backtest")
runs = lazy_module("forecaster.training.runs")

# every option defaults to None so a config file can set it instead; config.SECTIONS maps each to its section


def _csv_list(
    kind: type[int | float | str],
) -> Callable[[click.Context, click.Parameter, str | None], tuple[object, ...] | None]:
    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[object, ...] | None:
        if value is None:
            return None
        try:
            parts = tuple(kind(part) for part in value.split(",") if part.strip())
        except ValueError:
            raise click.BadParameter(f"expected comma-separated {kind.__name__} values, got {value!r}") from None
        if not parts and "," in value:  # --quantiles ,,, is a mistake, not a wish for none
            raise click.BadParameter(f"expected comma-separated {kind.__name__} values, got {value!r} (none)")
        return parts

    return parse


def setting_options(*sections: str) -> Callable[[Function], Function]:
    """The options of these config sections, derived from the config dataclasses' `option` fields: the
    name, help and shown default, choices, flags and list parsing all come from there."""
    from dataclasses import MISSING, fields

    parsers = {"int": int, "float": float, "str": str}

    def decorate(func: Function) -> Function:
        declared = [f for name in sections for f in fields(SECTION_CLASSES[name]) if "help" in f.metadata]
        for item in reversed(declared):
            meta, kind = item.metadata, str(item.type).replace(" | None", "")
            name = "--" + item.name.replace("_", "-")
            shown = meta.get("shown")
            if shown is None and item.default not in (MISSING, None, ()):
                shown = as_shown(item.default)
            required = shown is not None and shown.startswith("required")
            text = meta["help"] + (f"  (default {shown})" if shown is not None and not required else "")
            text += f"  [{shown}]" if required else ""
            if meta.get("flag"):
                flag = meta["flag"]
                if "/" in flag:  # a pair --x/--no-x
                    option = click.option(flag, item.name, default=None, help=text)
                else:  # a lone --x
                    option = click.option(flag, item.name, is_flag=True, default=None, help=text)
            elif kind.startswith("tuple[") and not meta.get("text"):
                element = parsers[kind.removeprefix("tuple[").split(",")[0]]
                option = click.option(name, item.name, callback=_csv_list(element), help=text)
            elif meta.get("choices"):
                option = click.option(name, item.name, type=click.Choice(meta["choices"]), help=text)
            else:
                option = click.option(name, item.name, type=parsers.get(kind, str), help=text)
            func = option(func)
        return func

    return decorate


class FiniteFloat(click.ParamType):
    """A finite number (NaN and inf refused, as every number taken), optionally bounded below."""

    name = "number"

    def __init__(self, above: float | None = None, at_least: float | None = None) -> None:
        self.above, self.at_least = above, at_least

    def convert(self, value: str | float, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r}: give a finite number", param, ctx)
        if self.above is not None and not number > self.above:
            self.fail(f"{value!r}: must be above {self.above:g}", param, ctx)
        if self.at_least is not None and number < self.at_least:
            self.fail(f"{value!r}: must be at least {self.at_least:g}", param, ctx)
        return number


def as_shown(default: object) -> str:
    """A default as --help shows it: 64,64 / 0.001 / false / 30."""
    if isinstance(default, tuple):
        return ",".join(map(str, default))
    if isinstance(default, bool):
        return str(default).lower()
    return f"{default:g}" if isinstance(default, float) else str(default)


def data_options(func: Function) -> Function:
    func = click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False),
        help="TOML file with [data] [window] [model] [train] settings; options override it.",
    )(func)
    func = setting_options("data")(func)
    return click.argument("data", type=click.Path())(func)  # a file, or a directory of Parquet shards


def settings_from(options: Options) -> Settings:
    """Config file settings overridden by the options given on the command line."""
    config_file = options.pop("config_file", None)
    settings = Settings.given(
        {name: value for name, value in options.items() if name in SECTIONS},
        read_config_file(config_file) if config_file else None,
    )
    return with_target(settings)


class Terminated(BaseException):
    """SIGTERM, raised where the command is, so its staging files are removed on the way out (`finally`)."""


def _terminate_here(command_pid: int, received: threading.Event) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != command_pid:  # a forked worker: die as it would have
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        received.set()
        raise Terminated

    return handler


def user_errors(func: Function) -> Function:
    """Turn a ForecasterError into one line on stderr and exit code 2; a SIGTERM or Ctrl-C leaves no staging
    file behind and says so."""

    @wraps(func)
    def wrapper(*args: object, **kwargs: object) -> object:
        main_thread = threading.current_thread() is threading.main_thread()
        received = threading.Event()
        previous = signal.signal(signal.SIGTERM, _terminate_here(os.getpid(), received)) if main_thread else None
        try:
            check_before_work(func.__name__, kwargs)
            if func.__name__ != "doctor":
                if func.__name__ != "train":  # train reads and checks the data first (Forecaster.fit)
                    quiet_tensorflow_import()
            return func(*args, **kwargs)
        except ForecasterError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("interrupted: nothing was written over earlier results", err=True)
            sys.exit(130)
        except Terminated:
            click.echo("terminated: nothing was written over earlier results", err=True)
            sys.exit(143)
        except OSError as exc:  # disk full, read-only or vanished output: what was there before is intact
            where = f"{one_line(str(exc.filename))}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}; nothing was written over earlier results", err=True)
            sys.exit(1)
        except Exception:
            # a SIGTERM that landed inside a library's callback (TensorFlow tracing a graph) surfaces as that
            # library's own error (pybind11: "... REPLACED BY Terminated"): it is still the termination
            if not received.is_set():
                raise
            click.echo("terminated: nothing was written over earlier results", err=True)
            sys.exit(143)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    return cast(Function, wrapper)


DEFAULT_OUTPUT: dict[str, Callable[[Options], Path]] = {
    "train": lambda given: Path("models") / Path(given["data"]).stem,
    "tune": lambda given: Path("models") / f"{Path(given['data']).stem}_tuned",
    "forecast": lambda given: Path(given["run_dir"]) / "forecast.csv",
    "evaluate": lambda given: Path(given["run_dir"]) / "evaluation",
    "export": lambda given: Path(given["run_dir"]) / "export",
}


OUTPUT_KIND = {"train": "run", "evaluate": "evaluation", "export": "export"}  # what each writes (io.files.output_kind)


def output_path(command: str, given: Options) -> Path:
    """Where `command` writes: --out, else its default."""
    return Path(given.get("out") or DEFAULT_OUTPUT[command](given))


def engine_options(command: Function) -> Function:
    """`--engine` and `--address`, as `forecast` and `evaluate` take them."""
    command = click.option(
        "--address", help="The Dask scheduler, Ray head or Spark master to use (default: a local cluster)."
    )(command)
    return click.option(
        "--engine",
        default="local",
        show_default=True,
        help=f"local, or {either(CLUSTERS)}: whole series a partition on that engine "
        f"(pip install 'forecaster-lstm[{CLUSTERS[0]}]', or {', '.join(f'[{name}]' for name in CLUSTERS[1:])}).",
    )(command)


def adapt_option(command: Function) -> Function:
    """`--adapt`, as `forecast` and `evaluate` take it."""
    return click.option(
        "--adapt",
        type=click.Choice(["on", "off"]),
        default="on",
        show_default=True,
        help="on: the --level bands also learn from the realised errors of windows whose actuals are known (in "
        "evaluate, the earlier windows' at each cutoff; in forecast, the windows after training in DATA), so "
        "they keep their coverage when the errors drift; off: the bands calibrated in training, unchanged.",
    )(command)


def check_outputs(command: str, given: Options) -> None:
    """Refuse, before any work, an output that would replace what forecaster did not make, or that
    cannot be written."""
    if command == "forecast":
        inputs = (given.get("data"), given.get("future_data"))
        check_forecast_outputs(output_path(command, given), given.get("plot"), inputs, given["engine"], given["series"])
    elif command == "tune":
        resolve_token(given.get("token"), given.get("chief"))
        if not given.get("worker"):
            check_replaceable(output_path(command, given), "search")  # written into: ours or new
    elif command in DEFAULT_OUTPUT:
        check_replaceable(output_path(command, given), OUTPUT_KIND[command])


def check_before_work(command: str, arguments: Options) -> None:
    """What can be refused in a moment is refused before TensorFlow loads (seconds) or data is read:
    a missing data file or run directory, a missing --horizon or --target, a bad --level."""
    if arguments.get("out") is not None and not str(arguments["out"]).strip():
        raise SettingsError("--out '': give a path (leave the option out for the default)")
    check_data_path(arguments.get("data"))
    if arguments.get("run_dir") is not None:
        check_run_dir(arguments["run_dir"])
    if command in ("forecast", "evaluate"):
        check_engine(arguments["engine"], arguments.get("address"))
    if command in DEFAULT_OUTPUT and (arguments.get("data") or arguments.get("run_dir")):
        check_outputs(command, arguments)
    if arguments.get("level") is not None:
        as_levels(arguments["level"])
    if command in ("train", "tune", "doctor"):
        settings = settings_from(dict(arguments))  # every option and config value checked (config.SETTING_RULES)
        if command != "doctor":
            require_horizon(settings)


def log(message: str) -> None:
    click.echo(message, err=True)


@click.group()
@click.version_option(package_name="forecaster")
def main() -> None:
    """Forecast CSV time series with LSTM models: doctor, train, update, tune, forecast, evaluate, export."""


@main.command()
@data_options
@click.option("--horizon", type=int, help="Steps to forecast (for the length check).")
@click.option("--lookback", type=int, help="Input steps (for the length check).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@user_errors
def doctor(data: str, as_json: bool, **options: object) -> None:
    """Report on DATA before training: lengths, frequency, gaps, and what will be padded or dropped.

    Exits 2 when it finds a problem that makes `train` refuse the file with the same options."""
    report = Forecaster.from_settings(settings_from(options)).doctor(data)
    click.echo(json.dumps(report, indent=2, default=str) if as_json else diagnosis.render(report))
    if report["problems"]:
        sys.exit(2)


def model_options(func: Function) -> Function:
    """The window, model and training options `train` and `tune` share."""
    return setting_options("window", "model", "train")(func)


@main.command()
@data_options
@model_options
@click.option("--out", type=click.Path(file_okay=False), help="Run directory (default models/<data name>).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--fresh", is_flag=True, help="Start from epoch 1 even if an interrupted run left its state.")
@user_errors
def train(data: str, out: str | None, quiet: bool, fresh: bool, **options: object) -> None:
    """Train an LSTM on DATA and write a run directory.

    The training state is saved after every epoch; if the run is interrupted (Ctrl-C, kill, power
    loss), the same command resumes it from the last completed epoch.
    """
    settings = settings_from(options)
    if not quiet:  # a progress bar on a terminal, one plain line per epoch elsewhere
        settings = settings.with_values("train", verbose=1 if sys.stdout.isatty() else 2)
    out_dir = output_path("train", {"data": data, "out": out})
    try:
        Forecaster.from_settings(settings, log).fit(data, out=out_dir, fresh=fresh)
    except KeyboardInterrupt:
        click.echo(f"\n{resumes.interrupted_message(out_dir)}", err=True)
        sys.exit(130)
    click.echo(f"run written to {out_dir}/")


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--data", required=True, type=click.Path(), help="CSV or Parquet with the series up to now (newer data).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="The new run directory (RUN_DIR is kept).")
@click.option(
    "--epochs",
    type=click.IntRange(min=1, max=10_000),
    help="Epochs at most from the run's weights (default 6; early stopping still decides).",
)
@click.option(
    "--holdout",
    type=click.IntRange(min=0),
    help="Steps at the end of each series kept out of the update (default: the run's --holdout; 0: none).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--fresh", is_flag=True, help="Start the update afresh even if an interrupted one left its state.")
@user_errors
def update(
    run_dir: str, data: str, out: str, epochs: int | None, holdout: int | None, quiet: bool, fresh: bool
) -> None:
    """Continue training RUN_DIR's networks on newer DATA into a new run OUT.

    The run's scalers are kept (a series whose data clearly moved gets a new one, said), its newest part
    validates, and the run's --holdout, if it had one, stays out of training unless --holdout says otherwise
    (DATA must reach past it with newer rows); the validation guard, the conformal table and the adaptive bands
    are renewed. OUT's manifest names RUN_DIR and what was renewed; RUN_DIR is never changed. Interrupted, the
    same command resumes.
    """
    verbose = 0 if quiet else 1 if sys.stdout.isatty() else 2
    try:
        Forecaster.load(run_dir, log).update(
            data, out=out, fresh=fresh, epochs=epochs, verbose=verbose, holdout=holdout
        )
    except KeyboardInterrupt:
        click.echo(f"\n{resumes.interrupted_message(Path(out))}", err=True)
        sys.exit(130)
    click.echo(f"run written to {out}/ (updated from {run_dir})")


@main.command()
@data_options
@model_options
@click.option("--tuner", type=click.Choice(TUNERS), default="bayesian", show_default=True)
@click.option(
    "--max-trials",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Trials in all (a resumed search counts the earlier ones).",
)
@click.option("--max-minutes", type=FiniteFloat(above=0), help="Hand out no new trial after this many minutes.")
@click.option("--out", type=click.Path(file_okay=False), help="Search directory (default models/<data name>_tuned).")
@click.option("--overwrite", is_flag=True, help="Start the search afresh instead of resuming the one in --out.")
@click.option(
    "--chief",
    metavar="HOST:PORT",
    help="Serve the search to workers (run no trials); binds exactly HOST:PORT, e.g. 127.0.0.1:8000. "
    "Beyond loopback it needs --token.",
)
@click.option("--worker", metavar="HOST:PORT", help="Run trials for the chief at HOST:PORT.")
@click.option(
    "--token",
    help="Shared secret between the chief and its workers (default $FORECASTER_TUNE_TOKEN); "
    "required when the chief binds a non-loopback address.",
)
@click.option(
    "--worker-timeout",
    type=FiniteFloat(at_least=1),
    default=600,
    show_default=True,
    help="Seconds a worker may stay silent (it reports every epoch) before its trial is handed out again.",
)
@click.option("--worker-id", help="This worker's name (default: worker-<pid>-<random>).")
@click.option(
    "--mixed-precision", is_flag=True, help="float16 compute for the trials on a GPU (the head stays float32)."
)
@user_errors
def tune(
    data: str, out: str | None, chief: str | None, worker: str | None, token: str | None, **options: object
) -> None:
    """Search lookback, depth, width, dropout, learning rate, batch size and loss with KerasTuner.

    The first trial is the untuned `train` setting. The best trial is trained into OUT/best, an
    ordinary run directory; OUT/trials.csv and OUT/trials.png list every trial. Run again with the
    same --out to resume an interrupted search. Across machines: one `--chief HOST:PORT` and any
    number of `--worker HOST:PORT` with the same data options. The chief checks every reported
    trial against the values it handed out and the search space; beyond loopback every call must
    carry the shared token.
    """
    if chief and worker:
        raise SettingsError("--chief and --worker: give one (a chief serves the search, workers run trials)")
    search: Options = {
        name: options.pop(name)
        for name in ("tuner", "max_trials", "max_minutes", "overwrite", "worker_id", "worker_timeout")
    }
    search["token"] = resolve_token(token, chief)
    mixed_precision = options.pop("mixed_precision")
    settings = settings_from(options)
    out_dir = output_path("tune", {"data": data, "out": out})
    tuner = Forecaster.from_settings(settings, log)
    summary = tuner.tune(data, out=out_dir, chief=chief, worker=worker, mixed_precision=mixed_precision, **search)
    if summary is None:
        return
    untuned = summary["untuned_score"]
    click.echo(
        f"{summary['completed']} of {summary['trials']} trials completed; best {summary['objective']} "
        f"{summary['best_score']:.4g}" + (f" (untuned: {untuned:.4g})" if untuned is not None else "")
    )
    click.echo(f"best run {summaries.validation_line(summary['validation'])}")
    click.echo(
        f"best run: {out_dir / 'best'}/ (forecast, evaluate and export work on it); trials: {out_dir / 'trials.csv'}"
    )


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option(
    "--data", required=True, type=click.Path(), help="CSV or Parquet (file or shards) with the recent history."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Forecast CSV, or Parquet if it ends in .parquet (default RUN_DIR/forecast.csv).",
)
@click.option("--plot", type=click.Path(dir_okay=False), help="Plot PNG (default: the forecast CSV's path with .png).")
@click.option("--series", callback=_csv_list(str), help="Series ids to plot (default: the first six).")
@click.option("--level", help="Prediction interval levels in %, e.g. 80,95: adds lo_80, hi_80, ... (conformal).")
@adapt_option
@click.option(
    "--future-data",
    type=click.Path(),
    help="The --future covariates' values at the forecast steps: id, time and those columns (else DATA's rows "
    "after each series' last target value).",
)
@engine_options
@user_errors
def forecast(
    run_dir: str,
    data: str,
    out: str | None,
    plot: str | None,
    series: tuple[str, ...] | None,
    level: str | None,
    adapt: str,
    future_data: str | None,
    engine: str,
    address: str | None,
) -> None:
    """Forecast the horizon after the last row of every series in DATA with a trained run."""
    out_path = output_path("forecast", {"run_dir": run_dir, "out": out})
    plot_path = plot_beside(out_path, plot) if engine == "local" else None
    forecaster = Forecaster.load(run_dir, log)
    count = forecaster.predict(  # written a block at a time, not kept: memory does not grow with the panel
        data,
        level=level or (),
        out=out_path,
        plot=plot_path,
        plot_series=list(series) if series else None,
        future=future_data,
        engine=engine,
        address=address,
        keep=False,
        adapt=adapt == "on",
    )
    click.echo(f"forecast for {count} series x {forecaster.run.config.window.horizon} steps: {out_path}")
    if plot_path is not None:
        click.echo(f"plot: {plot_path}")


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--data", required=True, type=click.Path(), help="CSV or Parquet whose tail training never saw.")
@click.option(
    "--folds", type=click.IntRange(min=1), default=3, show_default=True, help="Forecast origins per series (rolling)."
)
@click.option("--step", type=click.IntRange(min=1), help="Steps between origins (default: the horizon).")
@click.option("--season", type=int, help="Season of the seasonal-naive baseline and MASE (default: the run's).")
@click.option("--out", type=click.Path(file_okay=False), help="Output directory (default RUN_DIR/evaluation).")
@click.option(
    "--fail-if-worse-than",
    "gate",
    type=click.Choice(list(BASELINE_NAMES)),
    help="Exit 1 when the model's MASE is worse than this baseline's.",
)
@click.option("--level", help="Conformal interval levels in % to score (default 80,95 when the run has them).")
@adapt_option
@click.option(
    "--fail-if-coverage-below",
    "coverage_gate",
    type=FiniteFloat(),
    help="Exit 1 when an interval's coverage falls more than this many percentage points below its level.",
)
@engine_options
@click.option(
    "--refit-every",
    type=click.IntRange(min=1),
    help="Update the run (forecaster update) on the data before every K-th cutoff as the backtest goes.",
)
@click.option(
    "--refit-from-scratch", is_flag=True, help="With --refit-every: train anew at each refit instead (slower)."
)
@click.option(
    "--keep-refits",
    metavar="DIR",
    help="With --refit-every: keep the refitted runs in this folder; run again with it, the backtest reuses them.",
)
@user_errors
def evaluate(
    run_dir: str,
    data: str,
    folds: int,
    step: int | None,
    season: int | None,
    out: str | None,
    gate: str | None,
    level: str | None,
    adapt: str,
    coverage_gate: float | None,
    engine: str,
    address: str | None,
    refit_every: int | None,
    refit_from_scratch: bool,
    keep_refits: str | None,
) -> None:
    """Backtest a run on the unseen tail of DATA against naive, seasonal-naive and drift baselines."""
    forecaster = Forecaster.load(run_dir, log)
    if coverage_gate is not None and not level and not (forecaster.run.path / runs.CALIBRATION_FILE).is_file():
        raise SettingsError("--fail-if-coverage-below needs intervals: give --level (the run must have them)")
    out_dir = output_path("evaluate", {"run_dir": run_dir, "out": out})
    report, _ = forecaster.evaluate(
        data,
        out=out_dir,
        folds=folds,
        step=step,
        season=season,
        level=level,
        engine=engine,
        address=address,
        adapt=adapt == "on",
        refit_every=refit_every,
        refit_from_scratch=refit_from_scratch,
        keep_refits=keep_refits,
    )
    click.echo(backtests.render_table(report))
    plots = "errors_by_step.png, backtest.png" if engine == "local" else "errors_by_step.png"
    click.echo(f"written to {out_dir}/ (metrics.json, per_series.csv, forecasts.csv, {plots})")
    served = "served" if "served" in report["overall"] else "model"  # what `forecast` writes
    if gate and not report["overall"][served]["mase"] <= report["overall"][gate]["mase"]:  # a NaN score fails
        click.echo(
            f"quality gate failed: {served} MASE {report['overall'][served]['mase']:.3f} > "
            f"{gate} MASE {report['overall'][gate]['mase']:.3f}",
            err=True,
        )
        sys.exit(1)
    short = [
        f"{name}% interval covered {m['coverage']:.3f}"
        for name, m in report.get("conformal", {}).items()
        if coverage_gate is not None and not m["coverage"] >= m["nominal"] - coverage_gate / 100
    ]
    if short:
        click.echo(f"quality gate failed: {'; '.join(short)} (allowed {coverage_gate:g} points below)", err=True)
        sys.exit(1)


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--out", type=click.Path(file_okay=False), help="Export directory (default RUN_DIR/export).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default="saved_model",
    show_default=True,
    help="saved_model and onnx serve without forecaster installed; keras is a .keras file that needs it.",
)
@click.option("--level", help="Also output the conformal intervals at these levels in %: lo_80, hi_80, ...")
@user_errors
def export(run_dir: str, out: str | None, fmt: str, level: str | None) -> None:
    """Export a self-contained model: raw values in, forecasts in original units out.

    The SavedModel carries scaling, windowing and inverse scaling in its graph and serves on a CPU
    even when trained on a GPU. Its inputs and outputs are listed in manifest.json beside it.
    """
    saved = Forecaster.load(run_dir, log).export(
        output_path("export", {"run_dir": run_dir, "out": out}), format=fmt, level=level or ()
    )
    click.echo(f"{fmt} written to {saved} (inputs and outputs: {saved.parent / 'manifest.json'})")


if __name__ == "__main__":
    main()
