from enum import StrEnum


class DeleteFunctionDeleteResults(StrEnum):
    FALSE = "false"
    PY_FALSE = "False"
    PY_TRUE = "True"
    TRUE = "true"

    def __str__(self) -> str:
        return str(self.value)
