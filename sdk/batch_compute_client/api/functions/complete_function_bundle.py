from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.function import Function
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    function_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/compute/v1/functions/{function_id}/bundle".format(
            function_id=quote(str(function_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Function | Problem | None:
    if response.status_code == 200:
        response_200 = Function.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

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
) -> Response[Function | Problem]:
    """Start building an uploaded bundle

     Tells the server the code bundle has been uploaded. The function moves from
    `awaiting_bundle` to `building`; the build then ends in `ready` (or `stopped` when
    `auto_start` is false) or in `build_failed`. No request body is read. Refused with 409
    when no bundle has been uploaded yet or the function no longer awaits one.

    Args:
        function_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Function | Problem]
    """

    kwargs = _get_kwargs(
        function_id=function_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Function | Problem | None:
    """Start building an uploaded bundle

     Tells the server the code bundle has been uploaded. The function moves from
    `awaiting_bundle` to `building`; the build then ends in `ready` (or `stopped` when
    `auto_start` is false) or in `build_failed`. No request body is read. Refused with 409
    when no bundle has been uploaded yet or the function no longer awaits one.

    Args:
        function_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Function | Problem
    """

    return sync_detailed(
        function_id=function_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Function | Problem]:
    """Start building an uploaded bundle

     Tells the server the code bundle has been uploaded. The function moves from
    `awaiting_bundle` to `building`; the build then ends in `ready` (or `stopped` when
    `auto_start` is false) or in `build_failed`. No request body is read. Refused with 409
    when no bundle has been uploaded yet or the function no longer awaits one.

    Args:
        function_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Function | Problem]
    """

    kwargs = _get_kwargs(
        function_id=function_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Function | Problem | None:
    """Start building an uploaded bundle

     Tells the server the code bundle has been uploaded. The function moves from
    `awaiting_bundle` to `building`; the build then ends in `ready` (or `stopped` when
    `auto_start` is false) or in `build_failed`. No request body is read. Refused with 409
    when no bundle has been uploaded yet or the function no longer awaits one.

    Args:
        function_id (str):

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
        )
    ).parsed
