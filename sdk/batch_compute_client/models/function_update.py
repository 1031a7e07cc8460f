from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.function_update_status import FunctionUpdateStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.environment import Environment


T = TypeVar("T", bound="FunctionUpdate")


@_attrs_define
class FunctionUpdate:
    """The fields to change; all optional. `status` starts (`ready`) or stops (`stopped`) a
    built function. `image` cannot be changed (400). cpus and memory must still fit
    together afterwards (422).

        Attributes:
            name (str | Unset): A display name; not blank.
            cpus (float | Unset): Virtual CPUs per job, one of 0.25, 0.5, 1, 2, 4, 8, 16.
            memory (int | Unset):
            maximum_concurrency (int | Unset):
            timeout (int | Unset):
            retry_count (int | Unset):
            enabled (bool | Unset):
            auto_start (bool | Unset):
            environment (Environment | None | Unset):
            status (FunctionUpdateStatus | Unset):
    """

    name: str | Unset = UNSET
    cpus: float | Unset = UNSET
    memory: int | Unset = UNSET
    maximum_concurrency: int | Unset = UNSET
    timeout: int | Unset = UNSET
    retry_count: int | Unset = UNSET
    enabled: bool | Unset = UNSET
    auto_start: bool | Unset = UNSET
    environment: Environment | None | Unset = UNSET
    status: FunctionUpdateStatus | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.environment import Environment  # noqa: PLC0415

        name = self.name

        cpus = self.cpus

        memory = self.memory

        maximum_concurrency = self.maximum_concurrency

        timeout = self.timeout

        retry_count = self.retry_count

        enabled = self.enabled

        auto_start = self.auto_start

        environment: dict[str, Any] | None | Unset
        if isinstance(self.environment, Unset):
            environment = UNSET
        elif isinstance(self.environment, Environment):
            environment = self.environment.to_dict()
        else:
            environment = self.environment

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if cpus is not UNSET:
            field_dict["cpus"] = cpus
        if memory is not UNSET:
            field_dict["memory"] = memory
        if maximum_concurrency is not UNSET:
            field_dict["maximum_concurrency"] = maximum_concurrency
        if timeout is not UNSET:
            field_dict["timeout"] = timeout
        if retry_count is not UNSET:
            field_dict["retry_count"] = retry_count
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if auto_start is not UNSET:
            field_dict["auto_start"] = auto_start
        if environment is not UNSET:
            field_dict["environment"] = environment
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.environment import Environment  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name", UNSET)

        cpus = d.pop("cpus", UNSET)

        memory = d.pop("memory", UNSET)

        maximum_concurrency = d.pop("maximum_concurrency", UNSET)

        timeout = d.pop("timeout", UNSET)

        retry_count = d.pop("retry_count", UNSET)

        enabled = d.pop("enabled", UNSET)

        auto_start = d.pop("auto_start", UNSET)

        def _parse_environment(data: object) -> Environment | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                environment_type_0 = Environment.from_dict(data)

                return environment_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Environment | None | Unset, data)

        environment = _parse_environment(d.pop("environment", UNSET))

        _status = d.pop("status", UNSET)
        status: FunctionUpdateStatus | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = FunctionUpdateStatus(_status)

        function_update = cls(
            name=name,
            cpus=cpus,
            memory=memory,
            maximum_concurrency=maximum_concurrency,
            timeout=timeout,
            retry_count=retry_count,
            enabled=enabled,
            auto_start=auto_start,
            environment=environment,
            status=status,
        )

        return function_update
