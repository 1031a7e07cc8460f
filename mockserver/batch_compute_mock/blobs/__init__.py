"""Blobs: bundles, build logs, job logs and results, as bytes under keys.

``protocol`` is the interface (``BlobStore``), ``keys`` says where each kind of blob lives,
``local`` keeps them as files under a directory (the default), ``s3`` in an S3 bucket, where
``segments`` lays out a blob that grows (a running job's log).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from .local import LocalBlobStore
from .protocol import BlobAppender, BlobStore, BlobStoreUnavailable

__all__ = [
    "BlobAppender",
    "BlobStore",
    "BlobStoreUnavailable",
    "LocalBlobStore",
    "check_blob_url",
    "open_blobs",
]

_SUPPORTED = "a directory, file:///path or s3://bucket/prefix"


def check_blob_url(url: str | Path) -> None:
    """Raise ``ValueError`` (one line, naming what is supported) for a URL no store opens."""
    text = str(url)
    scheme = urlsplit(text).scheme
    if scheme not in ("", "file", "s3"):
        raise ValueError(f"unsupported blob store URL {text!r} ({scheme}://); use {_SUPPORTED}")
    if scheme == "s3" and not urlsplit(text).netloc:
        raise ValueError(f"blob store URL {text!r} names no bucket; use s3://bucket/prefix")


def open_blobs(url: str | Path) -> BlobStore:
    """The blob store at ``url``: a directory path, a ``file://`` URL or ``s3://bucket/prefix``."""
    check_blob_url(url)
    text = str(url)
    parts = urlsplit(text)
    if parts.scheme == "s3":
        from .s3 import S3BlobStore  # s3fs is imported only by a server that uses S3

        return S3BlobStore(text)
    return LocalBlobStore(Path(parts.path if parts.scheme else text))
