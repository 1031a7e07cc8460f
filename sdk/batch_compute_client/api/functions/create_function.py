from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.function_create import FunctionCreate
from ...models.function_created import FunctionCreated
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: FunctionCreate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/compute/v1/functions",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> FunctionCreated | Problem | None:
    if response.status_code == 201:
        response_201 = FunctionCreated.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[FunctionCreated | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: FunctionCreate,
) -> Response[FunctionCreated | Problem]:
    """Create a function

     Creates a function in status `awaiting_bundle` and returns it together with a
    pre-signed `bundle_upload_url`. The client then PUTs the zipped code bundle to that
    URL and calls `POST /compute/v1/functions/{function_id}/bundle` to start the build.
    Omitted fields take their defaults (see `FunctionCreate`).

    Args:
        body (FunctionCreate): A new function. Only `name` and `image` are required; the defaults
            are cpus 0.25,
            memory the smallest value allowed for the chosen cpus (512 for 0.25),
            maximum_concurrency 10, timeout 900, retry_count 0, enabled true, auto_start true,
            environment null.

            `image` is `python3.N:tag`; a Python minor version the server cannot run gets 422.
            Memory (MiB) must fit the cpus, otherwise 422:

            | cpus | memory (MiB) allowed |
            |------|----------------------|
            | 0.25 | 512, 1024, 2048 |
            | 0.5  | 1024 to 4096, step 1024 |
            | 1    | 2048 to 8192, step 1024 |
            | 2    | 4096 to 16384, step 1024 |
            | 4    | 8192 to 30720, step 1024 |
            | 8    | 16384 to 61440, step 4096 |
            | 16   | 32768 to 122880, step 8192 |

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FunctionCreated | Problem]
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
    body: FunctionCreate,
) -> FunctionCreated | Problem | None:
    """Create a function

     Creates a function in status `awaiting_bundle` and returns it together with a
    pre-signed `bundle_upload_url`. The client then PUTs the zipped code bundle to that
    URL and calls `POST /compute/v1/functions/{function_id}/bundle` to start the build.
    Omitted fields take their defaults (see `FunctionCreate`).

    Args:
        body (FunctionCreate): A new function. Only `name` and `image` are required; the defaults
            are cpus 0.25,
            memory the smallest value allowed for the chosen cpus (512 for 0.25),
            maximum_concurrency 10, timeout 900, retry_count 0, enabled true, auto_start true,
            environment null.

            `image` is `python3.N:tag`; a Python minor version the server cannot run gets 422.
            Memory (MiB) must fit the cpus, otherwise 422:

            | cpus | memory (MiB) allowed |
            |------|----------------------|
            | 0.25 | 512, 1024, 2048 |
            | 0.5  | 1024 to 4096, step 1024 |
            | 1    | 2048 to 8192, step 1024 |
            | 2    | 4096 to 16384, step 1024 |
            | 4    | 8192 to 30720, step 1024 |
            | 8    | 16384 to 61440, step 4096 |
            | 16   | 32768 to 122880, step 8192 |

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FunctionCreated | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: FunctionCreate,
) -> Response[FunctionCreated | Problem]:
    """Create a function

     Creates a function in status `awaiting_bundle` and returns it together with a
    pre-signed `bundle_upload_url`. The client then PUTs the zipped code bundle to that
    URL and calls `POST /compute/v1/functions/{function_id}/bundle` to start the build.
    Omitted fields take their defaults (see `FunctionCreate`).

    Args:
        body (FunctionCreate): A new function. Only `name` and `image` are required; the defaults
            are cpus 0.25,
            memory the smallest value allowed for the chosen cpus (512 for 0.25),
            maximum_concurrency 10, timeout 900, retry_count 0, enabled true, auto_start true,
            environment null.

            `image` is `python3.N:tag`; a Python minor version the server cannot run gets 422.
            Memory (MiB) must fit the cpus, otherwise 422:

            | cpus | memory (MiB) allowed |
            |------|----------------------|
            | 0.25 | 512, 1024, 2048 |
            | 0.5  | 1024 to 4096, step 1024 |
            | 1    | 2048 to 8192, step 1024 |
            | 2    | 4096 to 16384, step 1024 |
            | 4    | 8192 to 30720, step 1024 |
            | 8    | 16384 to 61440, step 4096 |
            | 16   | 32768 to 122880, step 8192 |

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FunctionCreated | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: FunctionCreate,
) -> FunctionCreated | Problem | None:
    """Create a function

     Creates a function in status `awaiting_bundle` and returns it together with a
    pre-signed `bundle_upload_url`. The client then PUTs the zipped code bundle to that
    URL and calls `POST /compute/v1/functions/{function_id}/bundle` to start the build.
    Omitted fields take their defaults (see `FunctionCreate`).

    Args:
        body (FunctionCreate): A new function. Only `name` and `image` are required; the defaults
            are cpus 0.25,
            memory the smallest value allowed for the chosen cpus (512 for 0.25),
            maximum_concurrency 10, timeout 900, retry_count 0, enabled true, auto_start true,
            environment null.

            `image` is `python3.N:tag`; a Python minor version the server cannot run gets 422.
            Memory (MiB) must fit the cpus, otherwise 422:

            | cpus | memory (MiB) allowed |
            |------|----------------------|
            | 0.25 | 512, 1024, 2048 |
            | 0.5  | 1024 to 4096, step 1024 |
            | 1    | 2048 to 8192, step 1024 |
            | 2    | 4096 to 16384, step 1024 |
            | 4    | 8192 to 30720, step 1024 |
            | 8    | 16384 to 61440, step 4096 |
            | 16   | 32768 to 122880, step 8192 |

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FunctionCreated | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
