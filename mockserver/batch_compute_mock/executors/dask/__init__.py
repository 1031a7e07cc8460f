"""Running jobs on a Dask cluster: ``DaskExecutor`` (in the server) submits each attempt as a
task; on each worker ``BatchComputePlugin`` runs it on the same warm pool the local executor
uses (``executors.local``), so process groups, limits, scratch dirs and log capture are the
same everywhere."""

from __future__ import annotations

from .executor import DaskExecutor
from .worker import PLUGIN_NAME, BatchComputePlugin

__all__ = ["PLUGIN_NAME", "BatchComputePlugin", "DaskExecutor"]
