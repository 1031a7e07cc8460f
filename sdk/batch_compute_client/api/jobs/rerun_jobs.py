from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.job import Job
from ...models.job_query import JobQuery
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: JobQuery | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/compute/v1/jobs/rerun",
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[Job] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = Job.from_dict(response_200_item_data)

            response_200.append(response_200_item)

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

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
    body: JobQuery | Unset = UNSET,
) -> Response[Problem | list[Job]]:
    """Rerun the failed jobs matching a query

     Resets every matching job in `failure`, `timeout` or `canceled` to `pending`, keeping
    its arguments; other matches are ignored. Jobs of a disabled function are refused with
    409. An empty body or `{}` matches all the caller's jobs. The answer lists the
    resubmitted jobs.

    Args:
        body (JobQuery | Unset): The jobs a bulk operation applies to: the search state of the
            client, as real JSON.
            All keys are optional; `{}` matches all the caller's jobs. `function_id` and `status`
            (legacy list parameters) are honoured as filters too. Other keys are ignored.
            An empty body means `{}`.

            The filter grammar is stated here; which attributes a job filter may name, which
            operators apply to each and what kind of value each takes (see the `filter` query
            parameter) is not, and a filter breaking those rules gets 400.

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
    body: JobQuery | Unset = UNSET,
) -> Problem | list[Job] | None:
    """Rerun the failed jobs matching a query

     Resets every matching job in `failure`, `timeout` or `canceled` to `pending`, keeping
    its arguments; other matches are ignored. Jobs of a disabled function are refused with
    409. An empty body or `{}` matches all the caller's jobs. The answer lists the
    resubmitted jobs.

    Args:
        body (JobQuery | Unset): The jobs a bulk operation applies to: the search state of the
            client, as real JSON.
            All keys are optional; `{}` matches all the caller's jobs. `function_id` and `status`
            (legacy list parameters) are honoured as filters too. Other keys are ignored.
            An empty body means `{}`.

            The filter grammar is stated here; which attributes a job filter may name, which
            operators apply to each and what kind of value each takes (see the `filter` query
            parameter) is not, and a filter breaking those rules gets 400.

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
    body: JobQuery | Unset = UNSET,
) -> Response[Problem | list[Job]]:
    """Rerun the failed jobs matching a query

     Resets every matching job in `failure`, `timeout` or `canceled` to `pending`, keeping
    its arguments; other matches are ignored. Jobs of a disabled function are refused with
    409. An empty body or `{}` matches all the caller's jobs. The answer lists the
    resubmitted jobs.

    Args:
        body (JobQuery | Unset): The jobs a bulk operation applies to: the search state of the
            client, as real JSON.
            All keys are optional; `{}` matches all the caller's jobs. `function_id` and `status`
            (legacy list parameters) are honoured as filters too. Other keys are ignored.
            An empty body means `{}`.

            The filter grammar is stated here; which attributes a job filter may name, which
            operators apply to each and what kind of value each takes (see the `filter` query
            parameter) is not, and a filter breaking those rules gets 400.

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
    body: JobQuery | Unset = UNSET,
) -> Problem | list[Job] | None:
    """Rerun the failed jobs matching a query

     Resets every matching job in `failure`, `timeout` or `canceled` to `pending`, keeping
    its arguments; other matches are ignored. Jobs of a disabled function are refused with
    409. An empty body or `{}` matches all the caller's jobs. The answer lists the
    resubmitted jobs.

    Args:
        body (JobQuery | Unset): The jobs a bulk operation applies to: the search state of the
            client, as real JSON.
            All keys are optional; `{}` matches all the caller's jobs. `function_id` and `status`
            (legacy list parameters) are honoured as filters too. Other keys are ignored.
            An empty body means `{}`.

            The filter grammar is stated here; which attributes a job filter may name, which
            operators apply to each and what kind of value each takes (see the `filter` query
            parameter) is not, and a filter breaking those rules gets 400.

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
