from enum import StrEnum


class FilterComparisonOp(StrEnum):
    EQ = "eq"
    GT = "gt"
    GTE = "gte"
    ILIKE = "ilike"
    LIKE = "like"
    LT = "lt"
    LTE = "lte"
    NE = "ne"
    PREFIX = "prefix"

    def __str__(self) -> str:
        return str(self.value)
