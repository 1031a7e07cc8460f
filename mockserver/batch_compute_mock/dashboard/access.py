"""Who is looking: the signed-in person's identity on every request, CSRF checks on every
form, and the sign-in and sign-out pages.

A person signs in by pasting a bearer token (what ``batch-compute token`` or ``serve``
prints). The token is checked with ``Server.identify``, the API's own bearer check, on sign
in and again on every request, and the resulting ``Identity`` is what every service call of
the dashboard is made for: the dashboard has no permission rules of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..kernel.errors import Forbidden, Unauthenticated
from ..server import Server
from ..service.identity import Identity
from .rendering import Renderer
from .session import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    Session,
    SessionCodec,
    new_session,
    same_secret,
    token_claims,
)

__all__ = ["HOME", "Access", "SignInFirst", "Visit", "sign_in_url"]

HOME = "/dashboard/"
SIGNIN = "/dashboard/signin"
_COOKIE_PATH = "/dashboard"
_SIGNIN_NONCE_SECONDS = 3600


class SignInFirst(Exception):
    """The request has no usable session: the person must sign in (again)."""


@dataclass(frozen=True)
class Visit:
    """A signed-in request: whose it is, and the session's CSRF token for its forms."""

    identity: Identity
    session: Session
    name: str

    @property
    def csrf(self) -> str:
        return self.session.csrf


def sign_in_url(next_path: str) -> str:
    return f"{SIGNIN}?next={quote(next_path, safe='/')}"


def _safe_next(value: str | None) -> str:
    """Where to go after signing in: a dashboard path of this server, nothing else."""
    if (
        value
        and value.startswith(HOME)
        and not value.startswith("//")
        and "\\" not in value
        and value.isprintable()
    ):
        return value
    return HOME


class Access:
    def __init__(self, server: Server, renderer: Renderer) -> None:
        self._server = server
        self._renderer = renderer
        self._sessions = SessionCodec(server.signing_key)

    def visit(self, request: Request) -> Visit:
        """The signed-in person, or ``SignInFirst``."""
        session = self._sessions.decode(request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise SignInFirst
        try:
            identity = self._server.identify(session.token)
        except Unauthenticated:
            raise SignInFirst from None
        return Visit(identity, session, _display_name(session.token, identity))

    @staticmethod
    def check_form(visit: Visit, form: Mapping[str, str]) -> None:
        """Every form of a session sends its CSRF token back; ``Forbidden`` otherwise."""
        if not same_secret(visit.csrf, form.get("csrf")):
            raise Forbidden(
                "This form is out of date or did not come from this dashboard; go back, "
                "reload the page and try again."
            )

    # Sign in and out -----------------------------------------------------------------------
    def signin(self, request: Request, form: Mapping[str, str]) -> Response:
        """``GET``: the form (or straight on, when signed in already); ``POST``: check the
        token and open a session."""
        next_path = _safe_next(form.get("next") or request.query_params.get("next"))
        if request.method == "GET":
            try:
                self.visit(request)
            except SignInFirst:
                message = "Signed out." if request.query_params.get("out") else ""
                return self._signin_form(request, next_path, message, "")
            return RedirectResponse(next_path, 303)
        nonce = request.cookies.get(SIGNIN_COOKIE, "")
        if not same_secret(nonce, form.get("csrf")):
            return self._signin_form(
                request, next_path, "", "The sign-in form had expired; please sign in again.", 403
            )
        token = form.get("token", "").strip()
        if not token:
            return self._signin_form(request, next_path, "", "Paste a token to sign in.", 400)
        try:
            self._server.identify(token)
        except Unauthenticated as error:
            return self._signin_form(request, next_path, "", error.detail, 401)
        session = new_session(token)
        response = RedirectResponse(next_path, 303)
        response.set_cookie(
            SESSION_COOKIE,
            self._sessions.encode(session),
            max_age=session.seconds_left(),
            path=_COOKIE_PATH,
            secure=self._secure(request),
            httponly=True,
            samesite="lax",
        )
        response.delete_cookie(SIGNIN_COOKIE, path=SIGNIN)
        return response

    def signout(self, request: Request, visit: Visit, form: Mapping[str, str]) -> Response:
        self.check_form(visit, form)
        response = RedirectResponse(f"{SIGNIN}?out=1", 303)
        response.delete_cookie(SESSION_COOKIE, path=_COOKIE_PATH, httponly=True)
        return response

    def _secure(self, request: Request) -> bool:
        """Cookies only over HTTPS when people reach the server that way (behind a proxy that
        ends TLS, the request itself is plain HTTP: ``--public-url`` says what they use)."""
        public = self._server.settings.public_url
        return request.url.scheme == "https" or public.startswith("https://")

    def _signin_form(
        self, request: Request, next_path: str, message: str, error: str, status: int = 200
    ) -> Response:
        nonce = secrets.token_urlsafe(24)
        context = {
            "title": "Sign in",
            "visit": None,
            "live_url": "",
            "next": next_path,
            "csrf": nonce,
            "message": message,
            "error": error,
        }
        response = self._renderer.page("signin.html", context, status)
        response.set_cookie(
            SIGNIN_COOKIE,
            nonce,
            max_age=_SIGNIN_NONCE_SECONDS,
            path=SIGNIN,
            secure=self._secure(request),
            httponly=True,
            samesite="strict",
        )
        return response


def _display_name(token: str, identity: Identity) -> str:
    """The token's ``sub`` (a person's name), else the owner id the API uses."""
    sub = token_claims(token).get("sub")
    return sub if isinstance(sub, str) and sub else identity.owner
