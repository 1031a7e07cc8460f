from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="JobStatisticsNetworkType0")


@_attrs_define
class JobStatisticsNetworkType0:
    """
    Attributes:
        rx_bytes (int | Unset):
        tx_bytes (int | Unset):
        rx_dropped (int | Unset):
        tx_dropped (int | Unset):
        rx_errors (int | Unset):
        tx_errors (int | Unset):
    """

    rx_bytes: int | Unset = UNSET
    tx_bytes: int | Unset = UNSET
    rx_dropped: int | Unset = UNSET
    tx_dropped: int | Unset = UNSET
    rx_errors: int | Unset = UNSET
    tx_errors: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        rx_bytes = self.rx_bytes

        tx_bytes = self.tx_bytes

        rx_dropped = self.rx_dropped

        tx_dropped = self.tx_dropped

        rx_errors = self.rx_errors

        tx_errors = self.tx_errors

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if rx_bytes is not UNSET:
            field_dict["rx_bytes"] = rx_bytes
        if tx_bytes is not UNSET:
            field_dict["tx_bytes"] = tx_bytes
        if rx_dropped is not UNSET:
            field_dict["rx_dropped"] = rx_dropped
        if tx_dropped is not UNSET:
            field_dict["tx_dropped"] = tx_dropped
        if rx_errors is not UNSET:
            field_dict["rx_errors"] = rx_errors
        if tx_errors is not UNSET:
            field_dict["tx_errors"] = tx_errors

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        rx_bytes = d.pop("rx_bytes", UNSET)

        tx_bytes = d.pop("tx_bytes", UNSET)

        rx_dropped = d.pop("rx_dropped", UNSET)

        tx_dropped = d.pop("tx_dropped", UNSET)

        rx_errors = d.pop("rx_errors", UNSET)

        tx_errors = d.pop("tx_errors", UNSET)

        job_statistics_network_type_0 = cls(
            rx_bytes=rx_bytes,
            tx_bytes=tx_bytes,
            rx_dropped=rx_dropped,
            tx_dropped=tx_dropped,
            rx_errors=rx_errors,
            tx_errors=tx_errors,
        )

        job_statistics_network_type_0.additional_properties = d
        return job_statistics_network_type_0

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
