"""The code bundle: the zip a function's jobs run from (wire protocol §6.1).

Layout: ``__dlentrypoint__.py`` defining ``main``, an optional ``requirements.txt`` (lines joined
by ``\\n``, no trailing newline), data files and module sources at their paths relative to their
``sys.path`` root. Everything that would only fail on the server (a global the job process will
not have, a lambda, an unparsable requirement, a missing data file) is refused here, before
any request. The zip is reproducible: same inputs, same bytes.
"""

from __future__ import annotations

import builtins
import dis
import glob
import importlib
import importlib.util
import inspect
import io
import os
import sys
import textwrap
import types
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from ._errors import BoundGlobalError

__all__ = [
    "ENTRYPOINT",
    "build_bundle",
    "check_no_globals",
    "entrypoint_source",
    "normalize_requirements",
    "resolve_dotted",
]

ENTRYPOINT = "__dlentrypoint__.py"
_REQUIREMENTS = "requirements.txt"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_GLOBAL_OPS = frozenset({"LOAD_GLOBAL"})


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def check_no_globals(function: types.FunctionType) -> None:
    """Refuse a function that reads module globals: the job's process will not have them."""
    allowed = set(dir(builtins)) | {function.__name__}
    used = sorted(
        {
            instruction.argval
            for code in _code_objects(function.__code__)
            for instruction in dis.get_instructions(code)
            if instruction.opname in _GLOBAL_OPS and instruction.argval not in allowed
        }
    )
    if used:
        raise BoundGlobalError(
            f"{function.__name__} uses globals {', '.join(used)}: the job runs only the function's "
            "own source, so import modules and define helpers inside the function"
        )


def resolve_dotted(path: str) -> tuple[str, str, Callable[..., Any]]:
    """Import ``pkg.mod.func`` (or ``pkg.mod.Class.method``): (module, attribute path, object)."""
    parts = path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module_name, attrs_path = ".".join(parts[:split]), parts[split:]
        try:
            target: Any = importlib.import_module(module_name)
        except ImportError:
            continue
        try:
            for name in attrs_path:
                target = getattr(target, name)
        except AttributeError as exc:
            raise ValueError(f"cannot import {path!r}: {exc}") from None
        if not callable(target):
            raise ValueError(f"{path!r} is not callable")
        return module_name, ".".join(attrs_path), target
    raise ValueError(
        f"cannot import {path!r}: give a dotted path such as 'package.module.function'"
    )


def entrypoint_source(function: Callable[..., Any] | str) -> tuple[str, str]:
    """The ``__dlentrypoint__.py`` text and the default function name."""
    if isinstance(function, str):
        module_name, attribute, _ = resolve_dotted(function)
        head = attribute.split(".")[0]
        source = f"from {module_name} import {head}\n\n\nmain = {attribute}\n"
        return source, attribute.split(".")[-1]
    if not isinstance(function, types.FunctionType):
        raise ValueError(f"{function!r} is not a plain Python function (builtins and callables "
                         "objects cannot be bundled)")  # fmt: skip
    if function.__name__ == "<lambda>":
        raise ValueError("lambdas cannot be bundled: define the function with def")
    try:
        text = textwrap.dedent(inspect.getsource(function)).strip()
    except (OSError, TypeError) as exc:
        raise ValueError(f"the source of {function.__name__} is not available: {exc}") from None
    check_no_globals(function)
    return f"{text}\n\n\nmain = {function.__name__}\n", function.__name__


def normalize_requirements(requirements: Iterable[str] | str | os.PathLike[str]) -> list[str]:
    """Requirement lines, checked; a str or path names a requirements file."""
    if isinstance(requirements, str | os.PathLike):
        lines = Path(requirements).read_text().splitlines()
    else:
        lines = list(requirements)
    for line in lines:
        if not isinstance(line, str):
            raise ValueError(f"Invalid Python requirements: {line!r} is not a string")
        stripped = line.strip()
        if stripped.startswith(("#", "-", "https://", "http://")):
            continue  # comments, pip options and URLs go to pip as they are
        try:
            Requirement(stripped)
        except InvalidRequirement as exc:
            raise ValueError(f"Invalid Python requirements: {line!r}: {exc}") from None
    return lines


def _sys_path_roots() -> list[Path]:
    roots = {Path(entry or os.getcwd()).resolve() for entry in sys.path}
    roots.add(Path.cwd().resolve())
    return sorted(roots, key=lambda p: len(p.parts), reverse=True)


def _archive_name(path: Path) -> str:
    """``path`` relative to the longest ``sys.path`` entry holding it."""
    resolved = path.resolve()
    for root in _sys_path_roots():
        if resolved.is_relative_to(root):
            return resolved.relative_to(root).as_posix()
    raise ValueError(f"{path} is not below the current directory or any sys.path entry")


def _data_files(patterns: Iterable[str]) -> Iterator[Path]:
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True))
        if not matches:
            if glob.has_magic(pattern):
                warnings.warn(f"include_data pattern {pattern!r} matches no file", stacklevel=4)
                continue
            raise ValueError(f"include_data: {pattern!r} does not exist")
        for match in matches:
            path = Path(match)
            if path.is_dir():
                raise ValueError(f"include_data: {match!r} is a directory; use a glob like "
                                 f"'{match}/**/*' instead")  # fmt: skip
            yield path


def _module_files(names: Iterable[str]) -> Iterator[Path]:
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ValueError(f"include_modules: cannot find module {name!r}")
        origin = Path(spec.origin)
        if {"site-packages", "dist-packages"} & set(origin.parts):
            raise ValueError(f"include_modules: {name!r} is an installed package; list it in "
                             "requirements instead")  # fmt: skip
        if spec.submodule_search_locations:
            for location in spec.submodule_search_locations:
                for file in sorted(Path(location).rglob("*")):
                    if file.suffix in {".py", ".pyx"} and "__pycache__" not in file.parts:
                        yield file
        elif origin.suffix in {".py", ".pyx"}:
            yield origin
        else:
            raise ValueError(f"include_modules: {name!r} has no Python source ({origin})")
        parent = name.rpartition(".")[0]
        while parent:  # parent packages must be importable in the job too
            parent_spec = importlib.util.find_spec(parent)
            if parent_spec is not None and parent_spec.origin:
                yield Path(parent_spec.origin)
            parent = parent.rpartition(".")[0]


def build_bundle(
    function: Callable[..., Any] | str,
    requirements: Iterable[str] | str | os.PathLike[str] | None = None,
    include_data: Iterable[str] | None = None,
    include_modules: Iterable[str] | None = None,
) -> bytes:
    """The zipped bundle for ``function`` (a callable or a dotted import path)."""
    source, _ = entrypoint_source(function)
    files: dict[str, bytes] = {ENTRYPOINT: source.encode()}
    if requirements is not None:
        lines = normalize_requirements(requirements)
        if lines:
            files[_REQUIREMENTS] = "\n".join(lines).encode()
    for path in [*_data_files(include_data or ()), *_module_files(include_modules or ())]:
        name = _archive_name(path)
        if name in {"__main__.py", ENTRYPOINT}:
            raise ValueError(f"{path} would be stored as {name}, which the bundle reserves")
        files[name] = path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()
