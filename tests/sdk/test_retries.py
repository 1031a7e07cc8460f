"""Retries: how often, how long in between, and only where repeating a request is safe.

The SDK's ``Retry`` config takes a ``sleep`` callable; these tests record the waits instead of
sleeping, and count the attempts a scripted ``httpx.MockTransport`` sees.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from mock_transport import Script, function_json, job_json, make_client, problem

from batch_compute import (
    ComputeClient,
    Function,
    Job,
    RateLimitError,
    Retry,
    ServerError,
    TransportError,
)

GET_JOB = "GET /compute/v1/jobs/job-1"
OK_JOB = httpx.Response(200, json=job_json())


def test_default_policy_is_the_documented_one() -> None:
    assert repr(ComputeClient.RETRY_CONFIG) == (
        "Retry(total=3, connect=2, read=2, redirect=None, status=2)"
    )


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried_twice_with_backoff(status: int) -> None:
    sleeps: list[float] = []
    script = Script().on(GET_JOB, problem(status, "down"))
    with make_client(script, sleeps=sleeps) as client, pytest.raises(ServerError):
        Job.get("job-1", client=client)
    assert script.count(GET_JOB) == 3
    # First retry at once, the second after backoff_factor * 2 jittered by 1x..3x.
    assert sleeps[0] == 0.0 and 1.0 <= sleeps[1] <= 3.0 and len(sleeps) == 2


def test_a_transient_5xx_is_hidden() -> None:
    script = Script().on(GET_JOB, problem(503, "blip"), problem(500, "blip"), OK_JOB)
    with make_client(script) as client:
        assert Job.get("job-1", client=client).id == "job-1"
    assert script.count(GET_JOB) == 3


def test_the_configured_budget_is_the_attempt_count() -> None:
    sleeps: list[float] = []
    retry = Retry(total=5, status=4, backoff_factor=0, sleep=sleeps.append)
    script = Script().on(GET_JOB, problem(500, "down"))
    with make_client(script, retries=retry) as client, pytest.raises(ServerError):
        Job.get("job-1", client=client)
    assert script.count(GET_JOB) == 5 and sleeps == [0.0] * 4
    # ``total`` caps the per-cause budgets.
    script = Script().on(GET_JOB, problem(500, "down"))
    retry = Retry(total=1, status=9, sleep=sleeps.append)
    with make_client(script, retries=retry) as client, pytest.raises(ServerError):
        Job.get("job-1", client=client)
    assert script.count(GET_JOB) == 2
    # No retries at all.
    script = Script().on(GET_JOB, problem(500, "down"))
    retry = Retry(total=0, sleep=sleeps.append)
    with make_client(script, retries=retry) as client, pytest.raises(ServerError):
        Job.get("job-1", client=client)
    assert script.count(GET_JOB) == 1


@pytest.mark.parametrize("status", [501, 400, 404, 409, 422])
def test_other_errors_are_not_retried(status: int) -> None:
    script = Script().on(GET_JOB, problem(status, "no"))
    with make_client(script) as client, pytest.raises(Exception, match="no"):
        Job.get("job-1", client=client)
    assert script.count(GET_JOB) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_honoured(status: int) -> None:
    sleeps: list[float] = []
    script = Script().on(GET_JOB, problem(status, "wait", headers={"Retry-After": "7"}))
    with make_client(script, sleeps=sleeps) as client, pytest.raises(Exception, match="wait"):
        Job.get("job-1", client=client)
    assert script.count(GET_JOB) == 3 and sleeps == [7.0, 7.0]


def test_retry_after_http_date_is_honoured_and_capped() -> None:
    sleeps: list[float] = []
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    script = Script().on(
        GET_JOB, problem(429, "wait", headers={"Retry-After": later}),
        problem(429, "wait", headers={"Retry-After": "3600"}), OK_JOB,
    )  # fmt: skip
    with make_client(script, sleeps=sleeps) as client:
        Job.get("job-1", client=client)
    assert 15 <= sleeps[0] <= 20 and sleeps[1] == Retry().backoff_max


def test_429_after_its_retries_keeps_retry_after() -> None:
    script = Script().on(GET_JOB, problem(429, "wait", headers={"Retry-After": "1"}))
    with make_client(script) as client, pytest.raises(RateLimitError) as caught:
        Job.get("job-1", client=client)
    assert caught.value.retry_after == "1" and script.count(GET_JOB) == 3


@pytest.mark.parametrize(
    "error", [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"),
              httpx.ReadError("reset"), httpx.ReadTimeout("slow")],
)  # fmt: skip
def test_connection_errors_are_retried(error: httpx.HTTPError) -> None:
    script = Script().on(GET_JOB, error, error, OK_JOB)
    with make_client(script) as client:
        assert Job.get("job-1", client=client).id == "job-1"
    assert script.count(GET_JOB) == 3
    script = Script().on(GET_JOB, error)
    with make_client(script) as client, pytest.raises(TransportError) as caught:
        Job.get("job-1", client=client)
    assert isinstance(caught.value.__cause__, type(error)) and script.count(GET_JOB) == 3


# -- POST: only where repeating is safe -----------------------------------------------------------

CREATE = "POST /compute/v1/jobs"


@pytest.mark.parametrize("answer", [problem(503, "down"), httpx.ReadError("reset")])
def test_single_create_is_not_repeated_once_it_may_have_reached_the_server(
    answer: httpx.Response | Exception,
) -> None:
    # POST /jobs has no idempotency key: a retry after a 5xx or a lost answer could create the
    # job twice, so the SDK raises instead and leaves the decision to the caller.
    script = Script().on(CREATE, answer)
    with make_client(script) as client, pytest.raises((ServerError, TransportError)):
        Job("fn-1", [1], client=client).save()
    assert script.count(CREATE) == 1


def test_single_create_is_retried_when_it_cannot_have_been_processed() -> None:
    created = httpx.Response(201, json=job_json())
    script = Script().on(
        CREATE, httpx.ConnectError("refused"),
        problem(429, "slow down", headers={"Retry-After": "0"}), created,
    )  # fmt: skip
    with make_client(script) as client:
        job = Job("fn-1", [1], client=client)
        job.save()
    assert job.id == "job-1" and script.count(CREATE) == 3


def _saved_function(script: Script, client: ComputeClient) -> Function:
    script.on("GET /compute/v1/functions/fn-1", httpx.Response(200, json=function_json()))
    return Function.get("fn-1", client=client)


BULK = "POST /compute/v1/jobs/bulk"


def test_bulk_batches_are_retried_with_the_same_reference_id() -> None:
    created = httpx.Response(201, json=[job_json("a"), job_json("b")])
    script = Script().on(BULK, problem(500, "x"), httpx.ReadError("reset"), created)
    with make_client(script) as client:
        result = _saved_function(script, client).map([[1], [2]])
    assert result.is_success and [job.id for job in result] == ["a", "b"]
    references = {body["reference_id"] for body in script.bodies(BULK)}
    assert script.count(BULK) == 3 and len(references) == 1


def test_a_later_batch_failing_for_good_is_reported_not_raised() -> None:
    script = Script().on(BULK, httpx.Response(201, json=[job_json("a")]), problem(502, "gateway"))
    with make_client(script) as client:
        result = _saved_function(script, client).map([[1], [2]], batch_size=1)
    assert [job.id for job in result] == ["a"] and not result.is_success
    assert isinstance(result.errors[0].exception, ServerError)
    bodies = script.bodies(BULK)
    assert len(bodies) == 4  # one for the first batch, three attempts for the second
    assert len({b["reference_id"] for b in bodies[1:]}) == 1
    assert result.errors[0].reference_id == bodies[1]["reference_id"]


def test_cancel_is_retried_but_rerun_is_not() -> None:
    cancel = "POST /compute/v1/jobs/job-1/cancel"
    script = (
        Script()
        .on(GET_JOB, OK_JOB)
        .on(cancel, problem(503, "x"), httpx.Response(200, json=job_json(status="canceled")))
    )
    with make_client(script) as client:
        job = Job.get("job-1", client=client)
        job.cancel()
        assert job.status == "canceled" and script.count(cancel) == 2
        script.on("POST /compute/v1/jobs/rerun", problem(500, "x"))
        with pytest.raises(ServerError):
            Job.search(client=client).rerun()
    assert script.count("POST /compute/v1/jobs/rerun") == 1
