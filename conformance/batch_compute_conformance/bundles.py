"""The code bundles the kit uploads: zip files with ``__dlentrypoint__.py`` defining ``main``.

One entrypoint serves every scenario: ``main(mode, *args, **kwargs)`` picks the behaviour,
so one build can run many kinds of job. ``ComputeResult`` comes from the client package when
the backend's environment has one, else from a class of the same shape.
"""

from __future__ import annotations

import io
import zipfile

__all__ = ["ENTRYPOINT", "bundle", "not_a_zip", "without_entrypoint"]

ENTRYPOINT = """\
import os
import sys
import time

try:
    from descarteslabs.compute import ComputeResult
except ImportError:
    try:
        from earthdaily.earthone.compute import ComputeResult
    except ImportError:
        class ComputeResult:
            def __init__(self, value=None, description=None, expires=None,
                         extra_properties=None, geometry=None, tags=None):
                self.value = value
                self.description = description
                self.expires = expires
                self.extra_properties = extra_properties
                self.geometry = geometry
                self.tags = tags


def conformance_main(mode, *args, **kwargs):
    if mode == "echo":
        return args[0]
    if mode == "bytes":
        return bytes.fromhex(args[0])
    if mode == "none":
        return None
    if mode == "compute_result":
        return ComputeResult(args[0], **kwargs)
    if mode == "print":
        for line in args:
            print(line)
            sys.stdout.flush()
        return len(args)
    if mode == "raise":
        raise ValueError(args[0])
    if mode == "sleep":
        time.sleep(args[0])
        return "slept"
    if mode == "env":
        return {name: os.environ.get(name) for name in args}
    raise RuntimeError("unknown mode " + repr(mode))


main = conformance_main
"""


def bundle(requirements: str | None = None) -> bytes:
    """The kit's bundle; ``requirements`` adds a requirements.txt."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__dlentrypoint__.py", ENTRYPOINT)
        if requirements is not None:
            archive.writestr("requirements.txt", requirements)
    return buffer.getvalue()


def without_entrypoint() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("other.py", "x = 1\n")
    return buffer.getvalue()


def not_a_zip() -> bytes:
    return b"this is not a zip file\n"
