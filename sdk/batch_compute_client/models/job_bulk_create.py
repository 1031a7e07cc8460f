from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.environment import Environment
    from ..models.job_kwargs import JobKwargs


T = TypeVar("T", bound="JobBulkCreate")


@_attrs_define
class JobBulkCreate:
    """A batch of jobs for one function: one per element of `bulk_args`. `bulk_kwargs` and
    `bulk_environments`, when not null, must have the same length as `bulk_args` (422
    otherwise). `reference_id` makes the request idempotent.

        Attributes:
            function_id (str):
            bulk_args (list[list[Any]]):
            bulk_kwargs (list[JobKwargs] | None | Unset):
            bulk_environments (list[Environment] | None | Unset):
            reference_id (None | str | Unset): A key (the client uses a fresh UUID4 per batch) under which a retry of the
                same
                batch gets the jobs created the first time.
            tags (list[str] | Unset): Free-form labels, each 1 to 256 characters, at most 100.
    """

    function_id: str
    bulk_args: list[list[Any]]
    bulk_kwargs: list[JobKwargs] | None | Unset = UNSET
    bulk_environments: list[Environment] | None | Unset = UNSET
    reference_id: None | str | Unset = UNSET
    tags: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        function_id = self.function_id

        bulk_args = []
        for bulk_args_item_data in self.bulk_args:
            bulk_args_item = bulk_args_item_data

            bulk_args.append(bulk_args_item)

        bulk_kwargs: list[dict[str, Any]] | None | Unset
        if isinstance(self.bulk_kwargs, Unset):
            bulk_kwargs = UNSET
        elif isinstance(self.bulk_kwargs, list):
            bulk_kwargs = []
            for bulk_kwargs_type_0_item_data in self.bulk_kwargs:
                bulk_kwargs_type_0_item = bulk_kwargs_type_0_item_data.to_dict()
                bulk_kwargs.append(bulk_kwargs_type_0_item)

        else:
            bulk_kwargs = self.bulk_kwargs

        bulk_environments: list[dict[str, Any]] | None | Unset
        if isinstance(self.bulk_environments, Unset):
            bulk_environments = UNSET
        elif isinstance(self.bulk_environments, list):
            bulk_environments = []
            for bulk_environments_type_0_item_data in self.bulk_environments:
                bulk_environments_type_0_item = bulk_environments_type_0_item_data.to_dict()
                bulk_environments.append(bulk_environments_type_0_item)

        else:
            bulk_environments = self.bulk_environments

        reference_id: None | str | Unset
        if isinstance(self.reference_id, Unset):
            reference_id = UNSET
        else:
            reference_id = self.reference_id

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "function_id": function_id,
                "bulk_args": bulk_args,
            }
        )
        if bulk_kwargs is not UNSET:
            field_dict["bulk_kwargs"] = bulk_kwargs
        if bulk_environments is not UNSET:
            field_dict["bulk_environments"] = bulk_environments
        if reference_id is not UNSET:
            field_dict["reference_id"] = reference_id
        if tags is not UNSET:
            field_dict["tags"] = tags

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.environment import Environment  # noqa: PLC0415
        from ..models.job_kwargs import JobKwargs  # noqa: PLC0415

        d = dict(src_dict)
        function_id = d.pop("function_id")

        bulk_args = []
        _bulk_args = d.pop("bulk_args")
        for bulk_args_item_data in _bulk_args:
            bulk_args_item = cast(list[Any], bulk_args_item_data)

            bulk_args.append(bulk_args_item)

        def _parse_bulk_kwargs(data: object) -> list[JobKwargs] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                bulk_kwargs_type_0 = []
                _bulk_kwargs_type_0 = data
                for bulk_kwargs_type_0_item_data in _bulk_kwargs_type_0:
                    bulk_kwargs_type_0_item = JobKwargs.from_dict(bulk_kwargs_type_0_item_data)

                    bulk_kwargs_type_0.append(bulk_kwargs_type_0_item)

                return bulk_kwargs_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[JobKwargs] | None | Unset, data)

        bulk_kwargs = _parse_bulk_kwargs(d.pop("bulk_kwargs", UNSET))

        def _parse_bulk_environments(data: object) -> list[Environment] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                bulk_environments_type_0 = []
                _bulk_environments_type_0 = data
                for bulk_environments_type_0_item_data in _bulk_environments_type_0:
                    bulk_environments_type_0_item = Environment.from_dict(
                        bulk_environments_type_0_item_data
                    )

                    bulk_environments_type_0.append(bulk_environments_type_0_item)

                return bulk_environments_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Environment] | None | Unset, data)

        bulk_environments = _parse_bulk_environments(d.pop("bulk_environments", UNSET))

        def _parse_reference_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reference_id = _parse_reference_id(d.pop("reference_id", UNSET))

        tags = cast(list[str], d.pop("tags", UNSET))

        job_bulk_create = cls(
            function_id=function_id,
            bulk_args=bulk_args,
            bulk_kwargs=bulk_kwargs,
            bulk_environments=bulk_environments,
            reference_id=reference_id,
            tags=tags,
        )

        return job_bulk_create
