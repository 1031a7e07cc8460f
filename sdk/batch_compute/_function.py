"""``Function``: user code the server builds once and runs as many jobs."""

from __future__ import annotations

import builtins
import enum
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

from ._bundle import build_bundle, entrypoint_source
from ._client import ComputeClient
from ._document import Document
from ._errors import BuildFailedError, ComputeError, NotFoundError, WaitTimeoutError
from ._filters import Attribute, Expression
from ._job import Job, JobStatus
from ._progress import ProgressOption, make_progress, poll_interval, set_total
from ._search import JobSearch, Search
from ._units import Cpus, Memory, parse_cpus, parse_memory

__all__ = ["Function", "FunctionStatus", "JobBulkCreateError", "JobBulkCreateResult"]

_MAX_BATCH = 1000
_AS_COMPLETED_CHUNK = 128
_BUSY = ("pending", "running", "cancel", "canceling")


class FunctionStatus(enum.StrEnum):
    """The status of the Function."""

    AWAITING_BUNDLE = "awaiting_bundle"  #: created; the code bundle is not uploaded yet
    BUILDING = "building"  #: the bundle is being checked and its requirements installed
    BUILD_FAILED = "build_failed"  #: the build failed; see build_log()
    READY = "ready"  #: jobs run
    STOPPED = "stopped"  #: jobs wait until start()


@attrs.frozen
class JobBulkCreateError:
    """One batch of ``Function.map`` that could not be submitted, with what it held."""

    function_id: str
    args: list[Any]
    kwargs: list[Mapping[str, Any]] | None
    environments: list[Mapping[str, str]] | None
    reference_id: str
    exception: Exception

    def __str__(self) -> str:
        return f"{len(self.args)} jobs (reference {self.reference_id}) failed: {self.exception}"


class JobBulkCreateResult(builtins.list[Job]):
    """The jobs ``Function.map`` submitted (a list), plus the batches that failed."""

    def __init__(self, jobs: Iterable[Job] = ()) -> None:
        super().__init__(jobs)
        self.errors: builtins.list[JobBulkCreateError] = []

    @property
    def is_success(self) -> bool:
        """True when every batch was submitted."""
        return not self.errors


def _batches(items: builtins.list[Any], size: int) -> Iterator[tuple[int, builtins.list[Any]]]:
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


class Function(Document):
    """The serverless cloud function that you can call directly or submit many jobs to."""

    id: Attribute[str] = Attribute(readonly=True, filterable=True, sortable=True,
                                   doc="The ID of the Function.")  # fmt: skip
    creation_date = Attribute[Any](readonly=True, filterable=True, sortable=True, is_datetime=True,
                                   doc="The date the Function was created.")  # fmt: skip
    modified_date = Attribute[Any](
        readonly=True, filterable=True, sortable=True, is_datetime=True,
        doc="The date the Function was last modified or processed a job submission.",
    )  # fmt: skip
    name: Attribute[str] = Attribute(filterable=True, sortable=True,
                                     doc="The name of the Function.")  # fmt: skip
    image: Attribute[str] = Attribute(
        immutable=True, filterable=True, doc="The base image used to create the Function."
    )
    cpus: Attribute[float] = Attribute(filterable=True, sortable=True, convert=parse_cpus,
                                       doc="The number of cpus to request per job.")  # fmt: skip
    memory: Attribute[int] = Attribute(filterable=True, sortable=True, convert=parse_memory,
                                       doc="The memory, in MiB, to request per job.")  # fmt: skip
    maximum_concurrency: Attribute[int] = Attribute(
        filterable=True, sortable=True, doc="The maximum number of Jobs running at the same time."
    )
    timeout: Attribute[int] = Attribute(
        filterable=True, sortable=True, doc="Seconds a Job may run before timing out."
    )
    retry_count: Attribute[int] = Attribute(
        filterable=True, sortable=True, doc="Retries of a failed Job before it fails."
    )
    enabled: Attribute[bool] = Attribute(
        filterable=True, sortable=True, doc="Whether the Function accepts job submissions."
    )
    auto_start: Attribute[bool] = Attribute(
        filterable=True, sortable=True,
        doc="Whether the Function becomes READY once building is complete.",
    )  # fmt: skip
    environment: Attribute[dict[str, str] | None] = Attribute(
        doc="The environment variables to set for Jobs run by the Function."
    )
    namespace: Attribute[str] = Attribute(
        readonly=True, filterable=True, doc="The storage namespace for the Function."
    )
    owner: Attribute[str] = Attribute(readonly=True, filterable=True,
                                      doc="The owner of the Function.")  # fmt: skip
    status: Attribute[FunctionStatus] = Attribute(
        readonly=True, filterable=True, sortable=True, convert=FunctionStatus,
        doc="The status of the Function.",
    )  # fmt: skip
    job_statistics: Attribute[dict[str, int] | None] = Attribute(
        readonly=True, doc="Job counts by status (only with include=job.statistics)."
    )

    def __init__(
        self,
        function: Callable[..., Any] | str | None = None,
        requirements: builtins.list[str] | str | None = None,
        include_data: builtins.list[str] | None = None,
        include_modules: builtins.list[str] | None = None,
        name: str | None = None,
        image: str | None = None,
        cpus: Cpus | None = None,
        memory: Memory | None = None,
        maximum_concurrency: int | None = None,
        timeout: int | None = None,
        retry_count: int | None = None,
        client: ComputeClient | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(client)
        self._function = function
        self._requirements = requirements
        self._include_data = include_data
        self._include_modules = include_modules
        self._includes: builtins.list[str] = []
        if name is None and function is not None:
            name = (function.rpartition(".")[2] if isinstance(function, str)
                    else getattr(function, "__name__", None))  # fmt: skip
        settings = {
            "name": name, "image": image, "cpus": cpus, "memory": memory,
            "maximum_concurrency": maximum_concurrency, "timeout": timeout,
            "retry_count": retry_count,
        }  # fmt: skip
        for key, value in settings.items():
            if value is not None:
                setattr(self, key, value)
        self.update(**extra)

    @classmethod
    def _from_wire(cls, data: dict[str, Any], client: ComputeClient) -> Function:
        function = cls.__new__(cls)
        Document.__init__(function, client)
        function._function = None
        function._includes = []
        function._load(data)
        return function

    def _load(self, data: dict[str, Any]) -> None:
        super()._load(data)
        if self._values.get("id") and self._values.get("namespace"):
            self.client.set_namespace(self.id, self.namespace)

    def __repr__(self) -> str:
        status = self.status.value if self.status is not None else "unsaved"
        return f"Function {self.name} ({self.id}): {status}"

    # -- retrieval -------------------------------------------------------------------------------

    @classmethod
    def get(cls, id: str, client: ComputeClient | None = None, **params: Any) -> Function:
        """Get Function by id; ``include=["job.statistics"]`` adds job counts."""
        client = client or ComputeClient.get_default_client()
        include = params.get("include")
        data = client.api.get_function(
            id, include=[include] if isinstance(include, str) else include
        )
        function = cls._from_wire(data, client)
        function._includes = [include] if isinstance(include, str) else list(include or [])
        return function

    @classmethod
    def list(cls, page_size: int = 100, client: ComputeClient | None = None,
             **params: Any) -> Search[Function]:  # fmt: skip
        """Lists all Functions for a user (``status=`` and ``include=`` are passed on)."""
        return Search(cls, client, page_size=page_size, **params)

    @classmethod
    def search(cls, client: ComputeClient | None = None) -> Search[Function]:
        """A lazy search over the caller's functions."""
        return Search(cls, client)

    def refresh(self, includes: str | None = None) -> None:
        """Reload from the server; ``includes="job.statistics"`` adds job counts."""
        self._check_saved()
        if includes:
            self._includes = [includes]
        self._load(self.client.api.get_function(self.id, include=self._includes or None))

    # -- lifecycle -------------------------------------------------------------------------------

    @classmethod
    def update_credentials(cls, client: ComputeClient | None = None) -> None:
        """Store (or check) the credentials jobs use to call other services for this user."""
        (client or ComputeClient.get_default_client()).set_credentials()

    def save(self) -> None:
        """Create the function (bundle, upload, build) if new; else send local changes."""
        self._check_not_deleted()
        if self._saved:
            if self._modified:
                changes = self.to_dict(only_modified=True, exclude_readonly=True)
                changes.pop("image", None)
                self._load(self.client.api.update_function(self.id, changes))
            return
        if self._function is None:
            raise ValueError("a new Function needs the function (a callable or a dotted path)")
        if self.image is None:
            raise ValueError("a new Function needs an image, e.g. 'python3.11:latest'")
        entrypoint_source(self._function)  # refuse bad code before any request
        bundle = build_bundle(
            self._function, self._requirements, self._include_data, self._include_modules
        )
        self.update_credentials(self.client)
        body = self.to_dict(exclude_readonly=True, exclude_none=True)
        created, upload_url = self.client.api.create_function(body)
        self._load(created)
        self.client.api.upload_bundle(upload_url, bundle)
        self._load(self.client.api.complete_function_bundle(self.id))

    def _patch(self, changes: dict[str, Any]) -> None:
        self._check_saved()
        self._load(self.client.api.update_function(self.id, changes))

    def start(self) -> None:
        """Let pending jobs run (status READY)."""
        self._patch({"status": FunctionStatus.READY.value})

    def stop(self) -> None:
        """Hold pending jobs (status STOPPED); running jobs finish."""
        self._patch({"status": FunctionStatus.STOPPED.value})

    def enable(self) -> None:
        """Accept job submissions and reruns again."""
        if self.enabled is not True:
            self._patch({"enabled": True})

    def disable(self) -> None:
        """Refuse new job submissions and reruns; queued and running jobs continue."""
        if self.enabled is not False:
            self._patch({"enabled": False})

    def delete(self, delete_results: bool = False) -> None:
        """Delete the function and its jobs (refused while jobs run); results too if asked."""
        self._check_saved()
        self.client.api.delete_function(self.id, delete_results)
        self._mark_deleted()

    def build_log(self) -> str:
        """The build output (pip and bundle checks) as text."""
        import gzip

        self._check_saved()
        return gzip.decompress(self.client.api.get_function_build_log(self.id)).decode("utf-8")

    # -- submitting jobs -------------------------------------------------------------------------

    def __call__(self, *args: Any, tags: builtins.list[str] | None = None,
                 environment: dict[str, str] | None = None, **kwargs: Any) -> Job:  # fmt: skip
        """Submit one job ``function(*args, **kwargs)`` (saving the function first if needed)."""
        self.save()
        job = Job(self.id, list(args), dict(kwargs), client=self.client,
                  environment=environment, tags=list(tags or []))  # fmt: skip
        job.save()
        return job

    def map(
        self,
        args: Iterable[Iterable[Any]],
        kwargs: Iterable[Mapping[str, Any]] | None = None,
        tags: builtins.list[str] | None = None,
        batch_size: int = 1000,
        environments: Iterable[Mapping[str, str]] | None = None,
        progress: ProgressOption = None,
    ) -> JobBulkCreateResult:
        """Submit one job per element of ``args``, in batches of ``batch_size`` requests.

        The first batch's failure is raised (nothing was submitted); later failures are kept in
        ``result.errors`` so the caller can retry just those. A retried batch reuses its
        ``reference_id``, so the server never creates it twice. ``progress`` counts submitted
        jobs: None draws a tqdm bar only on a terminal, True always, or pass your own bar.
        """
        self._check_saved()
        if self._modified:
            raise ValueError("save the function's changes before map()")
        if not 1 <= batch_size <= _MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {_MAX_BATCH}")
        all_args = [builtins.list(item) for item in args]
        all_kwargs = None if kwargs is None else [dict(item) for item in kwargs]
        all_envs = None if environments is None else [dict(item) for item in environments]
        for label, values in (("kwargs", all_kwargs), ("environments", all_envs)):
            if values is not None and len(values) != len(all_args):
                raise ValueError(f"{label} must have as many elements as args")
        result = JobBulkCreateResult()
        bar = make_progress(progress, len(all_args), f"submitting {self.name}")
        try:
            for start, chunk in _batches(all_args, batch_size):
                body: dict[str, Any] = {
                    "function_id": self.id,
                    "bulk_args": chunk,
                    "bulk_kwargs": None if all_kwargs is None
                    else all_kwargs[start : start + len(chunk)],
                    "bulk_environments": None if all_envs is None
                    else all_envs[start : start + len(chunk)],
                    "reference_id": str(uuid.uuid4()),
                }  # fmt: skip
                if tags:
                    body["tags"] = builtins.list(tags)
                try:
                    created = self.client.api.create_jobs_bulk(body)
                except ComputeError as exc:
                    if start == 0 or isinstance(exc, NotFoundError):
                        raise
                    result.errors.append(JobBulkCreateError(
                        self.id, chunk, body["bulk_kwargs"], body["bulk_environments"],
                        body["reference_id"], exc,
                    ))  # fmt: skip
                    continue
                result.extend(Job._from_wire(item, self.client) for item in created)
                bar.update(len(chunk))
        finally:
            bar.close()
        return result

    # -- jobs of this function -------------------------------------------------------------------

    @property
    def jobs(self) -> JobSearch:
        """A JobSearch for all the Jobs of this Function."""
        self._check_saved()
        return JobSearch(Job, self.client).filter(Job.function_id == self.id)

    def _query(self, query: JobSearch | None, job_ids: builtins.list[str] | None) -> JobSearch:
        search = self.jobs
        if query is not None:
            for expression in query.filters:
                search = search.filter(expression)
            if query.sorts:
                search = search.sort(*query.sorts)
            if query.max_results is not None:
                search = search.limit(query.max_results)
            if query.params:
                search = search.param(**query.params)
        if job_ids is not None:
            search = search.filter(Job.id.in_(job_ids))
        return search

    def cancel_jobs(self, query: JobSearch | None = None,
                    job_ids: builtins.list[str] | None = None) -> builtins.list[Job]:  # fmt: skip
        """Cancel this function's jobs matching ``query`` and/or ``job_ids`` (all by default)."""
        return self._query(query, job_ids).cancel()

    def rerun(self, query: JobSearch | None = None,
              job_ids: builtins.list[str] | None = None) -> builtins.list[Job]:  # fmt: skip
        """Rerun this function's failed, timed-out or canceled jobs matching the query."""
        return self._query(query, job_ids).rerun()

    def delete_jobs(self, query: JobSearch | None = None, job_ids: builtins.list[str] | None = None,
                    delete_results: bool = False) -> builtins.list[str]:  # fmt: skip
        """Delete this function's non-running jobs matching the query; returns their ids."""
        return self._query(query, job_ids).delete(delete_results=delete_results)

    def wait_for_completion(self, timeout: float | None = None, interval: float = 10,
                            progress: ProgressOption = None) -> None:  # fmt: skip
        """Wait until the build is done and no job is pending or running.

        Raises BuildFailedError if the build fails, WaitTimeoutError after ``timeout`` seconds.
        ``progress`` counts finished jobs (see ``map``); while the bar is drawn, the function is
        polled at least once a second (not every ``interval``), so the bar moves as jobs finish.
        """
        self._check_saved()
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = make_progress(progress, None, f"waiting for {self.name}")
        interval = poll_interval(bar, interval)
        done_seen = 0
        try:
            while True:
                self.refresh(includes="job.statistics")
                stats = self.job_statistics or {}
                if self.status == FunctionStatus.BUILD_FAILED:
                    raise BuildFailedError(f"function {self.id} failed to build: see build_log()")
                busy = sum(int(stats.get(key, 0)) for key in _BUSY)
                done = sum(int(stats.get(key, 0)) for key in JobStatus.terminal())
                total = getattr(bar, "total", None)
                if total is None or busy + done > total:
                    set_total(bar, busy + done)
                if done > done_seen:
                    bar.update(done - done_seen)
                    done_seen = done
                ready = self.status in (FunctionStatus.READY, FunctionStatus.STOPPED)
                if ready and busy == 0:
                    return
                if deadline is not None and time.monotonic() + interval > deadline:
                    raise WaitTimeoutError(
                        f"function {self.id}: {busy} jobs still busy after {timeout} s"
                    )
                time.sleep(interval)
        finally:
            bar.close()

    def as_completed(
        self,
        jobs: Iterable[Job],
        timeout: float | None = None,
        interval: float = 10,
        progress: ProgressOption = None,
    ) -> Iterator[Job]:
        """Yield each job once it has finished (success, failure, timeout or canceled).

        ``progress`` counts the finished jobs (see ``map``); while the bar is drawn, polls are
        at most a second apart (see ``wait_for_completion``).
        """
        outstanding = {job.id: job for job in jobs}
        for job in outstanding.values():
            if job.function_id != self.id:
                raise ValueError(f"job {job.id} does not belong to function {self.id}")
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = make_progress(progress, len(outstanding), f"waiting for {self.name}")
        # An idle wait backs off up to a minute, or up to a second while a bar is drawn.
        ceiling = poll_interval(bar, max(interval, 60))
        interval = poll_interval(bar, interval)
        wait = interval
        try:
            while outstanding:
                self.refresh()
                if self.status == FunctionStatus.BUILD_FAILED:
                    raise BuildFailedError(f"function {self.id} failed to build: see build_log()")
                finished = 0
                ids = builtins.list(outstanding)
                for start in range(0, len(ids), _AS_COMPLETED_CHUNK):
                    chunk = ids[start : start + _AS_COMPLETED_CHUNK]
                    done: Expression = Job.status.in_(JobStatus.terminal())
                    search = JobSearch(Job, self.client).filter(Job.id.in_(chunk)).filter(done)
                    for completed in search:
                        if completed.id in outstanding:
                            job = outstanding.pop(completed.id)
                            job._load(completed.to_dict())
                            finished += 1
                            bar.update(1)
                            yield job
                if not outstanding:
                    return
                if deadline is not None and time.monotonic() + wait > deadline:
                    raise WaitTimeoutError(
                        f"{len(outstanding)} jobs still running after {timeout} s"
                    )
                wait = interval if finished else min(wait * 2, ceiling)
                time.sleep(wait)
        finally:
            bar.close()

    def iter_results(self, cast_type: type[Any] | None = None) -> Iterator[Any]:
        """Each successful job's result, one download at a time."""
        search = self.jobs.filter(Job.status == JobStatus.SUCCESS)
        for job in search:
            yield job.result(cast_type=cast_type)

    def results(self, cast_type: type[Any] | None = None) -> builtins.list[Any]:
        """Every successful job's result in a list (see iter_results for large sets)."""
        return builtins.list(self.iter_results(cast_type))
