from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.filter_null_check_op import FilterNullCheckOp

T = TypeVar("T", bound="FilterNullCheck")


@_attrs_define
class FilterNullCheck:
    """Test an attribute for null (an empty list counts as null).

    Attributes:
        name (str):
        op (FilterNullCheckOp):
    """

    name: str
    op: FilterNullCheckOp

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        op = self.op.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "op": op,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        op = FilterNullCheckOp(d.pop("op"))

        filter_null_check = cls(
            name=name,
            op=op,
        )

        return filter_null_check
