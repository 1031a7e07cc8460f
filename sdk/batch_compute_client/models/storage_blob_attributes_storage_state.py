from enum import StrEnum


class StorageBlobAttributesStorageState(StrEnum):
    AVAILABLE = "available"

    def __str__(self) -> str:
        return str(self.value)
