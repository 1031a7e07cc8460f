from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.json_api_error_source import JsonApiErrorSource


T = TypeVar("T", bound="JsonApiError")


@_attrs_define
class JsonApiError:
    """
    Attributes:
        status (str):
        title (str):
        detail (str):
        source (JsonApiErrorSource | Unset):
        id (str | Unset):
    """

    status: str
    title: str
    detail: str
    source: JsonApiErrorSource | Unset = UNSET
    id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status = self.status

        title = self.title

        detail = self.detail

        source: dict[str, Any] | Unset = UNSET
        if not isinstance(self.source, Unset):
            source = self.source.to_dict()

        id = self.id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
                "title": title,
                "detail": detail,
            }
        )
        if source is not UNSET:
            field_dict["source"] = source
        if id is not UNSET:
            field_dict["id"] = id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.json_api_error_source import JsonApiErrorSource  # noqa: PLC0415

        d = dict(src_dict)
        status = d.pop("status")

        title = d.pop("title")

        detail = d.pop("detail")

        _source = d.pop("source", UNSET)
        source: JsonApiErrorSource | Unset
        if isinstance(_source, Unset):
            source = UNSET
        else:
            source = JsonApiErrorSource.from_dict(_source)

        id = d.pop("id", UNSET)

        json_api_error = cls(
            status=status,
            title=title,
            detail=detail,
            source=source,
            id=id,
        )

        json_api_error.additional_properties = d
        return json_api_error

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
