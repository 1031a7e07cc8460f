from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.function_status import FunctionStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.environment import Environment
    from ..models.job_status_counts import JobStatusCounts


T = TypeVar("T", bound="Function")


@_attrs_define
class Function:
    """A function: uploaded Python code plus the resources and policies its jobs run with.
    `job_statistics` is present only when `include=job.statistics` was requested.

        Attributes:
            id (str): Unique, URL-safe id.
            name (str): A display name (not unique).
            image (str): The runtime, `python3.N:tag`. Set once at creation.
            cpus (float): Virtual CPUs per job, one of 0.25, 0.5, 1, 2, 4, 8, 16.
            memory (int): Memory per job in MiB.
            maximum_concurrency (int): The most jobs of this function that run at the same time.
            timeout (int): Seconds a job may run before it ends as `timeout`.
            retry_count (int): How many times a failed job is retried.
            enabled (bool): Whether new jobs and reruns are accepted.
            auto_start (bool): Whether a successful build makes the function `ready` (else `stopped`).
            environment (Environment | None): Environment variables for every job (a job's own environment wins).
            namespace (str): The owner's storage namespace, `<org>:<user>` or `<user>`; result blob ids are
                `compute/{namespace}/{function_id}/{job_id}`.
            owner (str): The owning user, `user:<user>`.
            status (FunctionStatus): `awaiting_bundle` (created, no code yet) → `building` → `ready` (or `stopped` when
                `auto_start` is false) or `build_failed`. `ready` and `stopped` toggle via PATCH.
            creation_date (datetime.datetime): UTC, fixed width, e.g. `2024-05-01T12:00:00.123456+00:00`.
            modified_date (datetime.datetime): Last modified, or last accepted a job submission.
            job_statistics (JobStatusCounts | None | Unset): Job counts by status. Present only with
                `include=job.statistics`, and then always
                an object (possibly `{}`).
    """

    id: str
    name: str
    image: str
    cpus: float
    memory: int
    maximum_concurrency: int
    timeout: int
    retry_count: int
    enabled: bool
    auto_start: bool
    environment: Environment | None
    namespace: str
    owner: str
    status: FunctionStatus
    creation_date: datetime.datetime
    modified_date: datetime.datetime
    job_statistics: JobStatusCounts | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.environment import Environment  # noqa: PLC0415
        from ..models.job_status_counts import JobStatusCounts  # noqa: PLC0415

        id = self.id

        name = self.name

        image = self.image

        cpus = self.cpus

        memory = self.memory

        maximum_concurrency = self.maximum_concurrency

        timeout = self.timeout

        retry_count = self.retry_count

        enabled = self.enabled

        auto_start = self.auto_start

        environment: dict[str, Any] | None
        if isinstance(self.environment, Environment):
            environment = self.environment.to_dict()
        else:
            environment = self.environment

        namespace = self.namespace

        owner = self.owner

        status = self.status.value

        creation_date = self.creation_date.isoformat()

        modified_date = self.modified_date.isoformat()

        job_statistics: dict[str, Any] | None | Unset
        if isinstance(self.job_statistics, Unset):
            job_statistics = UNSET
        elif isinstance(self.job_statistics, JobStatusCounts):
            job_statistics = self.job_statistics.to_dict()
        else:
            job_statistics = self.job_statistics

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "image": image,
                "cpus": cpus,
                "memory": memory,
                "maximum_concurrency": maximum_concurrency,
                "timeout": timeout,
                "retry_count": retry_count,
                "enabled": enabled,
                "auto_start": auto_start,
                "environment": environment,
                "namespace": namespace,
                "owner": owner,
                "status": status,
                "creation_date": creation_date,
                "modified_date": modified_date,
            }
        )
        if job_statistics is not UNSET:
            field_dict["job_statistics"] = job_statistics

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.environment import Environment  # noqa: PLC0415
        from ..models.job_status_counts import JobStatusCounts  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        image = d.pop("image")

        cpus = d.pop("cpus")

        memory = d.pop("memory")

        maximum_concurrency = d.pop("maximum_concurrency")

        timeout = d.pop("timeout")

        retry_count = d.pop("retry_count")

        enabled = d.pop("enabled")

        auto_start = d.pop("auto_start")

        def _parse_environment(data: object) -> Environment | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                environment_type_0 = Environment.from_dict(data)

                return environment_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Environment | None, data)

        environment = _parse_environment(d.pop("environment"))

        namespace = d.pop("namespace")

        owner = d.pop("owner")

        status = FunctionStatus(d.pop("status"))

        creation_date = datetime.datetime.fromisoformat(d.pop("creation_date"))

        modified_date = datetime.datetime.fromisoformat(d.pop("modified_date"))

        def _parse_job_statistics(data: object) -> JobStatusCounts | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                job_statistics_type_0 = JobStatusCounts.from_dict(data)

                return job_statistics_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobStatusCounts | None | Unset, data)

        job_statistics = _parse_job_statistics(d.pop("job_statistics", UNSET))

        function = cls(
            id=id,
            name=name,
            image=image,
            cpus=cpus,
            memory=memory,
            maximum_concurrency=maximum_concurrency,
            timeout=timeout,
            retry_count=retry_count,
            enabled=enabled,
            auto_start=auto_start,
            environment=environment,
            namespace=namespace,
            owner=owner,
            status=status,
            creation_date=creation_date,
            modified_date=modified_date,
            job_statistics=job_statistics,
        )

        function.additional_properties = d
        return function

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
