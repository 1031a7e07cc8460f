from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.delete_job_delete_results import DeleteJobDeleteResults
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    job_id: str,
    *,
    delete_results: DeleteJobDeleteResults | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_delete_results: str | Unset = UNSET
    if not isinstance(delete_results, Unset):
        json_delete_results = delete_results.value

    params["delete_results"] = json_delete_results

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/compute/v1/jobs/{job_id}".format(
            job_id=quote(str(job_id), safe=""),
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
    job_id: str,
    *,
    client: AuthenticatedClient | Client,
    delete_results: DeleteJobDeleteResults | Unset = UNSET,
) -> Response[Any | Problem]:
    """Delete a job

     Deletes the job and its log; its result blob too when `delete_results` is true.
    Refused with 409 while the job is running or being canceled.

    Args:
        job_id (str):
        delete_results (DeleteJobDeleteResults | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        delete_results=delete_results,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    job_id: str,
    *,
    client: AuthenticatedClient | Client,
    delete_results: DeleteJobDeleteResults | Unset = UNSET,
) -> Any | Problem | None:
    """Delete a job

     Deletes the job and its log; its result blob too when `delete_results` is true.
    Refused with 409 while the job is running or being canceled.

    Args:
        job_id (str):
        delete_results (DeleteJobDeleteResults | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return sync_detailed(
        job_id=job_id,
        client=client,
        delete_results=delete_results,
    ).parsed


async def asyncio_detailed(
    job_id: str,
    *,
    client: AuthenticatedClient | Client,
    delete_results: DeleteJobDeleteResults | Unset = UNSET,
) -> Response[Any | Problem]:
    """Delete a job

     Deletes the job and its log; its result blob too when `delete_results` is true.
    Refused with 409 while the job is running or being canceled.

    Args:
        job_id (str):
        delete_results (DeleteJobDeleteResults | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        delete_results=delete_results,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    job_id: str,
    *,
    client: AuthenticatedClient | Client,
    delete_results: DeleteJobDeleteResults | Unset = UNSET,
) -> Any | Problem | None:
    """Delete a job

     Deletes the job and its log; its result blob too when `delete_results` is true.
    Refused with 409 while the job is running or being canceled.

    Args:
        job_id (str):
        delete_results (DeleteJobDeleteResults | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return (
        await asyncio_detailed(
            job_id=job_id,
            client=client,
            delete_results=delete_results,
        )
    ).parsed
