"""Unpacked bundles on this machine: one directory per function, filled from the blob store.

A function's bundle never changes after its upload, so the function id is the cache key. The
build unpacks into this cache when it runs on the same machine (the first job is then warm);
anywhere else, or after the cache was wiped, the first job of a function on a worker fetches
the zip from the blob store and unpacks it (with the build's archive checks; its code was
checked by the build) into a
temporary directory that is renamed into place, so several workers racing for one bundle
each see a complete directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..blobs import BlobStore
from .bundle import BundleLimits, extract_bundle

__all__ = ["BundleCache"]


class BundleCache:
    def __init__(self, root: Path, blobs: BlobStore, limits: BundleLimits | None = None) -> None:
        self.root = Path(root)
        self._blobs = blobs
        self._limits = limits or BundleLimits()

    def path(self, function_id: str) -> Path:
        """Where the function's unpacked bundle is (or will be)."""
        return self.root / function_id

    def ensure(self, function_id: str, bundle_key: str) -> Path:
        """The unpacked bundle, fetched and unpacked first if this machine lacks it."""
        target = self.path(function_id)
        if target.is_dir():
            return target
        self.root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{function_id}.zip-", dir=self.root)
        os.close(fd)
        download = Path(name)
        try:
            self._blobs.fetch_file(bundle_key, download)
            staging = self.root / f".{function_id}.tmp-{os.getpid()}"
            extract_bundle(download, staging, self._limits, check_code=False)
            try:
                os.rename(staging, target)
            except OSError:  # another worker got there first: its copy is as good
                if not target.is_dir():
                    raise
                shutil.rmtree(staging, ignore_errors=True)
        finally:
            download.unlink(missing_ok=True)
        return target

    def clear(self) -> None:
        """Drop every unpacked bundle (they are unpacked again from the blob store on use)."""
        shutil.rmtree(self.root, ignore_errors=True)

    def forget(self, function_id: str) -> None:
        """Drop a deleted function's bundle."""
        shutil.rmtree(self.path(function_id), ignore_errors=True)
