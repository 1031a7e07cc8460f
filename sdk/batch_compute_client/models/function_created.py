from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.function import Function


T = TypeVar("T", bound="FunctionCreated")


@_attrs_define
class FunctionCreated:
    """A new function and where to upload its code bundle.

    Attributes:
        function (Function): A function: uploaded Python code plus the resources and policies its jobs run with.
            `job_statistics` is present only when `include=job.statistics` was requested.
        bundle_upload_url (str): Absolute pre-signed URL for `PUT` of the zip bundle (no bearer token).
    """

    function: Function
    bundle_upload_url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        function = self.function.to_dict()

        bundle_upload_url = self.bundle_upload_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "function": function,
                "bundle_upload_url": bundle_upload_url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.function import Function  # noqa: PLC0415

        d = dict(src_dict)
        function = Function.from_dict(d.pop("function"))

        bundle_upload_url = d.pop("bundle_upload_url")

        function_created = cls(
            function=function,
            bundle_upload_url=bundle_upload_url,
        )

        function_created.additional_properties = d
        return function_created

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
