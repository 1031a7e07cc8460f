from enum import StrEnum


class JobStatus(StrEnum):
    CANCEL = "cancel"
    CANCELED = "canceled"
    CANCELING = "canceling"
    FAILURE = "failure"
    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    TIMEOUT = "timeout"

    def __str__(self) -> str:
        return str(self.value)
