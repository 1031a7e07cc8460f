from enum import StrEnum


class StorageBlobAttributesStorageType(StrEnum):
    COMPUTE = "compute"

    def __str__(self) -> str:
        return str(self.value)
