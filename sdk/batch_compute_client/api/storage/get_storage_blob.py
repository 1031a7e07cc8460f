from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.json_api_error_document import JsonApiErrorDocument
from ...models.storage_blob_document import StorageBlobDocument
from ...types import Response


def _get_kwargs(
    blob_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/catalog/v2/storage/{blob_id}".format(
            blob_id=quote(str(blob_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> JsonApiErrorDocument | StorageBlobDocument | None:
    if response.status_code == 200:
        response_200 = StorageBlobDocument.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = JsonApiErrorDocument.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = JsonApiErrorDocument.from_dict(response.json())

        return response_404

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[JsonApiErrorDocument | StorageBlobDocument]:
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
) -> Response[JsonApiErrorDocument | StorageBlobDocument]:
    """Get a result blob's metadata

     The catalog record of a job's result blob: size, hash, and the description, expiry,
    extra properties, geometry and tags the job attached to its result.

    Args:
        blob_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JsonApiErrorDocument | StorageBlobDocument]
    """

    kwargs = _get_kwargs(
        blob_id=blob_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    blob_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> JsonApiErrorDocument | StorageBlobDocument | None:
    """Get a result blob's metadata

     The catalog record of a job's result blob: size, hash, and the description, expiry,
    extra properties, geometry and tags the job attached to its result.

    Args:
        blob_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JsonApiErrorDocument | StorageBlobDocument
    """

    return sync_detailed(
        blob_id=blob_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    blob_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[JsonApiErrorDocument | StorageBlobDocument]:
    """Get a result blob's metadata

     The catalog record of a job's result blob: size, hash, and the description, expiry,
    extra properties, geometry and tags the job attached to its result.

    Args:
        blob_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JsonApiErrorDocument | StorageBlobDocument]
    """

    kwargs = _get_kwargs(
        blob_id=blob_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    blob_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> JsonApiErrorDocument | StorageBlobDocument | None:
    """Get a result blob's metadata

     The catalog record of a job's result blob: size, hash, and the description, expiry,
    extra properties, geometry and tags the job attached to its result.

    Args:
        blob_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JsonApiErrorDocument | StorageBlobDocument
    """

    return (
        await asyncio_detailed(
            blob_id=blob_id,
            client=client,
        )
    ).parsed
