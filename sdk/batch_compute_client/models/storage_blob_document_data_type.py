from enum import StrEnum


class StorageBlobDocumentDataType(StrEnum):
    STORAGE = "storage"

    def __str__(self) -> str:
        return str(self.value)
