from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.function_page import FunctionPage
from ...models.function_status import FunctionStatus
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    filter_: str | Unset = UNSET,
    sort: list[str] | Unset = UNSET,
    limit: int | Unset = UNSET,
    page_size: int | Unset = UNSET,
    include: list[str] | Unset = UNSET,
    page_cursor: str | Unset = UNSET,
    status: list[FunctionStatus] | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["filter"] = filter_

    json_sort: list[str] | Unset = UNSET
    if not isinstance(sort, Unset):
        json_sort = sort

    params["sort"] = json_sort

    params["limit"] = limit

    params["page_size"] = page_size

    json_include: list[str] | Unset = UNSET
    if not isinstance(include, Unset):
        json_include = include

    params["include"] = json_include

    params["page_cursor"] = page_cursor

    json_status: list[str] | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = []
        for status_item_data in status:
            status_item = status_item_data.value
            json_status.append(status_item)

    params["status"] = json_status

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/compute/v1/functions",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> FunctionPage | Problem | None:
    if response.status_code == 200:
        response_200 = FunctionPage.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[FunctionPage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    filter_: str | Unset = UNSET,
    sort: list[str] | Unset = UNSET,
    limit: int | Unset = UNSET,
    page_size: int | Unset = UNSET,
    include: list[str] | Unset = UNSET,
    page_cursor: str | Unset = UNSET,
    status: list[FunctionStatus] | Unset = UNSET,
) -> Response[FunctionPage | Problem]:
    """Search or list functions

     One page of the caller's functions matching `filter` (and the legacy `status`), in
    `sort` order. Follow `meta.page_cursor` for the next page: the cursor carries the whole
    query (filter, sort, include, page size and the remaining `limit`), so a follow-up
    request sends `page_cursor` alone and any other parameter next to it is ignored.
    `limit=0` counts: `meta.total` is the number of all matches and `data` is empty.
    Without `sort` the order is `creation_date`, then `id`.

    Args:
        filter_ (str | Unset):
        sort (list[str] | Unset):
        limit (int | Unset):
        page_size (int | Unset):
        include (list[str] | Unset):
        page_cursor (str | Unset):
        status (list[FunctionStatus] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FunctionPage | Problem]
    """

    kwargs = _get_kwargs(
        filter_=filter_,
        sort=sort,
        limit=limit,
        page_size=page_size,
        include=include,
        page_cursor=page_cursor,
        status=status,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    filter_: str | Unset = UNSET,
    sort: list[str] | Unset = UNSET,
    limit: int | Unset = UNSET,
    page_size: int | Unset = UNSET,
    include: list[str] | Unset = UNSET,
    page_cursor: str | Unset = UNSET,
    status: list[FunctionStatus] | Unset = UNSET,
) -> FunctionPage | Problem | None:
    """Search or list functions

     One page of the caller's functions matching `filter` (and the legacy `status`), in
    `sort` order. Follow `meta.page_cursor` for the next page: the cursor carries the whole
    query (filter, sort, include, page size and the remaining `limit`), so a follow-up
    request sends `page_cursor` alone and any other parameter next to it is ignored.
    `limit=0` counts: `meta.total` is the number of all matches and `data` is empty.
    Without `sort` the order is `creation_date`, then `id`.

    Args:
        filter_ (str | Unset):
        sort (list[str] | Unset):
        limit (int | Unset):
        page_size (int | Unset):
        include (list[str] | Unset):
        page_cursor (str | Unset):
        status (list[FunctionStatus] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FunctionPage | Problem
    """

    return sync_detailed(
        client=client,
        filter_=filter_,
        sort=sort,
        limit=limit,
        page_size=page_size,
        include=include,
        page_cursor=page_cursor,
        status=status,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    filter_: str | Unset = UNSET,
    sort: list[str] | Unset = UNSET,
    limit: int | Unset = UNSET,
    page_size: int | Unset = UNSET,
    include: list[str] | Unset = UNSET,
    page_cursor: str | Unset = UNSET,
    status: list[FunctionStatus] | Unset = UNSET,
) -> Response[FunctionPage | Problem]:
    """Search or list functions

     One page of the caller's functions matching `filter` (and the legacy `status`), in
    `sort` order. Follow `meta.page_cursor` for the next page: the cursor carries the whole
    query (filter, sort, include, page size and the remaining `limit`), so a follow-up
    request sends `page_cursor` alone and any other parameter next to it is ignored.
    `limit=0` counts: `meta.total` is the number of all matches and `data` is empty.
    Without `sort` the order is `creation_date`, then `id`.

    Args:
        filter_ (str | Unset):
        sort (list[str] | Unset):
        limit (int | Unset):
        page_size (int | Unset):
        include (list[str] | Unset):
        page_cursor (str | Unset):
        status (list[FunctionStatus] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FunctionPage | Problem]
    """

    kwargs = _get_kwargs(
        filter_=filter_,
        sort=sort,
        limit=limit,
        page_size=page_size,
        include=include,
        page_cursor=page_cursor,
        status=status,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    filter_: str | Unset = UNSET,
    sort: list[str] | Unset = UNSET,
    limit: int | Unset = UNSET,
    page_size: int | Unset = UNSET,
    include: list[str] | Unset = UNSET,
    page_cursor: str | Unset = UNSET,
    status: list[FunctionStatus] | Unset = UNSET,
) -> FunctionPage | Problem | None:
    """Search or list functions

     One page of the caller's functions matching `filter` (and the legacy `status`), in
    `sort` order. Follow `meta.page_cursor` for the next page: the cursor carries the whole
    query (filter, sort, include, page size and the remaining `limit`), so a follow-up
    request sends `page_cursor` alone and any other parameter next to it is ignored.
    `limit=0` counts: `meta.total` is the number of all matches and `data` is empty.
    Without `sort` the order is `creation_date`, then `id`.

    Args:
        filter_ (str | Unset):
        sort (list[str] | Unset):
        limit (int | Unset):
        page_size (int | Unset):
        include (list[str] | Unset):
        page_cursor (str | Unset):
        status (list[FunctionStatus] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FunctionPage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            filter_=filter_,
            sort=sort,
            limit=limit,
            page_size=page_size,
            include=include,
            page_cursor=page_cursor,
            status=status,
        )
    ).parsed
