from enum import StrEnum


class StorageDownloadDocumentDataType(StrEnum):
    STORAGE_DOWNLOAD = "storage_download"

    def __str__(self) -> str:
        return str(self.value)
