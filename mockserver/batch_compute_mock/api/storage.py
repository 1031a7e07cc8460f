"""Handlers for the ``storage`` tag: the catalog slice that job results are read through."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from ._context import caller, server

__all__ = ["get_storage_blob", "get_storage_download"]

_JSON_API = "application/vnd.api+json"


def get_storage_blob(token_info: dict[str, Any], blob_id: str) -> JSONResponse:
    document = server().results.storage_document(caller(token_info), blob_id)
    return JSONResponse(document, media_type=_JSON_API)


def get_storage_download(token_info: dict[str, Any], blob_id: str) -> JSONResponse:
    document = server().results.download_document(caller(token_info), blob_id)
    return JSONResponse(document, media_type=_JSON_API)
