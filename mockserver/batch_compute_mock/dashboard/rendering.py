"""HTML out: the Jinja2 templates (autoescaped: names, logs and results are user data), the
live updates pages poll for, the static files, and the headers every dashboard answer carries.

Every answer forbids inline scripts and styles (Content-Security-Policy), so even markup that
slipped past escaping could not run; the pages need neither: charts are SVG attributes and
the one script is ``static/dashboard.js``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from starlette.responses import HTMLResponse, JSONResponse, Response

from . import views

__all__ = ["SECURITY_HEADERS", "Renderer"]

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
_PRIVATE = {"Cache-Control": "no-store"}


class Renderer:
    """Renders templates into answers; one per app (templates and static files load once)."""

    def __init__(self) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(
            when=views.when,
            number=views.number,
            seconds=views.seconds,
            mebibytes=views.mebibytes,
            byte_size=views.byte_size,
            pretty_json=views.pretty_json,
            status_label=views.status_label,
            short_id=views.short_id,
        )
        self._static: dict[str, tuple[bytes, str, str]] = {}
        for path in sorted(STATIC.iterdir()):
            if path.suffix in _STATIC_TYPES:
                data = path.read_bytes()
                digest = hashlib.sha256(data).hexdigest()[:12]
                self._static[path.name] = (data, _STATIC_TYPES[path.suffix], digest)
        self._env.globals["static"] = self.static_url

    def page(self, template: str, context: Mapping[str, Any], status: int = 200) -> HTMLResponse:
        return HTMLResponse(self.render(template, context), status, headers=_PRIVATE)

    def render(self, template: str, context: Mapping[str, Any]) -> str:
        return self._env.get_template(template).render(context)

    def live(
        self,
        live: bool,
        parts: Mapping[str, tuple[str, Mapping[str, Any]]],
        **extra: Any,
    ) -> JSONResponse:
        """What a page's script polls for: ``parts`` (element id -> template and context)
        rendered, and whether the page shows work still going on (``live``)."""
        rendered = {
            element: self.render(name, context) for element, (name, context) in parts.items()
        }
        return JSONResponse({"live": live, "parts": rendered, **extra}, headers=_PRIVATE)

    def static_url(self, name: str) -> str:
        """The file's URL, versioned by its content, so that it can be cached for long."""
        return f"/dashboard/static/{name}?v={self._static[name][2]}"

    def static(self, name: str) -> Response | None:
        found = self._static.get(name)
        if found is None:
            return None
        data, media_type, _ = found
        return Response(
            data, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
        )
