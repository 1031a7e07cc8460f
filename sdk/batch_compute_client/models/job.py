from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_status import JobStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.environment import Environment
    from ..models.job_kwargs import JobKwargs
    from ..models.job_statistics import JobStatistics


T = TypeVar("T", bound="Job")


@_attrs_define
class Job:
    """One call of a function. `provisioning_time` and `pull_time` are present only when
    `include=timings` was requested.

        Attributes:
            id (str):
            function_id (str): The function this job calls. Set once at creation.
            creation_date (datetime.datetime): UTC, fixed width, e.g. `2024-05-01T12:00:00.123456+00:00`.
            args (list[Any] | None):
            kwargs (JobKwargs | None):
            environment (Environment | None): Overlaid on the function's environment (the job's values win).
            tags (list[str]): Free-form labels, each 1 to 256 characters, at most 100.
            status (JobStatus): `pending` → `running` → `success`, `failure` or `timeout`. Cancelling: `pending` →
                `canceled`, or `running` → `cancel` → `canceling` → `canceled`. `success`, `failure`,
                `timeout` and `canceled` are final (a rerun puts the last three back to `pending`).
            error_reason (None | str): Why the last attempt failed, timed out or was canceled.
            execution_count (int | None): Attempts started so far.
            exit_code (int | None): The last attempt's process exit code.
            runtime (int | None): Seconds the last attempt ran.
            last_execution_date (datetime.datetime | None): When the last attempt started.
            last_completion_date (datetime.datetime | None): When the last attempt completed or was canceled.
            statistics (JobStatistics | None): Resource usage, filled in when an attempt ends in success, failure or
                timeout.
            provisioning_time (int | None | Unset): Milliseconds spent getting a worker ready (only with `include=timings`).
            pull_time (int | None | Unset): Milliseconds spent loading the bundle (only with `include=timings`).
    """

    id: str
    function_id: str
    creation_date: datetime.datetime
    args: list[Any] | None
    kwargs: JobKwargs | None
    environment: Environment | None
    tags: list[str]
    status: JobStatus
    error_reason: None | str
    execution_count: int | None
    exit_code: int | None
    runtime: int | None
    last_execution_date: datetime.datetime | None
    last_completion_date: datetime.datetime | None
    statistics: JobStatistics | None
    provisioning_time: int | None | Unset = UNSET
    pull_time: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.environment import Environment  # noqa: PLC0415
        from ..models.job_kwargs import JobKwargs  # noqa: PLC0415
        from ..models.job_statistics import JobStatistics  # noqa: PLC0415

        id = self.id

        function_id = self.function_id

        creation_date = self.creation_date.isoformat()

        args: list[Any] | None
        if isinstance(self.args, list):
            args = self.args

        else:
            args = self.args

        kwargs: dict[str, Any] | None
        if isinstance(self.kwargs, JobKwargs):
            kwargs = self.kwargs.to_dict()
        else:
            kwargs = self.kwargs

        environment: dict[str, Any] | None
        if isinstance(self.environment, Environment):
            environment = self.environment.to_dict()
        else:
            environment = self.environment

        tags = self.tags

        status = self.status.value

        error_reason: None | str
        error_reason = self.error_reason

        execution_count: int | None
        execution_count = self.execution_count

        exit_code: int | None
        exit_code = self.exit_code

        runtime: int | None
        runtime = self.runtime

        last_execution_date: None | str
        if isinstance(self.last_execution_date, datetime.datetime):
            last_execution_date = self.last_execution_date.isoformat()
        else:
            last_execution_date = self.last_execution_date

        last_completion_date: None | str
        if isinstance(self.last_completion_date, datetime.datetime):
            last_completion_date = self.last_completion_date.isoformat()
        else:
            last_completion_date = self.last_completion_date

        statistics: dict[str, Any] | None
        if isinstance(self.statistics, JobStatistics):
            statistics = self.statistics.to_dict()
        else:
            statistics = self.statistics

        provisioning_time: int | None | Unset
        if isinstance(self.provisioning_time, Unset):
            provisioning_time = UNSET
        else:
            provisioning_time = self.provisioning_time

        pull_time: int | None | Unset
        if isinstance(self.pull_time, Unset):
            pull_time = UNSET
        else:
            pull_time = self.pull_time

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "function_id": function_id,
                "creation_date": creation_date,
                "args": args,
                "kwargs": kwargs,
                "environment": environment,
                "tags": tags,
                "status": status,
                "error_reason": error_reason,
                "execution_count": execution_count,
                "exit_code": exit_code,
                "runtime": runtime,
                "last_execution_date": last_execution_date,
                "last_completion_date": last_completion_date,
                "statistics": statistics,
            }
        )
        if provisioning_time is not UNSET:
            field_dict["provisioning_time"] = provisioning_time
        if pull_time is not UNSET:
            field_dict["pull_time"] = pull_time

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.environment import Environment  # noqa: PLC0415
        from ..models.job_kwargs import JobKwargs  # noqa: PLC0415
        from ..models.job_statistics import JobStatistics  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        function_id = d.pop("function_id")

        creation_date = datetime.datetime.fromisoformat(d.pop("creation_date"))

        def _parse_args(data: object) -> list[Any] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                args_type_0 = cast(list[Any], data)

                return args_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Any] | None, data)

        args = _parse_args(d.pop("args"))

        def _parse_kwargs(data: object) -> JobKwargs | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                kwargs_type_0 = JobKwargs.from_dict(data)

                return kwargs_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobKwargs | None, data)

        kwargs = _parse_kwargs(d.pop("kwargs"))

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

        tags = cast(list[str], d.pop("tags"))

        status = JobStatus(d.pop("status"))

        def _parse_error_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error_reason = _parse_error_reason(d.pop("error_reason"))

        def _parse_execution_count(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        execution_count = _parse_execution_count(d.pop("execution_count"))

        def _parse_exit_code(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        exit_code = _parse_exit_code(d.pop("exit_code"))

        def _parse_runtime(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        runtime = _parse_runtime(d.pop("runtime"))

        def _parse_last_execution_date(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_execution_date_type_0 = datetime.datetime.fromisoformat(data)

                return last_execution_date_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_execution_date = _parse_last_execution_date(d.pop("last_execution_date"))

        def _parse_last_completion_date(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_completion_date_type_0 = datetime.datetime.fromisoformat(data)

                return last_completion_date_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_completion_date = _parse_last_completion_date(d.pop("last_completion_date"))

        def _parse_statistics(data: object) -> JobStatistics | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                statistics_type_0 = JobStatistics.from_dict(data)

                return statistics_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobStatistics | None, data)

        statistics = _parse_statistics(d.pop("statistics"))

        def _parse_provisioning_time(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        provisioning_time = _parse_provisioning_time(d.pop("provisioning_time", UNSET))

        def _parse_pull_time(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        pull_time = _parse_pull_time(d.pop("pull_time", UNSET))

        job = cls(
            id=id,
            function_id=function_id,
            creation_date=creation_date,
            args=args,
            kwargs=kwargs,
            environment=environment,
            tags=tags,
            status=status,
            error_reason=error_reason,
            execution_count=execution_count,
            exit_code=exit_code,
            runtime=runtime,
            last_execution_date=last_execution_date,
            last_completion_date=last_completion_date,
            statistics=statistics,
            provisioning_time=provisioning_time,
            pull_time=pull_time,
        )

        job.additional_properties = d
        return job

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
