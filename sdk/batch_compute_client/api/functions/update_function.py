from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.function import Function
from ...models.function_update import FunctionUpdate
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    function_id: str,
    *,
    body: FunctionUpdate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/compute/v1/functions/{function_id}".format(
            function_id=quote(str(function_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
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
    body: FunctionUpdate,
) -> Response[Function | Problem]:
    """Update a function

     Changes the given fields and returns the whole updated function. `status` starts
    (`ready`) or stops (`stopped`) a function whose build succeeded: a stopped function's
    pending jobs wait, its running jobs finish. `enabled: false` refuses new submissions
    and reruns but lets queued and running jobs continue. `image` cannot be changed.

    Args:
        function_id (str):
        body (FunctionUpdate): The fields to change; all optional. `status` starts (`ready`) or
            stops (`stopped`) a
            built function. `image` cannot be changed (400). cpus and memory must still fit
            together afterwards (422).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Function | Problem]
    """

    kwargs = _get_kwargs(
        function_id=function_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: FunctionUpdate,
) -> Function | Problem | None:
    """Update a function

     Changes the given fields and returns the whole updated function. `status` starts
    (`ready`) or stops (`stopped`) a function whose build succeeded: a stopped function's
    pending jobs wait, its running jobs finish. `enabled: false` refuses new submissions
    and reruns but lets queued and running jobs continue. `image` cannot be changed.

    Args:
        function_id (str):
        body (FunctionUpdate): The fields to change; all optional. `status` starts (`ready`) or
            stops (`stopped`) a
            built function. `image` cannot be changed (400). cpus and memory must still fit
            together afterwards (422).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Function | Problem
    """

    return sync_detailed(
        function_id=function_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: FunctionUpdate,
) -> Response[Function | Problem]:
    """Update a function

     Changes the given fields and returns the whole updated function. `status` starts
    (`ready`) or stops (`stopped`) a function whose build succeeded: a stopped function's
    pending jobs wait, its running jobs finish. `enabled: false` refuses new submissions
    and reruns but lets queued and running jobs continue. `image` cannot be changed.

    Args:
        function_id (str):
        body (FunctionUpdate): The fields to change; all optional. `status` starts (`ready`) or
            stops (`stopped`) a
            built function. `image` cannot be changed (400). cpus and memory must still fit
            together afterwards (422).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Function | Problem]
    """

    kwargs = _get_kwargs(
        function_id=function_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: FunctionUpdate,
) -> Function | Problem | None:
    """Update a function

     Changes the given fields and returns the whole updated function. `status` starts
    (`ready`) or stops (`stopped`) a function whose build succeeded: a stopped function's
    pending jobs wait, its running jobs finish. `enabled: false` refuses new submissions
    and reruns but lets queued and running jobs continue. `image` cannot be changed.

    Args:
        function_id (str):
        body (FunctionUpdate): The fields to change; all optional. `status` starts (`ready`) or
            stops (`stopped`) a
            built function. `image` cannot be changed (400). cpus and memory must still fit
            together afterwards (422).

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
            body=body,
        )
    ).parsed
