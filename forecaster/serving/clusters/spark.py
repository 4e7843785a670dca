"""Spark: a master at `spark://HOST:7077` (or `local[N]`, `yarn`, `k8s://...`), else `local[cores]`."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

from forecaster.serving.clusters import Cluster


@contextlib.contextmanager
def session(address: str | None, cores: int) -> Iterator[Any]:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers run this Python (and its packages)
    builder = SparkSession.builder.master(address or f"local[{cores}]").appName("forecaster")
    # Spark reads no nanosecond timestamps (pandas and pyarrow write them): as int64, made times again in
    # the workers (`forecaster.serving.engines.partition_panel`)
    spark = builder.config("spark.sql.legacy.parquet.nanosAsLong", "true").getOrCreate()
    try:
        yield spark
    finally:
        if not address:
            spark.stop()


CLUSTER = Cluster(
    name="spark",
    module="pyspark",
    frame_module="pyspark",
    schemes=("spark", "k8s", "mesos"),
    example="spark://HOST:7077",
    session=session,
    named_addresses=lambda address: address in ("local", "yarn") or bool(re.fullmatch(r"local\[(\d+|\*)\]", address)),
    reachable=False,  # a master's address is checked by Spark itself
)
