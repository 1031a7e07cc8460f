"""Facts about the two genuine clients that tests on the pytest side share.

Imported by ``conftest.py`` and the test modules (this directory is on ``sys.path`` under
pytest's default import mode); it never imports a genuine client itself.
"""

from __future__ import annotations

import hashlib

from support.live_server import LiveServer

__all__ = [
    "ALLOWED_ERROR_STATUSES",
    "FLAVOR_NAMES",
    "earthone_userid_for",
    "expected_namespace",
    "flavor_token",
]

FLAVOR_NAMES = ("descarteslabs", "earthone")
# wire-protocol.md §9.1/§14.10: other 4xx codes crash 3.2.2 with AttributeError.
ALLOWED_ERROR_STATUSES = frozenset({400, 401, 403, 404, 405, 409, 410, 422, 429})


def earthone_userid_for(sub: str) -> str:
    """The earthone ``userid`` claim tests give ``sub``: deliberately not ``sha1(sub)``."""
    return "eo" + hashlib.sha1(sub.encode()).hexdigest()[:24]


def expected_namespace(flavor: str, sub: str, org: str | None = None) -> str:
    """The result namespace a genuine client derives offline from its token (§1.3, §12)."""
    if flavor == "earthone":
        user = earthone_userid_for(sub)
    else:
        user = hashlib.sha1(sub.encode()).hexdigest()
    return f"{org}:{user}" if org else user


def flavor_token(server: LiveServer, flavor: str, sub: str, org: str | None = None) -> str:
    """A token for ``sub`` as ``flavor``'s users have them (earthone: with ``userid``)."""
    if flavor == "earthone":
        return server.token(sub, org, userid=earthone_userid_for(sub))
    return server.token(sub, org)
