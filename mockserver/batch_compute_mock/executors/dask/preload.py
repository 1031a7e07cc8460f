"""Dask preload that makes any ``dask worker`` ready for our jobs:

    dask worker tcp://scheduler:8786 --preload batch_compute_mock.executors.dask.preload

It adds ``BatchComputePlugin`` under ``data_dir`` (``BATCH_COMPUTE_WORKER_DATA_DIR``, default
the worker's local directory), with the job sandbox ``BATCH_COMPUTE_SANDBOX`` (``auto``,
``bwrap`` or ``off``; default ``auto``) and ``BATCH_COMPUTE_JOB_NETWORK`` (``on``/``off``),
as for ``serve``. ``batch-compute worker`` starts ``dask worker`` with it.
"""

from __future__ import annotations

import os
from typing import Any

from .worker import PLUGIN_NAME, BatchComputePlugin

__all__ = ["DATA_DIR_VARIABLE", "dask_setup"]

DATA_DIR_VARIABLE = "BATCH_COMPUTE_WORKER_DATA_DIR"


async def dask_setup(worker: Any) -> None:
    plugin = BatchComputePlugin(
        data_dir=os.environ.get(DATA_DIR_VARIABLE) or None,
        sandbox=os.environ.get("BATCH_COMPUTE_SANDBOX", "auto"),
        job_network=os.environ.get("BATCH_COMPUTE_JOB_NETWORK", "on") != "off",
    )
    await worker.plugin_add(plugin, name=PLUGIN_NAME)
