"""`forecast` and `Forecaster.predict`: the forecast of every series of the data, a block of whole series at a
time where the data allows, on this process or an engine, written to a sink and plotted; the run unchanged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar, cast

from forecaster.data.panel import panels_in_blocks
from forecaster.data.series import Panel
from forecaster.errors import DataError
from forecaster.io.files import atomic_file
from forecaster.io.frames import Data
from forecaster.io.plots import History, plot_forecasts
from forecaster.io.readers import reader_for
from forecaster.kinds import Frame, Network
from forecaster.models.backend import quiet_tensorflow_import
from forecaster.scoring.calibration import thin_levels_note
from forecaster.serving.checks import check_forecast_outputs, plot_beside
from forecaster.serving.columns import id_and_time_columns
from forecaster.serving.forecast import (
    attach_future,
    cost_note,
    forecast_frame,
    forecast_plan,
    load_forecast_panel,
    recent_history,
)
from forecaster.serving.requests import Backend, ForecastRequest, Log
from forecaster.training.runs import CALIBRATION_FILE, Run

Item = TypeVar("Item")


@contextmanager
def forecast_sink(out: Path) -> Iterator[Callable[[Frame], None]]:
    """A function that appends forecast rows to `out` (Parquet marked ours, or CSV with one header), a block
    at a time if need be, so the forecast of a large panel never exists whole in memory. The rows go to a
    staging file that replaces `out` only when the context ends without an error."""

    with atomic_file(out) as staging, reader_for(out).sink(staging, "forecast") as append:
        yield append


def write_forecast(frame: Frame, out: Path) -> None:
    """The whole forecast frame at `out`, atomically (`forecast_sink`)."""
    with forecast_sink(out) as write:
        write(frame)


READ_AHEAD = 4  # blocks of series read while the caller forecasts earlier ones (and loads the model)


def read_ahead(items: Iterator[Item], depth: int = READ_AHEAD) -> Iterator[Item]:
    """The items of `items`, up to `depth` of the next ones made in a thread while the caller works on
    this one: reading Parquet and predicting both leave the GIL most of the time. An error in the
    thread is raised here, in turn; stopping early stops the thread."""
    import queue
    import threading

    ready: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand(kind: str, item: object) -> bool:
        """Queue the item unless the caller has stopped; whether it was queued."""
        while not stop.is_set():
            try:
                ready.put((kind, item), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not hand("item", item):
                    return
            hand("end", None)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, raised there
            hand("error", exc)

    worker = threading.Thread(target=make, name="read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = ready.get()
            if kind == "end":
                return
            if kind == "error":
                raise cast(BaseException, item)
            yield cast(Item, item)
    finally:
        stop.set()
        worker.join()


def level_notes(run: Run, levels: tuple[float, ...]) -> list[str]:
    """A note when a level is finer than the run's calibration windows support (none without levels)."""

    if not levels or not (run.path / CALIBRATION_FILE).is_file():
        return []
    note = thin_levels_note(run.calibration().windows, levels)
    return [note] if note else []


def predict_run(
    run: Run, model: Callable[[], Network], request: ForecastRequest, backend: Backend, log: Log
) -> Frame | int:
    """`Forecaster.predict` (its docstring says what the request's fields do) for the run `run`, whose network
    `model()` loads on first use, on `backend`."""
    check_forecast_outputs(request.out, request.plot, (request.data, request.future), backend.name, request.plot_series)
    quiet_tensorflow_import()
    for note in level_notes(run, request.bands.levels):
        log(f"note: {note}")
    return backend.forecast(run, model, request, log)


def forecast_here(run: Run, model: Callable[[], Network], request: ForecastRequest, log: Log) -> Frame | int:
    """The forecast of `request` on this process: the frame, or (not kept) the number of series forecast."""
    import pandas

    data, out = request.data, request.out
    plot_path = plot_beside(out, request.plot)
    # a directory of Parquet shards whose series' rows lie together in one shard is forecast a block of
    # whole series at a time, so memory holds one block's series, whatever the panel's size
    by_path = isinstance(data, (str, Path)) and request.future is None
    blocks = reader_for(data).series_shards(Path(data), run.config.data.id_col) if by_path else None
    if blocks and request.plot_series:
        known = set().union(*(ids for _, ids in blocks))
        missing = [sid for sid in request.plot_series if sid not in known]
        if missing:
            raise DataError(f"--series: no series {missing[0]!r} in the data")
    if run.config.model.quantiles and request.bands.levels:
        log(
            "note: the q_* columns are the network's own quantiles; lo_*/hi_* are the conformal bands "
            "calibrated on validation windows: use those for a stated coverage (docs/intervals.md)"
        )
    frames: list[Frame] = []  # the forecast's rows, or (keep=False) only the plotted series' rows
    history: History | None = {} if plot_path else None  # the plotted series' recent past, as blocks come
    id_col, time_col = id_and_time_columns(run.config)
    streaming = out is not None and not request.keep
    with ExitStack() as stack:
        sink = stack.enter_context(forecast_sink(Path(str(out)))) if streaming else frames.append

        def take(rows: Frame) -> None:
            sink(rows)
            if streaming and history is not None:
                frames.append(rows[rows[id_col].isin(list(history))])

        done = _forecast_each(run, model, request, blocks, history, take, log)
        frame = frames[0] if len(frames) == 1 else pandas.concat(frames, ignore_index=True)
        # the plot and the CSV are both staged and replace the previous ones only when both are written
        # (the stack renames them as it closes): a disk that fills while plotting changes nothing
        if plot_path is not None and history is not None:
            staging = stack.enter_context(atomic_file(plot_path))
            plot_forecasts(history, frame, time_col, id_col, staging, run.config.data.target, total=done)
        if out is not None and not streaming:
            stack.enter_context(forecast_sink(Path(out)))(frame)
    return frame if request.keep else done


def _forecast_each(
    run: Run,
    model: Callable[[], Network],
    request: ForecastRequest,
    blocks: list[tuple[Path, set[str]]] | None,
    history: History | None,
    take: Callable[[Frame], None],
    log: Log,
) -> int:
    """Forecast the request's data whole, or each block of its shards in turn, handing each one's rows to `take`;
    a note on the data said once, the plans' notes added up and said at the end, progress per block;
    the plotted series' recent past put in `history`. Returns the number of series forecast."""

    said: set[str] = set()
    tally = None
    total, done = (sum(len(ids) for _, ids in blocks) if blocks else 0), 0
    plot_series = request.plot_series
    for where, panel in read_ahead(_panels(run, request.data, blocks)):
        if request.future is not None:
            attach_future(run, panel, request.future)
        plan = forecast_plan(run, panel)
        cost = cost_note(run, total or len(panel.series)) if tally is None else None
        for note in (panel.notes if blocks else [*panel.notes, *plan.notes]) + ([cost] if cost else []):
            if note not in said:
                log(f"note: {where}{note}")
                said.add(note)
        tally = plan.tally if tally is None else tally.merge(plan.tally)
        if history is not None:
            ids = {series.series_id for series in panel.series}  # a block's: chosen series may be in others
            wanted = plot_series if plot_series is None or blocks is None else [s for s in plot_series if s in ids]
            if wanted or not history:
                history.update(recent_history(panel, run, wanted))
        rows = forecast_frame(run, panel, model(), plan, request.bands)
        for note in rows.attrs.pop("notes", []):
            log(f"note: {where}{note}")
        take(rows)
        done += len(panel.series)
        if blocks:
            log(f"forecast {done:,} of {total:,} series")
    for note in tally.notes(run) if blocks and tally else []:
        log(f"note: {note}")
    return done


def _panels(run: Run, data: Data, shards: list[tuple[Path, set[str]]] | None) -> Iterator[tuple[str, Panel]]:
    """(where, panel): the whole of `data`, or each block of whole series of each shard."""
    from dataclasses import replace

    if shards is None:
        yield "", load_forecast_panel(run, data)
        return
    cfg = replace(run.config.data, freq=run.freq)
    for where, panel in panels_in_blocks(cfg, [shard for shard, _ in shards]):
        yield f"{where.name}: ", panel
