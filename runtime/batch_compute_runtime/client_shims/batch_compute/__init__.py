"""``from batch_compute import ComputeResult, Serializable`` inside a Batch Compute job whose
environment lacks this project's SDK (see ``_batch_compute_results``)."""

from __future__ import annotations

from _batch_compute_results import ComputeResult, Serializable, not_provided

__all__ = ["ComputeResult", "Serializable"]


def __getattr__(name: str) -> object:
    raise not_provided(__name__, name, "batch-compute")
