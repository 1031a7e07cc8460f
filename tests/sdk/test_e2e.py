"""End-to-end through the public SDK against a live server: everything that needs no executor."""

from __future__ import annotations

import pytest
from e2e_functions import add, echo

import batch_compute
from batch_compute import (
    BadRequestError,
    ComputeClient,
    ConfigurationError,
    DocumentState,
    Function,
    FunctionStatus,
    Job,
    JobStatus,
    NotFoundError,
)

IMAGE = "python3.11:latest"


def _function(client: ComputeClient, fn: object = add, **kwargs: object) -> Function:
    function = Function(fn, image=IMAGE, cpus="0.5vCPU", memory="1GB", client=client, **kwargs)  # type: ignore[arg-type]
    function.save()
    return function


def test_configuration_error_without_url_or_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BATCH_COMPUTE_URL", raising=False)
    monkeypatch.delenv("BATCH_COMPUTE_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="BATCH_COMPUTE_URL"):
        ComputeClient()
    with pytest.raises(ConfigurationError, match="BATCH_COMPUTE_TOKEN"):
        ComputeClient(url="http://127.0.0.1:1")


def test_default_client_from_environment(monkeypatch: pytest.MonkeyPatch, live_server) -> None:  # type: ignore[no-untyped-def]
    ComputeClient.clear_all_default_clients()
    monkeypatch.setenv("BATCH_COMPUTE_URL", live_server.origin)
    monkeypatch.setenv("BATCH_COMPUTE_TOKEN", live_server.token("env-user"))
    client = ComputeClient.get_default_client()
    assert client is ComputeClient.get_default_client()
    assert client.token == live_server.token("env-user") or client.token
    assert list(Function.list()) == []
    ComputeClient.clear_all_default_clients()


def test_function_lifecycle(client: ComputeClient) -> None:
    function = _function(client, requirements=["attrs>=20"])
    assert function.state == DocumentState.SAVED
    assert function.name == "add" and function.cpus == 0.5 and function.memory == 1024
    assert function.status in set(FunctionStatus)
    assert client.get_namespace(function.id) == function.namespace
    again = Function.get(function.id, include=["job.statistics"])
    assert again.id == function.id and isinstance(again.job_statistics, dict)
    again.memory = "2GB"
    assert again.is_modified and again.state == DocumentState.MODIFIED
    again.save()
    assert Function.get(function.id).memory == 2048
    with pytest.raises(AttributeError, match="immutable"):
        again.image = "python3.12:latest"
    with pytest.raises(AttributeError, match="readonly"):
        again.status = FunctionStatus.READY  # type: ignore[misc]
    again.disable()
    assert again.enabled is False
    again.enable()
    assert again.enabled is True
    assert again.to_dict(only_modified=True) == {}
    assert set(again.to_dict(exclude_readonly=True)) >= {"name", "image", "cpus", "memory"}
    again.refresh(includes="job.statistics")
    assert again.job_statistics is not None
    again.delete()
    assert again.state == DocumentState.DELETED
    with pytest.raises(AttributeError):
        again.save()
    with pytest.raises(NotFoundError):
        Function.get(function.id)


def test_search_sort_count_and_pagination(client: ComputeClient) -> None:
    names = [f"fn-{i:02d}" for i in range(7)]
    for name in names:
        _function(client, name=name)
    search = Function.search().filter(Function.name.prefix("fn-"))
    assert search.count() == 7
    got = [f.name for f in search.sort(-Function.name).param(page_size=2)]
    assert got == sorted(names, reverse=True)
    assert [f.name for f in search.sort(Function.name).limit(3)] == names[:3]
    assert len(list(Function.list(page_size=3))) == 7
    assert len(search.collect()) == 7
    first = Function.search().filter(Function.name == "fn-03").collect()
    assert [f.name for f in first] == ["fn-03"]
    assert repr(first).startswith("Collection(")


def test_jobs_create_get_update_cancel_delete(client: ComputeClient) -> None:
    function = _function(client, echo, auto_start=False)  # jobs stay pending
    job = function(1, 2, tags=["a"], environment={"X": "1"}, k="v")
    assert job.status in set(JobStatus) and job.tags == ["a"]
    assert job.args == [1, 2] and job.kwargs == {"k": "v"} and job.environment == {"X": "1"}
    fetched = Job.get(job.id, include=["timings"])
    assert fetched.function_id == function.id
    assert fetched.function.id == function.id
    with pytest.raises(AttributeError, match="immutable"):
        fetched.function_id = "other"
    fetched.tags = ["a", "b"]
    fetched.save()
    assert Job.get(job.id).tags == ["a", "b"]
    other = Job(function.id, [3], client=client)
    other.save()
    assert other.state == DocumentState.SAVED
    assert Job.search().filter(Job.tags == "b").count() == 1
    assert function.jobs.count() == 2
    assert Job.list(function_id=function.id).count() == 2  # legacy parameter
    other.cancel()
    if other.status == JobStatus.CANCELED:
        with pytest.raises(ValueError, match="completed successfully"):
            other.result()
    other.delete()
    with pytest.raises(NotFoundError):
        Job.get(other.id)


def test_bulk_map_larger_than_one_batch(client: ComputeClient) -> None:
    function = _function(client, auto_start=False)
    result = function.map([[i] for i in range(25)], [{"b": i} for i in range(25)],
                          tags=["bulk"], batch_size=10)  # fmt: skip
    assert result.is_success and result.errors == []
    assert len(result) == 25 and all(isinstance(job, Job) for job in result)
    assert [job.args for job in result] == [[i] for i in range(25)]
    assert Job.search().filter(Job.tags == "bulk").count() == 25
    pages = list(Job.search().filter(Job.function_id == function.id).param(page_size=4))
    assert len({job.id for job in pages}) == 25
    with pytest.raises(ValueError, match="batch_size"):
        function.map([[1]], batch_size=1001)
    with pytest.raises(ValueError, match="as many"):
        function.map([[1], [2]], kwargs=[{}])
    assert function.map([]) == []


def test_bulk_operations_by_query(client: ComputeClient) -> None:
    function = _function(client, auto_start=False)  # jobs stay pending
    jobs = function.map([[i] for i in range(6)])
    canceled = function.cancel_jobs(job_ids=[jobs[0].id, jobs[1].id])
    assert {job.id for job in canceled} <= {jobs[0].id, jobs[1].id}
    rerun = function.rerun(job_ids=[jobs[0].id])
    assert all(job.function_id == function.id for job in rerun)
    deleted = function.delete_jobs(job_ids=[jobs[2].id], delete_results=True)
    assert deleted == [jobs[2].id]
    left = function.jobs.filter(Job.status == JobStatus.PENDING).limit(1).delete()
    assert len(left) == 1
    assert function.jobs.count() == 4


def test_errors_carry_the_servers_reason(client: ComputeClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        Job.get("no-such-job")
    assert caught.value.status == 404 and "404 GET" in str(caught.value)
    with pytest.raises(BadRequestError) as bad:
        Function(add, image="not-an-image", client=client).save()
    assert "image" in str(bad.value)
    with pytest.raises(BadRequestError):
        Function(add, image=IMAGE, cpus=3, memory=1, client=client).save()
    assert issubclass(batch_compute.NotFoundError, LookupError)


def test_client_helpers(client: ComputeClient, live_server) -> None:  # type: ignore[no-untyped-def]
    _function(client, name="helper")
    items = list(client.iter_pages("/functions", {"page_size": 1}))
    assert [item["name"] for item in items] == ["helper"]
    assert isinstance(client.check_credentials(), bool)
    client.set_namespace("f", "ns")
    assert client.get_namespace("f") == "ns"
    assert client.session.base_url.host == "127.0.0.1"
    assert ComputeClient.TIMEOUT == (9.5, 30)
