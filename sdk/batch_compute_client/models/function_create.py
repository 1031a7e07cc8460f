from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.environment import Environment


T = TypeVar("T", bound="FunctionCreate")


@_attrs_define
class FunctionCreate:
    """A new function. Only `name` and `image` are required; the defaults are cpus 0.25,
    memory the smallest value allowed for the chosen cpus (512 for 0.25),
    maximum_concurrency 10, timeout 900, retry_count 0, enabled true, auto_start true,
    environment null.

    `image` is `python3.N:tag`; a Python minor version the server cannot run gets 422.
    Memory (MiB) must fit the cpus, otherwise 422:

    | cpus | memory (MiB) allowed |
    |------|----------------------|
    | 0.25 | 512, 1024, 2048 |
    | 0.5  | 1024 to 4096, step 1024 |
    | 1    | 2048 to 8192, step 1024 |
    | 2    | 4096 to 16384, step 1024 |
    | 4    | 8192 to 30720, step 1024 |
    | 8    | 16384 to 61440, step 4096 |
    | 16   | 32768 to 122880, step 8192 |

        Attributes:
            name (str): A display name; not blank.
            image (str): The runtime, `python3.N:tag`, e.g. `python3.11:latest`.
            cpus (float | Unset): Virtual CPUs per job, one of 0.25, 0.5, 1, 2, 4, 8, 16.
            memory (int | Unset): MiB; must fit `cpus` (see the table above).
            maximum_concurrency (int | Unset):  Default: 10.
            timeout (int | Unset): Seconds. Default: 900.
            retry_count (int | Unset):  Default: 0.
            enabled (bool | Unset):  Default: True.
            auto_start (bool | Unset):  Default: True.
            environment (Environment | None | Unset):
    """

    name: str
    image: str
    cpus: float | Unset = UNSET
    memory: int | Unset = UNSET
    maximum_concurrency: int | Unset = 10
    timeout: int | Unset = 900
    retry_count: int | Unset = 0
    enabled: bool | Unset = True
    auto_start: bool | Unset = True
    environment: Environment | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.environment import Environment  # noqa: PLC0415

        name = self.name

        image = self.image

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

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "image": image,
            }
        )
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

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.environment import Environment  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        image = d.pop("image")

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

        function_create = cls(
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
        )

        return function_create
