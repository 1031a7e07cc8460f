from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.storage_blob_document_data_type import StorageBlobDocumentDataType

if TYPE_CHECKING:
    from ..models.storage_blob_attributes import StorageBlobAttributes


T = TypeVar("T", bound="StorageBlobDocumentData")


@_attrs_define
class StorageBlobDocumentData:
    """
    Attributes:
        type_ (StorageBlobDocumentDataType):
        id (str): `compute/{namespace}/{function_id}/{job_id}`.
        attributes (StorageBlobAttributes): What the catalog records about a job's result blob.
    """

    type_: StorageBlobDocumentDataType
    id: str
    attributes: StorageBlobAttributes
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        id = self.id

        attributes = self.attributes.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "id": id,
                "attributes": attributes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.storage_blob_attributes import StorageBlobAttributes  # noqa: PLC0415

        d = dict(src_dict)
        type_ = StorageBlobDocumentDataType(d.pop("type"))

        id = d.pop("id")

        attributes = StorageBlobAttributes.from_dict(d.pop("attributes"))

        storage_blob_document_data = cls(
            type_=type_,
            id=id,
            attributes=attributes,
        )

        storage_blob_document_data.additional_properties = d
        return storage_blob_document_data

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
