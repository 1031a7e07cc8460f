from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.job_delete_query import JobDeleteQuery
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: JobDeleteQuery | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/compute/v1/jobs/delete",
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[str] | None:
    if response.status_code == 200:
        response_200 = cast(list[str], response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | list[str]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: JobDeleteQuery | Unset = UNSET,
) -> Response[Problem | list[str]]:
    """Delete the jobs matching a query

     Deletes every matching job that is not running or being canceled (those are
    skipped), with its log; its result blob too when `delete_results` is true. An empty
    body or `{}` matches all the caller's jobs. The answer is always a JSON array of the
    deleted job ids (possibly empty), never an empty body.

    Args:
        body (JobDeleteQuery | Unset): A `JobQuery` plus whether to delete the jobs' result blobs
            too.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[str]]
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
    body: JobDeleteQuery | Unset = UNSET,
) -> Problem | list[str] | None:
    """Delete the jobs matching a query

     Deletes every matching job that is not running or being canceled (those are
    skipped), with its log; its result blob too when `delete_results` is true. An empty
    body or `{}` matches all the caller's jobs. The answer is always a JSON array of the
    deleted job ids (possibly empty), never an empty body.

    Args:
        body (JobDeleteQuery | Unset): A `JobQuery` plus whether to delete the jobs' result blobs
            too.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[str]
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: JobDeleteQuery | Unset = UNSET,
) -> Response[Problem | list[str]]:
    """Delete the jobs matching a query

     Deletes every matching job that is not running or being canceled (those are
    skipped), with its log; its result blob too when `delete_results` is true. An empty
    body or `{}` matches all the caller's jobs. The answer is always a JSON array of the
    deleted job ids (possibly empty), never an empty body.

    Args:
        body (JobDeleteQuery | Unset): A `JobQuery` plus whether to delete the jobs' result blobs
            too.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[str]]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: JobDeleteQuery | Unset = UNSET,
) -> Problem | list[str] | None:
    """Delete the jobs matching a query

     Deletes every matching job that is not running or being canceled (those are
    skipped), with its log; its result blob too when `delete_results` is true. An empty
    body or `{}` matches all the caller's jobs. The answer is always a JSON array of the
    deleted job ids (possibly empty), never an empty body.

    Args:
        body (JobDeleteQuery | Unset): A `JobQuery` plus whether to delete the jobs' result blobs
            too.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[str]
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
