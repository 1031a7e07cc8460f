from enum import StrEnum


class FilterNullCheckOp(StrEnum):
    ISNOTNULL = "isnotnull"
    ISNULL = "isnull"

    def __str__(self) -> str:
        return str(self.value)
