from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.filter_comparison_op import FilterComparisonOp

T = TypeVar("T", bound="FilterComparison")


@_attrs_define
class FilterComparison:
    """Compare an attribute with a value. `prefix` matches strings that start with `val`;
    `like` / `ilike` match SQL patterns (`%`, `_`, backslash escapes) case-sensitively /
    case-insensitively. Against `tags`, `eq` means "has this tag".

        Attributes:
            name (str):
            op (FilterComparisonOp):
            val (bool | float | None | str):
    """

    name: str
    op: FilterComparisonOp
    val: bool | float | None | str

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        op = self.op.value

        val: bool | float | None | str
        val = self.val

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "op": op,
                "val": val,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        op = FilterComparisonOp(d.pop("op"))

        def _parse_val(data: object) -> bool | float | None | str:
            if data is None:
                return data
            return cast(bool | float | None | str, data)

        val = _parse_val(d.pop("val"))

        filter_comparison = cls(
            name=name,
            op=op,
            val=val,
        )

        return filter_comparison
