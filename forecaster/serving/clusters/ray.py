"""Ray: a head at `HOST:6379` (or `ray://HOST:10001`, or `auto`), else a local Ray on this machine's cores.
A Ray this process already runs is used and left running."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from forecaster.serving.clusters import Cluster


@contextlib.contextmanager
def session(address: str | None, cores: int) -> Iterator[Any]:
    import logging

    import ray

    started = not ray.is_initialized()
    if started:
        options = {"address": address} if address else {"num_cpus": cores}
        ray.init(**options, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    quiet_ray_data()
    try:
        yield "ray"
    finally:
        if started:
            ray.shutdown()


def quiet_ray_data() -> None:
    """Ray Data's own progress (~50 INFO lines a forecast, on stderr): off, so the command's lines are its own."""
    import logging

    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if hasattr(context, "print_on_execution_start"):
        context.print_on_execution_start = False


CLUSTER = Cluster(
    name="ray",
    module="ray",
    frame_module="ray",
    schemes=("", "ray"),
    example="HOST:6379 or ray://HOST:10001",
    session=session,
    named_addresses=lambda address: address == "auto",
)
