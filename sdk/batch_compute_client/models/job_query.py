from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_status import JobStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.filter_and import FilterAnd
    from ..models.filter_comparison import FilterComparison
    from ..models.filter_null_check import FilterNullCheck
    from ..models.filter_or import FilterOr


T = TypeVar("T", bound="JobQuery")


@_attrs_define
class JobQuery:
    """The jobs a bulk operation applies to: the search state of the client, as real JSON.
    All keys are optional; `{}` matches all the caller's jobs. `function_id` and `status`
    (legacy list parameters) are honoured as filters too. Other keys are ignored.
    An empty body means `{}`.

    The filter grammar is stated here; which attributes a job filter may name, which
    operators apply to each and what kind of value each takes (see the `filter` query
    parameter) is not, and a filter breaking those rules gets 400.

        Attributes:
            filter_ (list[FilterAnd | FilterComparison | FilterNullCheck | FilterOr] | Unset): Filter nodes that must all
                hold (see `FilterNode`). In query strings it travels as
                one JSON-encoded `filter` parameter; in bulk-by-query bodies as real JSON.
            sort (list[str] | Unset): Order in which `limit` picks the jobs.
            limit (int | Unset): Apply to at most this many matching jobs.
            function_id (str | Unset): Legacy; only jobs of this function.
            status (JobStatus | list[JobStatus] | Unset): Legacy; only jobs in this status (or any of these statuses).
            page_size (int | Unset): Sent by searches built with `Job.list()`; ignored.
    """

    filter_: list[FilterAnd | FilterComparison | FilterNullCheck | FilterOr] | Unset = UNSET
    sort: list[str] | Unset = UNSET
    limit: int | Unset = UNSET
    function_id: str | Unset = UNSET
    status: JobStatus | list[JobStatus] | Unset = UNSET
    page_size: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.filter_and import FilterAnd  # noqa: PLC0415
        from ..models.filter_comparison import FilterComparison  # noqa: PLC0415
        from ..models.filter_null_check import FilterNullCheck  # noqa: PLC0415

        filter_: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.filter_, Unset):
            filter_ = []
            for componentsschemas_filter_item_data in self.filter_:
                componentsschemas_filter_item: dict[str, Any]
                if isinstance(componentsschemas_filter_item_data, FilterComparison):
                    componentsschemas_filter_item = componentsschemas_filter_item_data.to_dict()
                elif isinstance(componentsschemas_filter_item_data, FilterNullCheck):
                    componentsschemas_filter_item = componentsschemas_filter_item_data.to_dict()
                elif isinstance(componentsschemas_filter_item_data, FilterAnd):
                    componentsschemas_filter_item = componentsschemas_filter_item_data.to_dict()
                else:
                    componentsschemas_filter_item = componentsschemas_filter_item_data.to_dict()

                filter_.append(componentsschemas_filter_item)

        sort: list[str] | Unset = UNSET
        if not isinstance(self.sort, Unset):
            sort = self.sort

        limit = self.limit

        function_id = self.function_id

        status: list[str] | str | Unset
        if isinstance(self.status, Unset):
            status = UNSET
        elif isinstance(self.status, JobStatus):
            status = self.status.value
        else:
            status = []
            for status_type_1_item_data in self.status:
                status_type_1_item = status_type_1_item_data.value
                status.append(status_type_1_item)

        page_size = self.page_size

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if filter_ is not UNSET:
            field_dict["filter"] = filter_
        if sort is not UNSET:
            field_dict["sort"] = sort
        if limit is not UNSET:
            field_dict["limit"] = limit
        if function_id is not UNSET:
            field_dict["function_id"] = function_id
        if status is not UNSET:
            field_dict["status"] = status
        if page_size is not UNSET:
            field_dict["page_size"] = page_size

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.filter_and import FilterAnd  # noqa: PLC0415
        from ..models.filter_comparison import FilterComparison  # noqa: PLC0415
        from ..models.filter_null_check import FilterNullCheck  # noqa: PLC0415
        from ..models.filter_or import FilterOr  # noqa: PLC0415

        d = dict(src_dict)
        _filter_ = d.pop("filter", UNSET)
        filter_: list[FilterAnd | FilterComparison | FilterNullCheck | FilterOr] | Unset = UNSET
        if _filter_ is not UNSET:
            filter_ = []
            for componentsschemas_filter_item_data in _filter_:

                def _parse_componentsschemas_filter_item(
                    data: object,
                ) -> FilterAnd | FilterComparison | FilterNullCheck | FilterOr:
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_filter_node_type_0 = FilterComparison.from_dict(data)

                        return componentsschemas_filter_node_type_0
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_filter_node_type_1 = FilterNullCheck.from_dict(data)

                        return componentsschemas_filter_node_type_1
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_filter_node_type_2 = FilterAnd.from_dict(data)

                        return componentsschemas_filter_node_type_2
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_filter_node_type_3 = FilterOr.from_dict(data)

                    return componentsschemas_filter_node_type_3

                componentsschemas_filter_item = _parse_componentsschemas_filter_item(
                    componentsschemas_filter_item_data
                )

                filter_.append(componentsschemas_filter_item)

        sort = cast(list[str], d.pop("sort", UNSET))

        limit = d.pop("limit", UNSET)

        function_id = d.pop("function_id", UNSET)

        def _parse_status(data: object) -> JobStatus | list[JobStatus] | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = JobStatus(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, list):
                raise TypeError()
            status_type_1 = []
            _status_type_1 = data
            for status_type_1_item_data in _status_type_1:
                status_type_1_item = JobStatus(status_type_1_item_data)

                status_type_1.append(status_type_1_item)

            return status_type_1

        status = _parse_status(d.pop("status", UNSET))

        page_size = d.pop("page_size", UNSET)

        job_query = cls(
            filter_=filter_,
            sort=sort,
            limit=limit,
            function_id=function_id,
            status=status,
            page_size=page_size,
        )

        job_query.additional_properties = d
        return job_query

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
