"""Fetching the results of finished Dask tasks so that one bad result spoils only its own.

``client.gather`` of many futures fails as a whole when any one of them cannot be had (its
data lost with a worker, or a result this process cannot read); the others then are fetched
one by one (the rare case: a round trip each).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from distributed import Client

__all__ = ["gather_each"]


async def gather_each(client: Client | None, futures: Sequence[Any]) -> list[Any]:
    """The results of ``futures``, in order, many per round trip; where one cannot be had,
    its exception stands in its place."""
    if not futures:
        return []
    if client is None:
        return [ConnectionError("not connected to the Dask scheduler")] * len(futures)
    try:
        return list(await client.gather(list(futures)))
    except Exception:  # one of them, or the connection: ask for each on its own
        pass
    results: list[Any] = []
    for future in futures:  # one by one: gathers in one loop turn are fetched together
        try:
            results.append(await client.gather(future))
        except Exception as error:
            results.append(error)
    return results
