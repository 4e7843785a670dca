"""Clusters `--engine` can run on: each module here starts (or joins) one kind, and says so in one
`CLUSTER`. Adding an engine is adding a module: `clusters()` lists this folder (a leading _ keeps a module
out), `--engine` offers its name, and `forecaster.serving.engines` hands it the work through Fugue, which
must know the engine too (Fugue runs on Dask, Ray and Spark)."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Cluster:
    """One engine: its package, the addresses it takes, and the session Fugue runs on."""

    name: str  # the --engine name
    module: str  # imported to run on it (its top package must be installed)
    frame_module: str | None  # the top package of its DataFrames: such a frame given as data runs on this engine
    schemes: tuple[str, ...]  # URL schemes an --address may carry ("" for host:port alone)
    example: str  # an --address, for the error that refuses a malformed one
    # (address, cores) -> the session Fugue runs on: a client of the cluster at address, else a local cluster
    # on this machine's cores, closed afterwards (a cluster we did not start is left running)
    session: Callable[[str | None, int], AbstractContextManager[Any]]
    named_addresses: Callable[[str], bool] = lambda address: False  # forms taken as they are ("auto", "yarn")
    reachable: bool = True  # whether something must answer at the address before any work
    extra: str = ""  # the pip extra that installs it (default: its name)


@functools.cache
def clusters() -> dict[str, Cluster]:
    """Every cluster in this folder, by name."""
    found = [
        importlib.import_module(f"{__name__}.{module.name}").CLUSTER
        for module in pkgutil.iter_modules(__path__)
        if not module.name.startswith("_")
    ]
    return {cluster.name: cluster for cluster in sorted(found, key=lambda cluster: cluster.name)}
