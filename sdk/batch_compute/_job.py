"""``Job``: one invocation of a function, with its status, log and result."""

from __future__ import annotations

import enum
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._client import ComputeClient
from ._document import Document
from ._errors import NotFoundError, WaitTimeoutError
from ._filters import Attribute
from ._results import ResultBlob, decode_result
from ._search import JobSearch

if TYPE_CHECKING:
    from ._function import Function

__all__ = ["Job", "JobStatistics", "JobStatus"]


class JobStatus(enum.StrEnum):
    """The status of the Job."""

    PENDING = "pending"  #: waiting to run (or for its function's build)
    RUNNING = "running"  #: executing now
    CANCEL = "cancel"  #: cancel requested while running
    CANCELING = "canceling"  #: being stopped
    SUCCESS = "success"  #: returned normally
    FAILURE = "failure"  #: raised, or exited non-zero, after its retries
    TIMEOUT = "timeout"  #: ran longer than the function's timeout
    CANCELED = "canceled"  #: stopped on request

    @classmethod
    def terminal(cls) -> list[JobStatus]:
        """The statuses a job never leaves (unless rerun)."""
        return [cls.SUCCESS, cls.FAILURE, cls.TIMEOUT, cls.CANCELED]


@attrs.frozen
class JobStatistics:
    """Runtime utilisation of a finished job: ``cpu``, ``memory`` and ``network`` usage."""

    cpu: Mapping[str, Any] | None = None
    memory: Mapping[str, Any] | None = None
    network: Mapping[str, Any] | None = None

    @classmethod
    def from_wire(cls, data: Any) -> JobStatistics:
        if isinstance(data, JobStatistics):
            return data
        data = data or {}
        return cls(cpu=data.get("cpu"), memory=data.get("memory"), network=data.get("network"))

    def to_dict(self) -> dict[str, Any]:
        return {"cpu": self.cpu, "memory": self.memory, "network": self.network}


class Job(Document):
    """A single invocation of a Function.

    ``Job(function_id, args, kwargs, environment=...)`` builds one locally; ``save()`` submits it.
    Calling a ``Function`` is the usual way to get one.
    """

    id: Attribute[str] = Attribute(readonly=True, filterable=True, sortable=True,
                                   doc="The ID of the Job.")  # fmt: skip
    function_id: Attribute[str] = Attribute(
        immutable=True, filterable=True, doc="The ID of the Function the Job belongs to."
    )
    creation_date = Attribute[Any](readonly=True, filterable=True, sortable=True, is_datetime=True,
                                   doc="The date the Job was created.")  # fmt: skip
    args: Attribute[list[Any] | None] = Attribute(doc="The arguments provided to the Job.")
    kwargs: Attribute[dict[str, Any] | None] = Attribute(doc="The parameters provided to the Job.")
    environment: Attribute[dict[str, str] | None] = Attribute(
        doc="The environment variables provided to the Job."
    )
    tags: Attribute[list[str]] = Attribute(
        filterable=True, default=list, convert=list, doc="A list of tags associated with the Job."
    )
    status: Attribute[JobStatus] = Attribute(
        readonly=True, filterable=True, sortable=True, convert=JobStatus,
        doc="The current status of the Job.",
    )  # fmt: skip
    error_reason: Attribute[str | None] = Attribute(readonly=True, doc="The reason the Job failed.")
    execution_count: Attribute[int | None] = Attribute(
        readonly=True, filterable=True, sortable=True,
        doc="The number of attempts made to execute this job.",
    )  # fmt: skip
    exit_code: Attribute[int | None] = Attribute(readonly=True, filterable=True, sortable=True,
                                                 doc="The exit code of the Job.")  # fmt: skip
    runtime: Attribute[int | None] = Attribute(
        readonly=True, filterable=True, sortable=True, doc="The time it took the Job to complete."
    )
    last_execution_date = Attribute[Any](
        readonly=True, filterable=True, sortable=True, is_datetime=True,
        doc="The date the Job was last executed.",
    )  # fmt: skip
    last_completion_date = Attribute[Any](
        readonly=True, filterable=True, sortable=True, is_datetime=True,
        doc="The date the Job was last completed or canceled.",
    )  # fmt: skip
    statistics: Attribute[JobStatistics | None] = Attribute(
        readonly=True, convert=JobStatistics.from_wire,
        doc="The runtime utilization statistics for the Job.",
    )  # fmt: skip
    provisioning_time: Attribute[int | None] = Attribute(
        readonly=True, doc="The time it took to provision the Job (only with include=timings)."
    )
    pull_time: Attribute[int | None] = Attribute(
        readonly=True, doc="The time it took to load the user code (only with include=timings)."
    )

    def __init__(
        self,
        function_id: str,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        client: ComputeClient | None = None,
        environment: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(client)
        self._include: list[str] = []
        self.function_id = function_id
        self.args = list(args) if args is not None else None
        self.kwargs = dict(kwargs) if kwargs is not None else None
        self.environment = dict(environment) if environment is not None else None
        self.update(**extra)

    @classmethod
    def _from_wire(cls, data: dict[str, Any], client: ComputeClient) -> Job:
        job = cls.__new__(cls)
        Document.__init__(job, client)
        job._include = []
        job._load(data)
        return job

    def _load(self, data: dict[str, Any]) -> None:
        super()._load(data)
        if data.get("provisioning_time") is not None or data.get("pull_time") is not None:
            self._include = ["timings"]  # keep asking for timings once they were wanted

    def __repr__(self) -> str:
        status = self.status.value if self.status is not None else "unsaved"
        return f"Job {self.id}: {status}"

    # -- retrieval -------------------------------------------------------------------------------

    @classmethod
    def get(cls, id: str, client: ComputeClient | None = None, **params: Any) -> Job:
        """Retrieves the Job by id; ``include=["timings"]`` adds provisioning and pull times."""
        client = client or ComputeClient.get_default_client()
        include = params.get("include")
        data = client.api.get_job(id, include=[include] if isinstance(include, str) else include)
        return cls._from_wire(data, client)

    @classmethod
    def list(cls, page_size: int = 100, client: ComputeClient | None = None,
             **params: Any) -> JobSearch:  # fmt: skip
        """All jobs matching ``params`` (e.g. ``function_id=``, ``status=``), paged."""
        return JobSearch(cls, client, page_size=page_size, **params)

    @classmethod
    def search(cls, client: ComputeClient | None = None) -> JobSearch:
        """A lazy search over the caller's jobs."""
        return JobSearch(cls, client)

    def refresh(self, client: ComputeClient | None = None) -> None:
        """Reload from the server (local changes are discarded)."""
        self._check_saved()
        if client is not None:
            self._client = client
        self._load(self.client.api.get_job(self.id, include=self._include or None))

    @property
    def function(self) -> Function:
        """Returns the Function the Job belongs to."""
        from ._function import Function

        return Function.get(self.function_id, client=self.client)

    # -- changes ---------------------------------------------------------------------------------

    def save(self) -> None:
        """Submit the job if new; otherwise send the locally modified attributes, if any."""
        self._check_not_deleted()
        if not self._saved:
            body = self.to_dict(exclude_readonly=True, exclude_none=True)
            body.setdefault("args", [])
            self._load(self.client.api.create_job(body))
        elif self._modified:
            changes = self.to_dict(only_modified=True, exclude_readonly=True)
            changes.pop("function_id", None)
            self._load(self.client.api.update_job(self.id, changes))

    def cancel(self) -> None:
        """Cancel the job (a finished job is left as it is)."""
        self._check_saved()
        self._load(self.client.api.cancel_job(self.id))

    def delete(self, delete_result: bool = False) -> None:
        """Delete the job and its log; its result blob too with ``delete_result=True``."""
        self._check_saved()
        self.client.api.delete_job(self.id, delete_result)
        self._mark_deleted()

    # -- logs and results ------------------------------------------------------------------------

    def iter_log(self, timestamps: bool = True) -> Iterator[str]:
        """The job's log lines as they are read (timestamps in the local timezone)."""
        self._check_saved()
        return self.client.iter_log_lines(f"/compute/v1/jobs/{self.id}/log", timestamps)

    def log(self, timestamps: bool = True) -> str:
        """The whole log as one string (consider ``iter_log`` for long logs)."""
        return "\n".join(self.iter_log(timestamps))

    def wait_for_completion(self, timeout: float | None = None, interval: float = 10) -> None:
        """Poll until the job reaches a terminal status; WaitTimeoutError after ``timeout`` s."""
        self._check_saved()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.refresh()
            if self.status in JobStatus.terminal():
                return
            if deadline is not None and time.monotonic() + interval > deadline:
                raise WaitTimeoutError(f"job {self.id} still {self.status} after {timeout} s")
            time.sleep(interval)

    def _require_success(self) -> None:
        self._check_saved()
        if self.status != JobStatus.SUCCESS:
            self.refresh()
        if self.status != JobStatus.SUCCESS:
            if self.status in JobStatus.terminal():
                raise ValueError(f"job {self.id} has not completed successfully ({self.status})")
            raise ValueError(f"job {self.id} has not completed ({self.status})")

    def _blob_id(self) -> str | None:
        namespace = self.client.get_namespace(self.function_id)
        if namespace is None:
            try:
                namespace = str(self.client.api.get_function(self.function_id)["namespace"])
            except NotFoundError:
                return None
            self.client.set_namespace(self.function_id, namespace)
        return f"compute/{namespace}/{self.function_id}/{self.id}"

    def result(self, cast_type: type[Any] | None = None,
               catalog_client: ComputeClient | None = None) -> Any:  # fmt: skip
        """The job's return value (None when it stored none); ``cast_type`` deserialises it."""
        if cast_type is not None and not callable(getattr(cast_type, "deserialize", None)):
            raise ValueError(f"{cast_type!r} does not implement Serializable (no deserialize)")
        self._require_success()
        blob_id = self._blob_id()
        if blob_id is None:
            return None
        api = (catalog_client or self.client).catalog_api
        return decode_result(api.get_result_bytes(blob_id), cast_type)

    def result_blob(self, catalog_client: ComputeClient | None = None) -> ResultBlob | None:
        """The catalog record of the job's result, or None when it stored none."""
        self._require_success()
        blob_id = self._blob_id()
        if blob_id is None:
            return None
        data = (catalog_client or self.client).catalog_api.get_storage_blob(blob_id)
        return None if data is None else ResultBlob.from_wire(data)
