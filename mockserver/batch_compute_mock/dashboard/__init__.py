"""The dashboard: web pages for people, over the same services as the API, at ``/dashboard/``.

People sign in with a bearer token and see, for that token's owner only, their functions
(status, settings, job counts), one function's build log, charts and jobs table with its
actions, and one job's inputs, timeline, log and result; pages that show work going on update
themselves. Server-rendered (Jinja2 templates, autoescaped), a few lines of plain JavaScript,
charts as inline SVG: nothing is built, nothing is fetched from elsewhere.

``dashboard_routes(server)`` gives the routes the app adds to its router. The modules:
``routes`` (URLs, errors, headers), ``access`` (sessions, CSRF, sign in/out), ``session``
(the signed cookie), ``pages`` and ``actions`` (what each URL shows or does), ``filters``
(the jobs table's query in a URL), ``views`` and ``charts`` (what the templates draw),
``rendering`` (templates and static files).
"""

from __future__ import annotations

from .routes import dashboard_routes

__all__ = ["dashboard_routes"]
