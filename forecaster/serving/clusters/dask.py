"""Dask: a distributed scheduler at `tcp://HOST:8786`, or a local cluster of one process a core."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from forecaster.serving.clusters import Cluster


@contextlib.contextmanager
def session(address: str | None, cores: int) -> Iterator[Any]:
    import logging

    from dask.distributed import Client, LocalCluster

    if address:
        with Client(address) as client:
            yield client
        return
    cluster = LocalCluster(
        n_workers=cores, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL
    )
    with cluster, Client(cluster) as client:
        yield client


CLUSTER = Cluster(
    name="dask",
    module="dask.distributed",
    frame_module="dask",
    schemes=("", "tcp", "tls"),
    example="tcp://HOST:8786",
    session=session,
)
