from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import File, Response


def _get_kwargs(
    function_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/compute/v1/functions/{function_id}/log".format(
            function_id=quote(str(function_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> File | Problem | None:
    if response.status_code == 200:
        response_200 = File(payload=BytesIO(response.content))

        return response_200

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
) -> Response[File | Problem]:
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
) -> Response[File | Problem]:
    """Get a function's build log

     The build output (UTF-8 text) as gzip-compressed bytes. The bytes are the body
    itself, served **without** a `Content-Encoding` header: the client gunzips the body on
    its own, and an HTTP-level encoding would make it gunzip twice and fail. Before the
    build has finished, the log is a single line saying so. 404 when the function does not
    exist.

    Args:
        function_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
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
) -> File | Problem | None:
    """Get a function's build log

     The build output (UTF-8 text) as gzip-compressed bytes. The bytes are the body
    itself, served **without** a `Content-Encoding` header: the client gunzips the body on
    its own, and an HTTP-level encoding would make it gunzip twice and fail. Before the
    build has finished, the log is a single line saying so. 404 when the function does not
    exist.

    Args:
        function_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return sync_detailed(
        function_id=function_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[File | Problem]:
    """Get a function's build log

     The build output (UTF-8 text) as gzip-compressed bytes. The bytes are the body
    itself, served **without** a `Content-Encoding` header: the client gunzips the body on
    its own, and an HTTP-level encoding would make it gunzip twice and fail. Before the
    build has finished, the log is a single line saying so. 404 when the function does not
    exist.

    Args:
        function_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
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
) -> File | Problem | None:
    """Get a function's build log

     The build output (UTF-8 text) as gzip-compressed bytes. The bytes are the body
    itself, served **without** a `Content-Encoding` header: the client gunzips the body on
    its own, and an HTTP-level encoding would make it gunzip twice and fail. Before the
    build has finished, the log is a single line saying so. 404 when the function does not
    exist.

    Args:
        function_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return (
        await asyncio_detailed(
            function_id=function_id,
            client=client,
        )
    ).parsed
