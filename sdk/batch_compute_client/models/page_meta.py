from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="PageMeta")


@_attrs_define
class PageMeta:
    """`page_cursor` is always present: null on the last page, else the opaque value to send
    alone for the next page. `total` counts all matches of the query, ignoring `limit`.

        Attributes:
            page_cursor (None | str):
            total (int):
            page_size (int | Unset):
    """

    page_cursor: None | str
    total: int
    page_size: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        page_cursor: None | str
        page_cursor = self.page_cursor

        total = self.total

        page_size = self.page_size

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "page_cursor": page_cursor,
                "total": total,
            }
        )
        if page_size is not UNSET:
            field_dict["page_size"] = page_size

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_page_cursor(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        page_cursor = _parse_page_cursor(d.pop("page_cursor"))

        total = d.pop("total")

        page_size = d.pop("page_size", UNSET)

        page_meta = cls(
            page_cursor=page_cursor,
            total=total,
            page_size=page_size,
        )

        page_meta.additional_properties = d
        return page_meta

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
