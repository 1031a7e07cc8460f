from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.delete_function_delete_results import DeleteFunctionDeleteResults
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    function_id: str,
    *,
    delete_results: DeleteFunctionDeleteResults | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_delete_results: str | Unset = UNSET
    if not isinstance(delete_results, Unset):
        json_delete_results = delete_results.value

    params["delete_results"] = json_delete_results

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/compute/v1/functions/{function_id}".format(
            function_id=quote(str(function_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | Problem | None:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

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
    delete_results: DeleteFunctionDeleteResults | Unset = UNSET,
) -> Response[Any | Problem]:
    """Delete a function

     Deletes the function, its bundle, its build log and its remaining jobs with their
    logs. Job result blobs are kept unless `delete_results` is true. Refused with 409
    while any of its jobs is running or being canceled.

    Args:
        function_id (str):
        delete_results (DeleteFunctionDeleteResults | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        function_id=function_id,
        delete_results=delete_results,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
    delete_results: DeleteFunctionDeleteResults | Unset = UNSET,
) -> Any | Problem | None:
    """Delete a function

     Deletes the function, its bundle, its build log and its remaining jobs with their
    logs. Job result blobs are kept unless `delete_results` is true. Refused with 409
    while any of its jobs is running or being canceled.

    Args:
        function_id (str):
        delete_results (DeleteFunctionDeleteResults | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return sync_detailed(
        function_id=function_id,
        client=client,
        delete_results=delete_results,
    ).parsed


async def asyncio_detailed(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
    delete_results: DeleteFunctionDeleteResults | Unset = UNSET,
) -> Response[Any | Problem]:
    """Delete a function

     Deletes the function, its bundle, its build log and its remaining jobs with their
    logs. Job result blobs are kept unless `delete_results` is true. Refused with 409
    while any of its jobs is running or being canceled.

    Args:
        function_id (str):
        delete_results (DeleteFunctionDeleteResults | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        function_id=function_id,
        delete_results=delete_results,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    function_id: str,
    *,
    client: AuthenticatedClient | Client,
    delete_results: DeleteFunctionDeleteResults | Unset = UNSET,
) -> Any | Problem | None:
    """Delete a function

     Deletes the function, its bundle, its build log and its remaining jobs with their
    logs. Job result blobs are kept unless `delete_results` is true. Refused with 409
    while any of its jobs is running or being canceled.

    Args:
        function_id (str):
        delete_results (DeleteFunctionDeleteResults | Unset):

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
            delete_results=delete_results,
        )
    ).parsed
