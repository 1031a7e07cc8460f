from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import UNSET, File, Response


def _get_kwargs(
    blob_id: str,
    *,
    expires: int,
    signature: str,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["expires"] = expires

    params["signature"] = signature

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/presigned/results/{blob_id}".format(
            blob_id=quote(str(blob_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> File | Problem | None:
    if response.status_code == 200:
        response_200 = File(payload=BytesIO(response.content))

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
    blob_id: str,
    *,
    client: AuthenticatedClient | Client,
    expires: int,
    signature: str,
) -> Response[File | Problem]:
    """Download a result blob's bytes

     The `resumable_url` returned by `get_storage_download`. Answers the raw result bytes
    (JSON-encoded unless the job returned bytes), **never** with a `Content-Encoding`: the
    client reads the socket without decoding. An `If-Match` request header is tolerated and
    ignored; `Range` is not supported.

    Args:
        blob_id (str):
        expires (int):
        signature (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
    """

    kwargs = _get_kwargs(
        blob_id=blob_id,
        expires=expires,
        signature=signature,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    blob_id: str,
    *,
    client: AuthenticatedClient | Client,
    expires: int,
    signature: str,
) -> File | Problem | None:
    """Download a result blob's bytes

     The `resumable_url` returned by `get_storage_download`. Answers the raw result bytes
    (JSON-encoded unless the job returned bytes), **never** with a `Content-Encoding`: the
    client reads the socket without decoding. An `If-Match` request header is tolerated and
    ignored; `Range` is not supported.

    Args:
        blob_id (str):
        expires (int):
        signature (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return sync_detailed(
        blob_id=blob_id,
        client=client,
        expires=expires,
        signature=signature,
    ).parsed


async def asyncio_detailed(
    blob_id: str,
    *,
    client: AuthenticatedClient | Client,
    expires: int,
    signature: str,
) -> Response[File | Problem]:
    """Download a result blob's bytes

     The `resumable_url` returned by `get_storage_download`. Answers the raw result bytes
    (JSON-encoded unless the job returned bytes), **never** with a `Content-Encoding`: the
    client reads the socket without decoding. An `If-Match` request header is tolerated and
    ignored; `Range` is not supported.

    Args:
        blob_id (str):
        expires (int):
        signature (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
    """

    kwargs = _get_kwargs(
        blob_id=blob_id,
        expires=expires,
        signature=signature,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    blob_id: str,
    *,
    client: AuthenticatedClient | Client,
    expires: int,
    signature: str,
) -> File | Problem | None:
    """Download a result blob's bytes

     The `resumable_url` returned by `get_storage_download`. Answers the raw result bytes
    (JSON-encoded unless the job returned bytes), **never** with a `Content-Encoding`: the
    client reads the socket without decoding. An `If-Match` request header is tolerated and
    ignored; `Range` is not supported.

    Args:
        blob_id (str):
        expires (int):
        signature (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return (
        await asyncio_detailed(
            blob_id=blob_id,
            client=client,
            expires=expires,
            signature=signature,
        )
    ).parsed
