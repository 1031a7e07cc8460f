from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.job import Job
from ...models.job_create import JobCreate
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: JobCreate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/compute/v1/jobs",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Job | Problem | None:
    if response.status_code == 201:
        response_201 = Job.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Job | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: JobCreate,
) -> Response[Job | Problem]:
    """Submit a job

     Submits one call of a function, as `main(*args, **kwargs)` with the function's
    environment overlaid by the job's. The job starts `pending`; it may be submitted while
    the function is still `awaiting_bundle` or `building` and then waits for the build.
    Refused with 409 when the function is disabled or its build failed.

    Args:
        body (JobCreate): A job to submit.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Job | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: JobCreate,
) -> Job | Problem | None:
    """Submit a job

     Submits one call of a function, as `main(*args, **kwargs)` with the function's
    environment overlaid by the job's. The job starts `pending`; it may be submitted while
    the function is still `awaiting_bundle` or `building` and then waits for the build.
    Refused with 409 when the function is disabled or its build failed.

    Args:
        body (JobCreate): A job to submit.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Job | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: JobCreate,
) -> Response[Job | Problem]:
    """Submit a job

     Submits one call of a function, as `main(*args, **kwargs)` with the function's
    environment overlaid by the job's. The job starts `pending`; it may be submitted while
    the function is still `awaiting_bundle` or `building` and then waits for the build.
    Refused with 409 when the function is disabled or its build failed.

    Args:
        body (JobCreate): A job to submit.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Job | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: JobCreate,
) -> Job | Problem | None:
    """Submit a job

     Submits one call of a function, as `main(*args, **kwargs)` with the function's
    environment overlaid by the job's. The job starts `pending`; it may be submitted while
    the function is still `awaiting_bundle` or `building` and then waits for the build.
    Refused with 409 when the function is disabled or its build failed.

    Args:
        body (JobCreate): A job to submit.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Job | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
