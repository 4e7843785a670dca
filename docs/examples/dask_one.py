"""Dask with one worker process (`--engine dask_one`): the run is loaded once, for a machine whose memory
holds one TensorFlow process beside the driver; or any Dask scheduler at `--address`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from forecaster.serving.clusters import Cluster


@contextlib.contextmanager
def session(address: str | None, cores: int) -> Iterator[Any]:
    from dask.distributed import Client, LocalCluster

    if address:
        with Client(address) as client:
            yield client
        return
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
