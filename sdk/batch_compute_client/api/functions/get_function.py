from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.function import Function
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    function_id: str,
    *,
    include: list[str] | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_include: list[str] | Unset = UNSET
    if not isinstance(include, Unset):
        json_include = include

    params["include"] = json_include

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/compute/v1/functions/{function_id}".format(
            function_id=quote(str(function_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Function | Problem | None:
    if response.status_code == 200:
        response_200 = Function.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Function | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
    include: list[str] | Unset = UNSET,
) -> Response[Function | Problem]:
    """Get a function

     The function with this id. With `include=job.statistics` (or `job_statistics`) the
    answer carries `job_statistics`, an object of job counts keyed by job status, which is
    always an object (possibly `{}`) and never null.

    Args:
        function_id (str):
        include (list[str] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Function | Problem]
    """

    kwargs = _get_kwargs(
        function_id=function_id,
        include=include,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
    include: list[str] | Unset = UNSET,
) -> Function | Problem | None:
    """Get a function

     The function with this id. With `include=job.statistics` (or `job_statistics`) the
    answer carries `job_statistics`, an object of job counts keyed by job status, which is
    always an object (possibly `{}`) and never null.

    Args:
        function_id (str):
        include (list[str] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Function | Problem
    """

    return sync_detailed(
        function_id=function_id,
        client=client,
        include=include,
    ).parsed


async def asyncio_detailed(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
    include: list[str] | Unset = UNSET,
) -> Response[Function | Problem]:
    """Get a function

     The function with this id. With `include=job.statistics` (or `job_statistics`) the
    answer carries `job_statistics`, an object of job counts keyed by job status, which is
    always an object (possibly `{}`) and never null.

    Args:
        function_id (str):
        include (list[str] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Function | Problem]
    """

    kwargs = _get_kwargs(
        function_id=function_id,
        include=include,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
    include: list[str] | Unset = UNSET,
) -> Function | Problem | None:
    """Get a function

     The function with this id. With `include=job.statistics` (or `job_statistics`) the
    answer carries `job_statistics`, an object of job counts keyed by job status, which is
    always an object (possibly `{}`) and never null.

    Args:
        function_id (str):
        include (list[str] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Function | Problem
    """

    return (
        await asyncio_detailed(
            function_id=function_id,
            client=client,
            include=include,
        )
    ).parsed
