"""Blobs: bundles, build logs, job logs and results, as bytes under keys.

``protocol`` is the interface (``BlobStore``), ``keys`` says where each kind of blob lives, and
``local`` keeps them as files under a directory (the default).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from .local import LocalBlobStore
from .protocol import BlobAppender, BlobStore

__all__ = ["BlobAppender", "BlobStore", "LocalBlobStore", "open_blobs"]


def open_blobs(url: str | Path) -> BlobStore:
    """The blob store at ``url``: a directory path or a ``file://`` URL."""
    text = str(url)
    parts = urlsplit(text)
    if parts.scheme in ("", "file"):
        return LocalBlobStore(Path(parts.path if parts.scheme else text))
    raise ValueError(f"unsupported blob store URL {text!r}; use a directory or file:// URL")
