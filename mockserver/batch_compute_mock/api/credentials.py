"""Handlers for the ``credentials`` tag."""

from __future__ import annotations

from typing import Any

from ._context import caller, server
from ._params import JsonBody, json_body

__all__ = ["get_credentials", "set_credentials"]


def get_credentials(token_info: dict[str, Any]) -> JsonBody:
    return json_body(server().credentials.get(caller(token_info)))


def set_credentials(token_info: dict[str, Any], body: dict[str, Any]) -> JsonBody:
    return json_body(
        server().credentials.set(caller(token_info), body["client_id"], body["client_secret"])
    )
