"""How a handler reaches the server's services and the caller's identity.

``create_app`` puts the one ``Server`` into every request's ASGI scope state, and
the security scheme's ``bearer_info`` puts the caller's ``Identity`` into ``token_info``;
handlers take them from here instead of from module globals.
"""

from __future__ import annotations

from typing import Any

from connexion import request

from ..server import Server
from ..service.identity import Identity

__all__ = ["SERVER_KEY", "bearer_info", "caller", "server"]

SERVER_KEY = "batch_compute_server"


def server() -> Server:
    return request.scope["state"][SERVER_KEY]  # type: ignore[no-any-return]


def caller(token_info: dict[str, Any]) -> Identity:
    identity = token_info["identity"]
    assert isinstance(identity, Identity)
    return identity


def bearer_info(token: str, request: Any) -> dict[str, Any]:
    """The security scheme's token check (``x-bearerInfoFunc``): raises 401 when unusable."""
    identity = request.scope["state"][SERVER_KEY].identify(token)
    return {"sub": identity.owner, "identity": identity}
