from enum import StrEnum


class FunctionUpdateStatus(StrEnum):
    READY = "ready"
    STOPPED = "stopped"

    def __str__(self) -> str:
        return str(self.value)
