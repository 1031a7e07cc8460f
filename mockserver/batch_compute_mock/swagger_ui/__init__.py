"""Swagger UI 5, vendored: the API docs page at ``/ui/``, which renders our OpenAPI 3.1 contract.

Connexion bundles Swagger UI 4 (``swagger_ui_bundle``), which cannot read 3.1 documents. On
PyPI, Swagger UI 5 only comes with baggage (``swagger-ui-py`` adds 20 MB of Swagger Editor and
installs a top-level ``test`` package), so the four files the page needs from the npm package
``swagger-ui-dist`` (version in ``package.json``, licence in ``LICENSE`` / ``NOTICE``) live
here, unmodified, beside our page template ``index.j2``. ``scripts/vendor-swagger-ui`` refreshes
them. Connexion serves this directory as the Swagger UI template directory; nothing is fetched
from the internet at run time (the online validator badge is off).
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["DIRECTORY", "VERSION"]

DIRECTORY = Path(__file__).parent
VERSION: str = json.loads((DIRECTORY / "package.json").read_text())["version"]
