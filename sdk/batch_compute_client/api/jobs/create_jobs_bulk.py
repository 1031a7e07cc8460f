from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.job import Job
from ...models.job_bulk_create import JobBulkCreate
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: JobBulkCreate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/compute/v1/jobs/bulk",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[Job] | None:
    if response.status_code == 201:
        response_201 = []
        _response_201 = response.json()
        for response_201_item_data in _response_201:
            response_201_item = Job.from_dict(response_201_item_data)

            response_201.append(response_201_item)

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
) -> Response[Problem | list[Job]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: JobBulkCreate,
) -> Response[Problem | list[Job]]:
    """Submit a batch of jobs

     Submits one job per element of `bulk_args` (1 to 1000), aligned by index with
    `bulk_kwargs` and `bulk_environments` when those are given (they must then have the
    same length, else 422). `tags` apply to every job. The answer lists the created jobs in
    input order.

    Idempotent by `reference_id`: a retried batch with a `reference_id` the caller already
    used for this function returns the jobs created the first time instead of new ones.

    Args:
        body (JobBulkCreate): A batch of jobs for one function: one per element of `bulk_args`.
            `bulk_kwargs` and
            `bulk_environments`, when not null, must have the same length as `bulk_args` (422
            otherwise). `reference_id` makes the request idempotent.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[Job]]
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
    body: JobBulkCreate,
) -> Problem | list[Job] | None:
    """Submit a batch of jobs

     Submits one job per element of `bulk_args` (1 to 1000), aligned by index with
    `bulk_kwargs` and `bulk_environments` when those are given (they must then have the
    same length, else 422). `tags` apply to every job. The answer lists the created jobs in
    input order.

    Idempotent by `reference_id`: a retried batch with a `reference_id` the caller already
    used for this function returns the jobs created the first time instead of new ones.

    Args:
        body (JobBulkCreate): A batch of jobs for one function: one per element of `bulk_args`.
            `bulk_kwargs` and
            `bulk_environments`, when not null, must have the same length as `bulk_args` (422
            otherwise). `reference_id` makes the request idempotent.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[Job]
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: JobBulkCreate,
) -> Response[Problem | list[Job]]:
    """Submit a batch of jobs

     Submits one job per element of `bulk_args` (1 to 1000), aligned by index with
    `bulk_kwargs` and `bulk_environments` when those are given (they must then have the
    same length, else 422). `tags` apply to every job. The answer lists the created jobs in
    input order.

    Idempotent by `reference_id`: a retried batch with a `reference_id` the caller already
    used for this function returns the jobs created the first time instead of new ones.

    Args:
        body (JobBulkCreate): A batch of jobs for one function: one per element of `bulk_args`.
            `bulk_kwargs` and
            `bulk_environments`, when not null, must have the same length as `bulk_args` (422
            otherwise). `reference_id` makes the request idempotent.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[Job]]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: JobBulkCreate,
) -> Problem | list[Job] | None:
    """Submit a batch of jobs

     Submits one job per element of `bulk_args` (1 to 1000), aligned by index with
    `bulk_kwargs` and `bulk_environments` when those are given (they must then have the
    same length, else 422). `tags` apply to every job. The answer lists the created jobs in
    input order.

    Idempotent by `reference_id`: a retried batch with a `reference_id` the caller already
    used for this function returns the jobs created the first time instead of new ones.

    Args:
        body (JobBulkCreate): A batch of jobs for one function: one per element of `bulk_args`.
            `bulk_kwargs` and
            `bulk_environments`, when not null, must have the same length as `bulk_args` (422
            otherwise). `reference_id` makes the request idempotent.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[Job]
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
