from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="JobStatusCounts")


@_attrs_define
class JobStatusCounts:
    """How many of the function's jobs are in each status; a missing key means 0.

    Attributes:
        pending (int | Unset):
        running (int | Unset):
        cancel (int | Unset):
        canceling (int | Unset):
        success (int | Unset):
        failure (int | Unset):
        timeout (int | Unset):
        canceled (int | Unset):
    """

    pending: int | Unset = UNSET
    running: int | Unset = UNSET
    cancel: int | Unset = UNSET
    canceling: int | Unset = UNSET
    success: int | Unset = UNSET
    failure: int | Unset = UNSET
    timeout: int | Unset = UNSET
    canceled: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        pending = self.pending

        running = self.running

        cancel = self.cancel

        canceling = self.canceling

        success = self.success

        failure = self.failure

        timeout = self.timeout

        canceled = self.canceled

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if pending is not UNSET:
            field_dict["pending"] = pending
        if running is not UNSET:
            field_dict["running"] = running
        if cancel is not UNSET:
            field_dict["cancel"] = cancel
        if canceling is not UNSET:
            field_dict["canceling"] = canceling
        if success is not UNSET:
            field_dict["success"] = success
        if failure is not UNSET:
            field_dict["failure"] = failure
        if timeout is not UNSET:
            field_dict["timeout"] = timeout
        if canceled is not UNSET:
            field_dict["canceled"] = canceled

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        pending = d.pop("pending", UNSET)

        running = d.pop("running", UNSET)

        cancel = d.pop("cancel", UNSET)

        canceling = d.pop("canceling", UNSET)

        success = d.pop("success", UNSET)

        failure = d.pop("failure", UNSET)

        timeout = d.pop("timeout", UNSET)

        canceled = d.pop("canceled", UNSET)

        job_status_counts = cls(
            pending=pending,
            running=running,
            cancel=cancel,
            canceling=canceling,
            success=success,
            failure=failure,
            timeout=timeout,
            canceled=canceled,
        )

        return job_status_counts
