"""``from earthdaily.earthone.compute import ComputeResult, Serializable`` inside a Batch Compute
job whose environment lacks the ``earthdaily-earthone`` package (see ``_batch_compute_results``)."""

from __future__ import annotations

from _batch_compute_results import ComputeResult, Serializable, not_provided

__all__ = ["ComputeResult", "Serializable"]


def __getattr__(name: str) -> object:
    raise not_provided(__name__, name, "earthdaily-earthone")
