from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="JobStatisticsCpuType0")


@_attrs_define
class JobStatisticsCpuType0:
    """
    Attributes:
        total (int | Unset): CPU usage in percent.
        time (int | Unset): CPU time in nanoseconds.
        timeseries (list[list[int]] | Unset): `[percent, nanoseconds]` pairs.
    """

    total: int | Unset = UNSET
    time: int | Unset = UNSET
    timeseries: list[list[int]] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        total = self.total

        time = self.time

        timeseries: list[list[int]] | Unset = UNSET
        if not isinstance(self.timeseries, Unset):
            timeseries = []
            for timeseries_item_data in self.timeseries:
                timeseries_item = timeseries_item_data

                timeseries.append(timeseries_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if total is not UNSET:
            field_dict["total"] = total
        if time is not UNSET:
            field_dict["time"] = time
        if timeseries is not UNSET:
            field_dict["timeseries"] = timeseries

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        total = d.pop("total", UNSET)

        time = d.pop("time", UNSET)

        _timeseries = d.pop("timeseries", UNSET)
        timeseries: list[list[int]] | Unset = UNSET
        if _timeseries is not UNSET:
            timeseries = []
            for timeseries_item_data in _timeseries:
                timeseries_item = cast(list[int], timeseries_item_data)

                timeseries.append(timeseries_item)

        job_statistics_cpu_type_0 = cls(
            total=total,
            time=time,
            timeseries=timeseries,
        )

        job_statistics_cpu_type_0.additional_properties = d
        return job_statistics_cpu_type_0

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
