"""Dask with one worker process (`--engine dask_one`): the run is loaded once, for a machine whose memory
holds one TensorFlow process beside the driver; or any Dask scheduler at `--address`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from forecaster.serving.clusters import Cluster, dask


@contextlib.contextmanager
def session(address: str | None, cores: int) -> Iterator[Any]:
    if address:  # a scheduler already running: joined as the `dask` engine joins one
        with dask.session(address, cores) as client:
            yield client
        return
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


CLUSTER = Cluster(
    name="dask_one",
    module="dask.distributed",
    frame_module=None,  # a Dask frame given as data runs on the `dask` engine
    schemes=("", "tcp", "tls"),
    example="tcp://HOST:8786",
    session=session,
    extra="dask",  # installed by pip's `dask` extra
)
