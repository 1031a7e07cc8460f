from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="JobStatisticsMemoryType0")


@_attrs_define
class JobStatisticsMemoryType0:
    """
    Attributes:
        total_bytes (int | Unset): Memory available, in bytes.
        total_percentage (int | Unset): Average use in percent.
        peak_bytes (int | Unset): Peak use in bytes.
        peak_percentage (int | Unset): Peak use in percent.
        timeseries (list[list[int]] | Unset): `[percent, bytes]` pairs.
    """

    total_bytes: int | Unset = UNSET
    total_percentage: int | Unset = UNSET
    peak_bytes: int | Unset = UNSET
    peak_percentage: int | Unset = UNSET
    timeseries: list[list[int]] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        total_bytes = self.total_bytes

        total_percentage = self.total_percentage

        peak_bytes = self.peak_bytes

        peak_percentage = self.peak_percentage

        timeseries: list[list[int]] | Unset = UNSET
        if not isinstance(self.timeseries, Unset):
            timeseries = []
            for timeseries_item_data in self.timeseries:
                timeseries_item = timeseries_item_data

                timeseries.append(timeseries_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if total_bytes is not UNSET:
            field_dict["total_bytes"] = total_bytes
        if total_percentage is not UNSET:
            field_dict["total_percentage"] = total_percentage
        if peak_bytes is not UNSET:
            field_dict["peak_bytes"] = peak_bytes
        if peak_percentage is not UNSET:
            field_dict["peak_percentage"] = peak_percentage
        if timeseries is not UNSET:
            field_dict["timeseries"] = timeseries

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        total_bytes = d.pop("total_bytes", UNSET)

        total_percentage = d.pop("total_percentage", UNSET)

        peak_bytes = d.pop("peak_bytes", UNSET)

        peak_percentage = d.pop("peak_percentage", UNSET)

        _timeseries = d.pop("timeseries", UNSET)
        timeseries: list[list[int]] | Unset = UNSET
        if _timeseries is not UNSET:
            timeseries = []
            for timeseries_item_data in _timeseries:
                timeseries_item = cast(list[int], timeseries_item_data)

                timeseries.append(timeseries_item)

        job_statistics_memory_type_0 = cls(
            total_bytes=total_bytes,
            total_percentage=total_percentage,
            peak_bytes=peak_bytes,
            peak_percentage=peak_percentage,
            timeseries=timeseries,
        )

        job_statistics_memory_type_0.additional_properties = d
        return job_statistics_memory_type_0

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
