from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import UNSET, File, Response


def _get_kwargs(
    function_id: str,
    *,
    body: File,
    expires: int,
    signature: str,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["expires"] = expires

    params["signature"] = signature

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/presigned/bundles/{function_id}".format(
            function_id=quote(str(function_id), safe=""),
        ),
        "params": params,
    }

    _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | Problem | None:
    if response.status_code == 200:
        response_200 = cast(Any, None)
        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

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
) -> Response[Any | Problem]:
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
    body: File,
    expires: int,
    signature: str,
) -> Response[Any | Problem]:
    """Upload a function's code bundle

     The `bundle_upload_url` returned by `create_function`. Takes the zip file as the raw
    body; the signature in the query authorizes the request (no bearer token). The zip
    must contain `__dlentrypoint__.py` and may contain `requirements.txt`, data files and
    packages. A later upload replaces an earlier one until the build starts.

    Args:
        function_id (str):
        expires (int):
        signature (str):
        body (File): The zip file.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        function_id=function_id,
        body=body,
        expires=expires,
        signature=signature,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: File,
    expires: int,
    signature: str,
) -> Any | Problem | None:
    """Upload a function's code bundle

     The `bundle_upload_url` returned by `create_function`. Takes the zip file as the raw
    body; the signature in the query authorizes the request (no bearer token). The zip
    must contain `__dlentrypoint__.py` and may contain `requirements.txt`, data files and
    packages. A later upload replaces an earlier one until the build starts.

    Args:
        function_id (str):
        expires (int):
        signature (str):
        body (File): The zip file.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return sync_detailed(
        function_id=function_id,
        client=client,
        body=body,
        expires=expires,
        signature=signature,
    ).parsed


async def asyncio_detailed(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: File,
    expires: int,
    signature: str,
) -> Response[Any | Problem]:
    """Upload a function's code bundle

     The `bundle_upload_url` returned by `create_function`. Takes the zip file as the raw
    body; the signature in the query authorizes the request (no bearer token). The zip
    must contain `__dlentrypoint__.py` and may contain `requirements.txt`, data files and
    packages. A later upload replaces an earlier one until the build starts.

    Args:
        function_id (str):
        expires (int):
        signature (str):
        body (File): The zip file.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        function_id=function_id,
        body=body,
        expires=expires,
        signature=signature,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: File,
    expires: int,
    signature: str,
) -> Any | Problem | None:
    """Upload a function's code bundle

     The `bundle_upload_url` returned by `create_function`. Takes the zip file as the raw
    body; the signature in the query authorizes the request (no bearer token). The zip
    must contain `__dlentrypoint__.py` and may contain `requirements.txt`, data files and
    packages. A later upload replaces an earlier one until the build starts.

    Args:
        function_id (str):
        expires (int):
        signature (str):
        body (File): The zip file.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return (
        await asyncio_detailed(
            function_id=function_id,
            client=client,
            body=body,
            expires=expires,
            signature=signature,
        )
    ).parsed
