"""Checking and unpacking an uploaded function bundle (a zip, wire protocol section 6.1).

The zip comes from a client, so nothing in it is trusted: names are checked before anything
touches the disk, and sizes are enforced while decompressing (``zipfile`` stops at each
entry's declared size and then checks the CRC, so a header that understates a size fails as
corrupt instead of inflating). Every rule failure raises ``BundleError`` with a message that
names the entry and the rule; it is shown to the user in the build log.
"""

from __future__ import annotations

import ast
import lzma
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

__all__ = [
    "ENTRYPOINT",
    "REQUIREMENTS",
    "BundleError",
    "BundleFile",
    "BundleLimits",
    "BundleReport",
    "extract_bundle",
    "inspect_bundle",
]

ENTRYPOINT = "__dlentrypoint__.py"
REQUIREMENTS = "requirements.txt"

_MIB = 1024 * 1024
_CHUNK = 64 * 1024
# Below this size an entry may compress arbitrarily well (a file of spaces) without harm.
_RATIO_FLOOR = _MIB
_DRIVE = re.compile(r"^[A-Za-z]:")
# What zipfile raises for damaged archives: beyond BadZipFile, bad offsets surface as OSError
# (negative seeks), odd version fields as NotImplementedError, and broken streams as zlib or
# lzma/bz2 errors (LZMAError, OSError, EOFError).
_DAMAGE = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
)


class BundleError(ValueError):
    """The bundle breaks a rule; the message is meant for the function's owner."""


@dataclass(frozen=True)
class BundleLimits:
    """Caps on what a bundle may unpack to; small values make the tests cheap."""

    max_total_bytes: int = 100 * _MIB
    max_file_bytes: int = 100 * _MIB
    max_files: int = 5000
    max_compression_ratio: float = 1000.0


@dataclass(frozen=True)
class BundleFile:
    name: str
    size: int
    compressed_size: int


@dataclass(frozen=True)
class BundleReport:
    """What a valid bundle holds; ``checks`` are human-readable lines for the build log."""

    files: tuple[BundleFile, ...]
    total_bytes: int
    main_definition: str
    requirements: str | None
    checks: tuple[str, ...]


def inspect_bundle(zip_path: Path, limits: BundleLimits | None = None) -> BundleReport:
    """Check every rule without writing anything; ``BundleError`` names the first failure."""
    return _scan(Path(zip_path), limits or BundleLimits(), None)


def extract_bundle(
    zip_path: Path,
    dest: Path,
    limits: BundleLimits | None = None,
    *,
    check_code: bool = True,
) -> BundleReport:
    """Check every rule while unpacking into ``dest``, which appears only when all passed.

    Files are written to a temp dir beside ``dest`` and renamed into place; an existing
    ``dest`` is replaced. ``check_code=False`` skips compiling the entrypoint: for a bundle
    that already passed its build and is only being unpacked again (the archive rules, which
    keep the disk safe, still apply).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    staging.chmod(0o755)  # a sandboxed job runs as another user, and must read its bundle
    try:
        report = _scan(Path(zip_path), limits or BundleLimits(), staging, check_code)
        _replace_dir(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report


def _replace_dir(staging: Path, dest: Path) -> None:
    if not dest.exists():
        os.rename(staging, dest)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
    os.rename(dest, old / "x")
    os.rename(staging, dest)
    shutil.rmtree(old, ignore_errors=True)


def _scan(
    zip_path: Path, limits: BundleLimits, dest: Path | None, check_code: bool = True
) -> BundleReport:
    try:
        handle = zip_path.open("rb")
    except OSError as exc:
        raise BundleError(f"The bundle could not be read ({exc.strerror or exc})") from None
    with handle:
        try:
            archive = zipfile.ZipFile(handle)
        except _DAMAGE as exc:
            raise BundleError(f"The bundle is not a valid zip archive ({exc})") from None
        with archive:
            return _scan_archive(archive, limits, dest, check_code)


def _scan_archive(
    archive: zipfile.ZipFile, limits: BundleLimits, dest: Path | None, check_code: bool
) -> BundleReport:
    infos = archive.infolist()
    if len(infos) > limits.max_files:
        raise BundleError(
            f"The bundle has {len(infos)} entries; at most {limits.max_files} are allowed"
        )
    _check_names(infos)
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_total_bytes:
        raise BundleError(
            f"The bundle unpacks to {declared} bytes; at most {limits.max_total_bytes} "
            "bytes are allowed"
        )
    files: list[BundleFile] = []
    total = 0
    entrypoint: bytes | None = None
    requirements: bytes | None = None
    for info in infos:
        if info.is_dir():
            if dest is not None:
                dest.joinpath(*info.filename.rstrip("/").split("/")).mkdir(
                    parents=True, exist_ok=True
                )
            continue
        _check_entry_header(info, limits)
        keep = info.filename in (ENTRYPOINT, REQUIREMENTS)
        size, content = _copy_entry(archive, info, limits, total, dest, keep)
        total += size
        files.append(BundleFile(info.filename, size, info.compress_size))
        if info.filename == ENTRYPOINT:
            entrypoint = content
        elif info.filename == REQUIREMENTS:
            requirements = content
    if entrypoint is None:
        raise BundleError(f"The bundle has no {ENTRYPOINT} at its root")
    main_definition = _check_entrypoint(entrypoint) if check_code else "not checked"
    requirements_text = _decode_requirements(requirements)
    checks = (
        f"Archive is a valid zip with {len(infos)} entries ({len(files)} files)",
        "All entry names are plain relative paths (no absolute paths, '..', backslashes, "
        "drive letters, symlinks or duplicates)",
        f"Unpacked size {total} bytes is within the limit of {limits.max_total_bytes} bytes",
        f"{ENTRYPOINT} compiles",
        f"{ENTRYPOINT} defines main ({main_definition})",
        f"{REQUIREMENTS} present" if requirements_text is not None else f"No {REQUIREMENTS}",
    )
    return BundleReport(tuple(files), total, main_definition, requirements_text, checks)


def _check_names(infos: list[zipfile.ZipInfo]) -> None:
    seen: set[str] = set()
    parents: set[str] = set()
    for info in infos:
        # zipfile cuts a name at its first NUL (``a\x00b`` reads as ``a``); the name as
        # stored is in ``orig_filename``, and that is what must be judged.
        _check_name(info.orig_filename)
        name = info.filename
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise BundleError(f"Bundle entry {name!r} is a symbolic link; links are not allowed")
        key = name.rstrip("/")
        if key in seen:
            raise BundleError(f"Bundle entry {name!r} appears more than once")
        seen.add(key)
        segments = key.split("/")
        parents.update("/".join(segments[:i]) for i in range(1, len(segments)))
    for info in infos:
        if not info.is_dir() and info.filename in parents:
            raise BundleError(
                f"Bundle entry {info.filename!r} is a file but other entries use it as a directory"
            )


def _check_name(name: str) -> None:
    if not name or name == "/":
        raise BundleError("A bundle entry has an empty name")
    if "\x00" in name:
        raise BundleError(f"Bundle entry {name!r} contains a NUL character")
    if "\\" in name:
        raise BundleError(f"Bundle entry {name!r} contains a backslash; use forward slashes")
    if _DRIVE.match(name):
        raise BundleError(f"Bundle entry {name!r} starts with a drive letter")
    if name.startswith("/"):
        raise BundleError(f"Bundle entry {name!r} is an absolute path; paths must be relative")
    for segment in name.rstrip("/").split("/"):
        if segment == "..":
            raise BundleError(f"Bundle entry {name!r} contains '..'; paths must stay inside")
        if segment in ("", "."):
            raise BundleError(f"Bundle entry {name!r} has an empty or '.' path segment")


def _check_entry_header(info: zipfile.ZipInfo, limits: BundleLimits) -> None:
    name = info.filename
    if info.flag_bits & 0x1:
        raise BundleError(f"Bundle entry {name!r} is encrypted; encryption is not supported")
    if info.file_size > limits.max_file_bytes:
        raise BundleError(
            f"Bundle entry {name!r} is {info.file_size} bytes; at most "
            f"{limits.max_file_bytes} bytes per file are allowed"
        )
    if info.file_size > _RATIO_FLOOR:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_compression_ratio:
            raise BundleError(
                f"Bundle entry {name!r} has a compression ratio of {ratio:.0f}:1; at most "
                f"{limits.max_compression_ratio:.0f}:1 is allowed (zip bomb protection)"
            )


def _copy_entry(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limits: BundleLimits,
    total_so_far: int,
    dest: Path | None,
    keep: bool,
) -> tuple[int, bytes | None]:
    """Decompress one entry, counting real bytes; write it under ``dest`` if given."""
    name = info.filename
    kept: list[bytes] = []
    size = 0
    out: BinaryIO | None = None
    if dest is not None:
        target = dest.joinpath(*name.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        out = target.open("xb")
    try:
        try:
            source = archive.open(info)
        except NotImplementedError as exc:
            raise BundleError(f"Bundle entry {name!r} cannot be unpacked ({exc})") from None
        except _DAMAGE as exc:
            raise BundleError(f"The bundle is corrupt at entry {name!r} ({exc})") from None
        with source:
            while chunk := _read(source, name):
                size += len(chunk)
                if size > limits.max_file_bytes:
                    raise BundleError(
                        f"Bundle entry {name!r} unpacks to more than {limits.max_file_bytes} "
                        "bytes per file"
                    )
                if total_so_far + size > limits.max_total_bytes:
                    raise BundleError(
                        f"The bundle unpacks to more than {limits.max_total_bytes} bytes "
                        f"(exceeded while unpacking {name!r})"
                    )
                if out is not None:
                    out.write(chunk)
                if keep:
                    kept.append(chunk)
    finally:
        if out is not None:
            out.close()
    return size, (b"".join(kept) if keep else None)


def _read(source: IO[bytes], name: str) -> bytes:
    """The next chunk of an entry; damage found while decompressing becomes a BundleError."""
    try:
        return source.read(_CHUNK)
    except _DAMAGE as exc:
        raise BundleError(f"The bundle is corrupt at entry {name!r} ({exc})") from None


def _check_entrypoint(source: bytes) -> str:
    try:
        compile(source, ENTRYPOINT, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise BundleError(
            f"{ENTRYPOINT} has a syntax error at line {exc.lineno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise BundleError(f"{ENTRYPOINT} cannot be compiled: {exc}") from None
    except RecursionError:
        raise BundleError(
            f"{ENTRYPOINT} cannot be compiled: an expression is nested too deeply for the "
            "compiler; split it into smaller statements"
        ) from None
    tree = ast.parse(source, ENTRYPOINT)
    found = _find_main(tree.body)
    if found is None:
        raise BundleError(
            f"{ENTRYPOINT} does not define a top-level 'main' (expected e.g. 'main = func', "
            "'def main(...)' or 'from module import main')"
        )
    return found


def _find_main(body: list[ast.stmt]) -> str | None:
    """How module-level code binds ``main`` (recursing into if/try/with blocks), or None."""
    for node in body:
        line = f"line {node.lineno}"
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "main":
            return f"def at {line}"
        if isinstance(node, ast.ClassDef) and node.name == "main":
            return f"class at {line}"
        if isinstance(node, ast.Assign) and any(_binds_main(t) for t in node.targets):
            return f"assignment at {line}"
        if isinstance(node, ast.AnnAssign) and _binds_main(node.target) and node.value:
            return f"assignment at {line}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound == "main":
                    return f"import at {line}"
        nested: list[list[ast.stmt]] = []
        if isinstance(node, ast.If | ast.For | ast.While):
            nested = [node.body, node.orelse]
        elif isinstance(node, ast.With):
            nested = [node.body]
        elif isinstance(node, ast.Try):
            nested = [node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody]
        for block in nested:
            found = _find_main(block)
            if found is not None:
                return found
    return None


def _binds_main(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return target.id == "main"
    if isinstance(target, ast.Tuple | ast.List):
        return any(_binds_main(elt) for elt in target.elts)
    if isinstance(target, ast.Starred):
        return _binds_main(target.value)
    return False


def _decode_requirements(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BundleError(f"{REQUIREMENTS} is not valid UTF-8 ({exc.reason})") from None
