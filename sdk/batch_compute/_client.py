"""``ComputeClient``: where the server is, who the caller is, and how patient to be.

One client per (server, token). Objects that are not given a client use the class's default
client, created lazily from ``BATCH_COMPUTE_URL`` / ``BATCH_COMPUTE_TOKEN`` on first use, so a
script needs no setup beyond two environment variables.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

import httpx

from ._api import CATALOG_PREFIX, COMPUTE_PREFIX, Api, JsonDict
from ._errors import ConfigurationError
from ._retry import Retry

__all__ = ["TOKEN_VARIABLE", "URL_VARIABLE", "ComputeClient", "TokenProvider", "server_origin"]

#: The server origin, e.g. ``http://127.0.0.1:8000`` (the API paths are added by the SDK).
URL_VARIABLE = "BATCH_COMPUTE_URL"
#: The bearer token sent with every request.
TOKEN_VARIABLE = "BATCH_COMPUTE_TOKEN"


def server_origin(url: str) -> str:
    """The server origin from what a user may paste: ``http://host:port``, with a trailing
    slash, or the genuine clients' ``.../compute/v1`` / ``.../catalog/v2`` URLs."""
    origin = url.strip().rstrip("/")
    if not origin.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"the server URL must start with http:// or https://, got {url!r} "
            f"(for example http://{origin or '127.0.0.1:8000'})"
        )
    for prefix in (COMPUTE_PREFIX, CATALOG_PREFIX):
        if origin.endswith(prefix):
            return origin.removesuffix(prefix)
    return origin


@runtime_checkable
class TokenProvider(Protocol):
    """Anything with a ``token`` attribute can stand in for an auth object."""

    @property
    def token(self) -> str: ...


class ComputeClient:
    """A connection to one Batch Compute server for one user.

    ``url`` is the server origin (``BATCH_COMPUTE_URL`` when omitted; a URL ending in the API
    prefix, as ``DESCARTESLABS_COMPUTE_URL`` does, is accepted and reduced to it); ``auth`` is
    a token string or an object with a ``token`` attribute (``BATCH_COMPUTE_TOKEN`` when omitted);
    ``catalog_client`` is the client used for result blobs (this one when omitted); ``retries``
    replaces ``RETRY_CONFIG``.

    ``transport`` (keyword-only, an ``httpx.BaseTransport``) replaces the network for every
    request this client makes, pre-signed URLs included; it exists so that SDK behaviour can be
    tested against ``httpx.MockTransport`` or routed through a custom transport.
    """

    CONNECT_TIMEOUT: ClassVar[float] = 9.5
    READ_TIMEOUT: ClassVar[float] = 30
    TIMEOUT: ClassVar[tuple[float, float]] = (CONNECT_TIMEOUT, READ_TIMEOUT)
    RETRY_CONFIG: ClassVar[Retry] = Retry(total=3, connect=2, read=2, redirect=None, status=2)

    # One default per class (a subclass gets its own), guarded because threads may race to it.
    _defaults: ClassVar[dict[type[ComputeClient], ComputeClient]] = {}
    _defaults_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        url: str | None = None,
        auth: str | TokenProvider | None = None,
        catalog_client: ComputeClient | None = None,
        retries: Retry | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        url = url or os.environ.get(URL_VARIABLE)
        if not url:
            raise ConfigurationError(
                f"no Batch Compute server: pass url= or set {URL_VARIABLE} to the server "
                "origin (for example http://127.0.0.1:8000)"
            )
        if auth is None:
            auth = os.environ.get(TOKEN_VARIABLE)
        if not auth:
            raise ConfigurationError(
                f"no token: pass auth= (a bearer token) or set {TOKEN_VARIABLE}"
            )
        self.url = server_origin(url)
        self._auth = auth
        self.catalog_client = catalog_client
        self.retries = retries if retries is not None else self.RETRY_CONFIG
        self._namespaces: dict[str, str] = {}
        self._namespaces_lock = threading.Lock()
        timeout = httpx.Timeout(self.READ_TIMEOUT, connect=self.CONNECT_TIMEOUT)
        self._api = Api(
            self.url, self.token, timeout=timeout, retry=self.retries, transport=transport
        )

    def __repr__(self) -> str:
        return f"<ComputeClient url={self.url!r}>"

    # -- defaults --------------------------------------------------------------------------------

    @classmethod
    def get_default_client(cls) -> ComputeClient:
        """The client used whenever none is passed (built from the environment on first use)."""
        with cls._defaults_lock:
            client = cls._defaults.get(cls)
            if client is None:
                client = cls._defaults[cls] = cls()
            return client

    @classmethod
    def set_default_client(cls, client: ComputeClient) -> None:
        """Use ``client`` whenever none is passed."""
        if not isinstance(client, cls):
            raise TypeError(f"the default client must be a {cls.__name__}, not {client!r}")
        with cls._defaults_lock:
            cls._defaults[cls] = client

    @classmethod
    def clear_all_default_clients(cls) -> None:
        """Forget the default client of this class and of all its subclasses."""
        with cls._defaults_lock:
            for klass in list(cls._defaults):
                if issubclass(klass, cls):
                    del cls._defaults[klass]

    @classmethod
    def get_default_session_class(cls) -> type[httpx.Client]:
        """The session class new clients use (an ``httpx.Client`` subclass)."""
        return Api.session_class

    @classmethod
    def set_default_session_class(cls, session_class: type[httpx.Client]) -> None:
        """Use ``session_class`` (an ``httpx.Client`` subclass) for clients created from now on."""
        if not (isinstance(session_class, type) and issubclass(session_class, httpx.Client)):
            raise TypeError("the session class must be httpx.Client or a subclass of it")
        Api.session_class = session_class

    # -- credentials -----------------------------------------------------------------------------

    def check_credentials(self) -> bool:
        """Determine if valid credentials are already set for the user."""
        return bool(self._api.get_credentials().get("stored"))

    def set_credentials(
        self, client_id: str | None = None, client_secret: str | None = None
    ) -> None:
        """Store OAuth client credentials for jobs; without them, only check what is stored."""
        client_id = client_id or getattr(self._auth, "client_id", None)
        client_secret = client_secret or getattr(self._auth, "client_secret", None)
        if client_id and client_secret:
            self._api.set_credentials(client_id, client_secret)
        else:
            self.check_credentials()

    # -- connection ------------------------------------------------------------------------------

    @property
    def session(self) -> httpx.Client:
        """The authenticated httpx client; its base URL is the server origin."""
        return self._api.session

    @property
    def token(self) -> str:
        """The bearer token sent with every request."""
        auth = self._auth
        return auth if isinstance(auth, str) else str(auth.token)

    @property
    def api(self) -> Api:
        """The contract operations (internal seam between the SDK and the generated client)."""
        return self._api

    @property
    def catalog_api(self) -> Api:
        """The operations of the catalog client (this client's when none was given)."""
        return (self.catalog_client or self)._api

    def close(self) -> None:
        """Close the underlying connections."""
        self._api.close()

    def __enter__(self) -> ComputeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers documented on the genuine client ------------------------------------------------

    def iter_pages(self, url: str, params: Mapping[str, Any] | None = None) -> Iterator[JsonDict]:
        """Every item of a paged listing; follow-ups send only the cursor (it holds the query)."""
        path = self._path(url)
        page = self._api.get_json(path, dict(params or {}))
        while True:
            yield from page.get("data", [])
            cursor = page.get("meta", {}).get("page_cursor")
            if not cursor:
                return
            page = self._api.get_json(path, {"page_cursor": cursor})

    def iter_log_lines(self, url: str, timestamps: bool = True) -> Iterator[str]:
        """A job log's lines, each optionally prefixed with its time in the local timezone."""
        for raw in self._api.stream_lines(self._path(url)):
            if not raw.strip():
                continue
            record = json.loads(raw)
            text = str(record.get("log", ""))
            if timestamps:
                when = datetime.fromisoformat(str(record["date"]).replace("Z", "+00:00"))
                yield f"{when.astimezone()} {text}"
            else:
                yield text

    def get_namespace(self, function_id: str) -> str | None:
        """The cached storage namespace of a function (result blob ids need it), if known."""
        with self._namespaces_lock:
            return self._namespaces.get(function_id)

    def set_namespace(self, function_id: str, namespace: str) -> None:
        """Remember a function's storage namespace, sparing a request per result."""
        with self._namespaces_lock:
            self._namespaces[function_id] = namespace

    def _path(self, url: str) -> str:
        """A path below the origin from an absolute URL, an origin-relative or a compute path."""
        if url.startswith(self.url):
            url = url[len(self.url) :]
        if url.startswith(("/compute/", "/catalog/")):
            return url
        return COMPUTE_PREFIX + "/" + url.lstrip("/")
