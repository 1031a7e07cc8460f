"""Every error status the server can send becomes the documented exception, with the reason.

The SDK is under test here, so the server is a scripted ``httpx.MockTransport`` injected with
``ComputeClient(transport=...)``; waits between retries are recorded instead of slept.
"""

from __future__ import annotations

import httpx
import pytest
from mock_transport import Script, function_json, job_json, make_client, problem

from batch_compute import (
    ApiError,
    BadRequestError,
    ClientError,
    ConflictError,
    ForbiddenError,
    GoneError,
    Job,
    MethodNotAllowedError,
    NotFoundError,
    RateLimitError,
    ServerError,
    UnauthorizedError,
    ValidationError,
)

GET_JOB = "GET /compute/v1/jobs/job-1"


@pytest.mark.parametrize(
    ("status", "exception", "builtin"),
    [
        (400, BadRequestError, ValueError),
        (401, UnauthorizedError, ClientError),
        (403, ForbiddenError, PermissionError),
        (404, NotFoundError, LookupError),
        (405, MethodNotAllowedError, ClientError),
        (409, ConflictError, ClientError),
        (410, GoneError, ClientError),
        (429, RateLimitError, ClientError),
        (501, ServerError, ApiError),
    ],
)
def test_status_maps_to_its_exception_with_the_detail(
    status: int, exception: type[ApiError], builtin: type[Exception]
) -> None:
    script = Script().on(GET_JOB, problem(status, f"the reason for {status}"))
    with make_client(script) as client, pytest.raises(exception) as caught:
        Job.get("job-1", client=client)
    error = caught.value
    assert type(error) is exception and isinstance(error, builtin)
    assert error.status == status and error.detail == f"the reason for {status}"
    assert str(error) == f"{status} GET /compute/v1/jobs/job-1\nthe reason for {status}"
    assert script.count(GET_JOB) == 1  # none of these is retried (no Retry-After)


def test_422_lists_every_field_error() -> None:
    errors = {"image": ["Field is required"], "memory": ["too small", "not a multiple"]}
    script = Script().on("POST /compute/v1/jobs", problem(422, "Validation error", errors))
    with make_client(script) as client, pytest.raises(ValidationError) as caught:
        Job("fn-1", [1], client=client).save()
    error = caught.value
    assert isinstance(error, BadRequestError) and error.status == 422
    assert error.errors == errors
    assert str(error).splitlines() == [
        "422 POST /compute/v1/jobs", "Validation error", "    image: Field is required",
        "    memory: too small", "    memory: not a multiple",
    ]  # fmt: skip


@pytest.mark.parametrize("retry_after", [None, "0"])
def test_429_is_a_rate_limit_error_with_or_without_retry_after(retry_after: str | None) -> None:
    headers = {"Retry-After": retry_after} if retry_after is not None else None
    script = Script().on(GET_JOB, problem(429, "slow down", headers=headers))
    with make_client(script) as client, pytest.raises(RateLimitError) as caught:
        Job.get("job-1", client=client)
    assert caught.value.retry_after == retry_after
    assert "slow down" in str(caught.value)
    assert script.count(GET_JOB) == (1 if retry_after is None else 3)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_after_exhausted_retries_is_a_server_error(status: int) -> None:
    script = Script().on(GET_JOB, problem(status, "the backend fell over"))
    with make_client(script) as client, pytest.raises(ServerError) as caught:
        Job.get("job-1", client=client)
    assert caught.value.status == status
    assert str(caught.value) == f"{status} GET /compute/v1/jobs/job-1\nthe backend fell over"
    assert script.count(GET_JOB) == 3


@pytest.mark.parametrize(
    ("answer", "exception", "message"),
    [
        (httpx.Response(404), NotFoundError, "404 GET /compute/v1/jobs/job-1"),
        (httpx.Response(404, json={"detail": "Job not found"}), NotFoundError,
         "404 GET /compute/v1/jobs/job-1\nJob not found"),
        (httpx.Response(400, text="<html>bad gateway config</html>"), BadRequestError,
         "400 GET /compute/v1/jobs/job-1\n<html>bad gateway config</html>"),
        (httpx.Response(502, text="upstream down"), ServerError,
         "502 GET /compute/v1/jobs/job-1\nupstream down"),
    ],
)  # fmt: skip
def test_bodies_that_are_not_problem_json_still_map(
    answer: httpx.Response, exception: type[ApiError], message: str
) -> None:
    # The generated client would choke parsing these as the contract's Problem model.
    script = Script().on(GET_JOB, answer)
    with make_client(script) as client, pytest.raises(exception) as caught:
        Job.get("job-1", client=client)
    assert str(caught.value) == message


def _successful_job_script() -> Script:
    return (
        Script()
        .on(GET_JOB, httpx.Response(200, json=job_json(status="success")))
        .on("GET /compute/v1/functions/fn-1", httpx.Response(200, json=function_json()))
    )


def _json_api(status: int, title: str, detail: str) -> httpx.Response:
    body = {"errors": [{"status": str(status), "title": title, "detail": detail}]}
    return httpx.Response(status, json=body, headers={"Content-Type": "application/vnd.api+json"})


def test_catalog_json_api_errors_are_in_the_message() -> None:
    script = _successful_job_script().on(
        "GET /catalog/v2/storage/compute/ns/fn-1/job-1",
        _json_api(403, "Forbidden", "You may not read this blob."),
    )
    with make_client(script) as client:
        job = Job.get("job-1", client=client)
        with pytest.raises(ForbiddenError) as caught:
            job.result_blob()
    assert str(caught.value) == (
        "403 GET /catalog/v2/storage/compute/ns/fn-1/job-1\nForbidden: You may not read this blob."
    )


def test_catalog_5xx_after_retries_is_a_server_error() -> None:
    route = "GET /catalog/v2/storage/download/compute/ns/fn-1/job-1"
    script = _successful_job_script().on(route, _json_api(503, "Unavailable", "Try later."))
    with make_client(script) as client:
        job = Job.get("job-1", client=client)
        with pytest.raises(ServerError) as caught:
            job.result()
    assert "Unavailable: Try later." in str(caught.value)
    assert script.count(route) == 3


def test_catalog_404_means_no_result() -> None:
    script = _successful_job_script().on(
        "GET /catalog/v2/storage/compute/ns/fn-1/job-1", _json_api(404, "Not Found", "No blob.")
    )
    with make_client(script) as client:
        assert Job.get("job-1", client=client).result_blob() is None


def test_the_session_raises_the_same_exceptions() -> None:
    script = Script().on(GET_JOB, problem(409, "busy"))
    with make_client(script) as client, pytest.raises(ConflictError, match="busy"):
        client.session.get("/compute/v1/jobs/job-1")
