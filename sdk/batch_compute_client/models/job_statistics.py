from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.job_statistics_cpu_type_0 import JobStatisticsCpuType0
    from ..models.job_statistics_memory_type_0 import JobStatisticsMemoryType0
    from ..models.job_statistics_network_type_0 import JobStatisticsNetworkType0


T = TypeVar("T", bound="JobStatistics")


@_attrs_define
class JobStatistics:
    """Resource usage of a job's last attempt. Any part may be null. Time series hold one
    pair per 5-minute interval.

        Attributes:
            cpu (JobStatisticsCpuType0 | None | Unset):
            memory (JobStatisticsMemoryType0 | None | Unset):
            network (JobStatisticsNetworkType0 | None | Unset):
    """

    cpu: JobStatisticsCpuType0 | None | Unset = UNSET
    memory: JobStatisticsMemoryType0 | None | Unset = UNSET
    network: JobStatisticsNetworkType0 | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.job_statistics_cpu_type_0 import JobStatisticsCpuType0  # noqa: PLC0415
        from ..models.job_statistics_memory_type_0 import JobStatisticsMemoryType0  # noqa: PLC0415
        from ..models.job_statistics_network_type_0 import JobStatisticsNetworkType0  # noqa: PLC0415

        cpu: dict[str, Any] | None | Unset
        if isinstance(self.cpu, Unset):
            cpu = UNSET
        elif isinstance(self.cpu, JobStatisticsCpuType0):
            cpu = self.cpu.to_dict()
        else:
            cpu = self.cpu

        memory: dict[str, Any] | None | Unset
        if isinstance(self.memory, Unset):
            memory = UNSET
        elif isinstance(self.memory, JobStatisticsMemoryType0):
            memory = self.memory.to_dict()
        else:
            memory = self.memory

        network: dict[str, Any] | None | Unset
        if isinstance(self.network, Unset):
            network = UNSET
        elif isinstance(self.network, JobStatisticsNetworkType0):
            network = self.network.to_dict()
        else:
            network = self.network

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if cpu is not UNSET:
            field_dict["cpu"] = cpu
        if memory is not UNSET:
            field_dict["memory"] = memory
        if network is not UNSET:
            field_dict["network"] = network

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_statistics_cpu_type_0 import JobStatisticsCpuType0  # noqa: PLC0415
        from ..models.job_statistics_memory_type_0 import JobStatisticsMemoryType0  # noqa: PLC0415
        from ..models.job_statistics_network_type_0 import JobStatisticsNetworkType0  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_cpu(data: object) -> JobStatisticsCpuType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                cpu_type_0 = JobStatisticsCpuType0.from_dict(data)

                return cpu_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobStatisticsCpuType0 | None | Unset, data)

        cpu = _parse_cpu(d.pop("cpu", UNSET))

        def _parse_memory(data: object) -> JobStatisticsMemoryType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                memory_type_0 = JobStatisticsMemoryType0.from_dict(data)

                return memory_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobStatisticsMemoryType0 | None | Unset, data)

        memory = _parse_memory(d.pop("memory", UNSET))

        def _parse_network(data: object) -> JobStatisticsNetworkType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                network_type_0 = JobStatisticsNetworkType0.from_dict(data)

                return network_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobStatisticsNetworkType0 | None | Unset, data)

        network = _parse_network(d.pop("network", UNSET))

        job_statistics = cls(
            cpu=cpu,
            memory=memory,
            network=network,
        )

        job_statistics.additional_properties = d
        return job_statistics

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
