from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.storage_blob_attributes_storage_state import StorageBlobAttributesStorageState
from ..models.storage_blob_attributes_storage_type import StorageBlobAttributesStorageType

if TYPE_CHECKING:
    from ..models.extra_properties import ExtraProperties
    from ..models.geo_json_geometry import GeoJsonGeometry


T = TypeVar("T", bound="StorageBlobAttributes")


@_attrs_define
class StorageBlobAttributes:
    """What the catalog records about a job's result blob.

    Attributes:
        namespace (str): The function's namespace.
        name (str): `{function_id}/{job_id}`.
        storage_type (StorageBlobAttributesStorageType):
        storage_state (StorageBlobAttributesStorageState):
        description (None | str):
        expires (datetime.datetime | None): When the blob is deleted automatically, or null.
        extra_properties (ExtraProperties): At most 50 user properties, values strings or numbers.
        tags (list[str]): Free-form labels, each 1 to 256 characters, at most 100.
        geometry (GeoJsonGeometry | None):
        size_bytes (int):
        hash_ (str): MD5 of the bytes, lowercase hex.
        href (None | str):
        created (datetime.datetime): UTC ending in `Z` (the catalog client parses only this form).
        modified (datetime.datetime): UTC ending in `Z` (the catalog client parses only this form).
        owners (list[str]):
        readers (list[str]):
        writers (list[str]):
    """

    namespace: str
    name: str
    storage_type: StorageBlobAttributesStorageType
    storage_state: StorageBlobAttributesStorageState
    description: None | str
    expires: datetime.datetime | None
    extra_properties: ExtraProperties
    tags: list[str]
    geometry: GeoJsonGeometry | None
    size_bytes: int
    hash_: str
    href: None | str
    created: datetime.datetime
    modified: datetime.datetime
    owners: list[str]
    readers: list[str]
    writers: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.geo_json_geometry import GeoJsonGeometry  # noqa: PLC0415

        namespace = self.namespace

        name = self.name

        storage_type = self.storage_type.value

        storage_state = self.storage_state.value

        description: None | str
        description = self.description

        expires: None | str
        if isinstance(self.expires, datetime.datetime):
            expires = self.expires.isoformat()
        else:
            expires = self.expires

        extra_properties = self.extra_properties.to_dict()

        tags = self.tags

        geometry: dict[str, Any] | None
        if isinstance(self.geometry, GeoJsonGeometry):
            geometry = self.geometry.to_dict()
        else:
            geometry = self.geometry

        size_bytes = self.size_bytes

        hash_ = self.hash_

        href: None | str
        href = self.href

        created = self.created.isoformat()

        modified = self.modified.isoformat()

        owners = self.owners

        readers = self.readers

        writers = self.writers

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "namespace": namespace,
                "name": name,
                "storage_type": storage_type,
                "storage_state": storage_state,
                "description": description,
                "expires": expires,
                "extra_properties": extra_properties,
                "tags": tags,
                "geometry": geometry,
                "size_bytes": size_bytes,
                "hash": hash_,
                "href": href,
                "created": created,
                "modified": modified,
                "owners": owners,
                "readers": readers,
                "writers": writers,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.extra_properties import ExtraProperties  # noqa: PLC0415
        from ..models.geo_json_geometry import GeoJsonGeometry  # noqa: PLC0415

        d = dict(src_dict)
        namespace = d.pop("namespace")

        name = d.pop("name")

        storage_type = StorageBlobAttributesStorageType(d.pop("storage_type"))

        storage_state = StorageBlobAttributesStorageState(d.pop("storage_state"))

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        def _parse_expires(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_type_0 = datetime.datetime.fromisoformat(data)

                return expires_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        expires = _parse_expires(d.pop("expires"))

        extra_properties = ExtraProperties.from_dict(d.pop("extra_properties"))

        tags = cast(list[str], d.pop("tags"))

        def _parse_geometry(data: object) -> GeoJsonGeometry | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                geometry_type_0 = GeoJsonGeometry.from_dict(data)

                return geometry_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(GeoJsonGeometry | None, data)

        geometry = _parse_geometry(d.pop("geometry"))

        size_bytes = d.pop("size_bytes")

        hash_ = d.pop("hash")

        def _parse_href(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        href = _parse_href(d.pop("href"))

        created = datetime.datetime.fromisoformat(d.pop("created"))

        modified = datetime.datetime.fromisoformat(d.pop("modified"))

        owners = cast(list[str], d.pop("owners"))

        readers = cast(list[str], d.pop("readers"))

        writers = cast(list[str], d.pop("writers"))

        storage_blob_attributes = cls(
            namespace=namespace,
            name=name,
            storage_type=storage_type,
            storage_state=storage_state,
            description=description,
            expires=expires,
            extra_properties=extra_properties,
            tags=tags,
            geometry=geometry,
            size_bytes=size_bytes,
            hash_=hash_,
            href=href,
            created=created,
            modified=modified,
            owners=owners,
            readers=readers,
            writers=writers,
        )

        storage_blob_attributes.additional_properties = d
        return storage_blob_attributes

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
