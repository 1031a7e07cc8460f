"""Per-function Python environments, built with uv and shared by content.

An environment is a virtual environment under ``<root>/<key>`` whose key is a hash of what
makes it what it is: the normalised requirement lines, the interpreter's full version and the
platform. Functions with the same requirements on the same Python share one; it is built once
(a per-key file lock serialises builds, also across processes and restarts) and kept until the
cache passes its size cap, when the least recently used ones that no job is using are removed.
A function stores its ``EnvironmentSpec``, so a worker lacking the environment (evicted, or a
function restored from a snapshot) builds it again before the job starts.

Files under ``<root>``:

- ``<key>/``                  the virtual environment; complete once ``<key>/.ready`` exists
- ``locks/<key>.build``       held exclusively while the environment is built or removed
- ``locks/<key>.use``         held shared by every worker whose job process runs in it
- ``runtime-<hash>/``         a copy of the job runtime (standard library only), which every
                              environment imports through a ``.pth`` file: jobs get the runtime
                              and the client stand-ins without listing anything

uv's own cache (``UV_CACHE_DIR`` or its default; ``<root>/uv-cache`` when builds are
sandboxed) keeps downloaded and built wheels, so rebuilding a set that was evicted is quick.
Index settings come from uv's environment variables (``UV_INDEX_URL``,
``UV_EXTRA_INDEX_URL``, ...) and, unsandboxed, its configuration files.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import attrs
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

import batch_compute_runtime

from .pythons import Interpreter
from .requirements import logical_lines
from .sandbox import SandboxPolicy, import_roots

__all__ = [
    "EnvironmentBuildError",
    "EnvironmentSpec",
    "EnvironmentStore",
    "build_environment",
    "normalise_requirements",
]

_READY = ".ready"
_PTH = "_batch_compute_runtime.pth"
_REASON_CHARS = 300
_CAUSE = re.compile(r"^(?:error|cause|caused by):\s*", re.IGNORECASE)
#: The box-drawing marks uv puts before its error lines (a multiplication sign, arrows).
_MARKS = "\u00d7\u2570\u2500\u25b6\u2502 "


class EnvironmentBuildError(Exception):
    """An environment could not be built; ``str()`` is the short reason for the user."""


@dataclass(frozen=True)
class EnvironmentSpec:
    """What an environment holds: requirement lines (normalised) on one interpreter."""

    requirements: tuple[str, ...]
    python: str
    version: str
    platform: str

    @classmethod
    def of(cls, requirements_text: str | None, interpreter: Interpreter) -> EnvironmentSpec:
        return cls(
            normalise_requirements(requirements_text or ""),
            interpreter.path,
            interpreter.version,
            interpreter.platform,
        )

    @property
    def key(self) -> str:
        identity = {
            "requirements": list(self.requirements),
            "python": self.version,
            "platform": self.platform,
        }
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
        return digest[:32]

    def to_json(self) -> dict[str, object]:
        return {
            "requirements": list(self.requirements),
            "python": self.python,
            "version": self.version,
            "platform": self.platform,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> EnvironmentSpec:
        requirements = data["requirements"]
        if not isinstance(requirements, list):
            raise ValueError(f"an environment's requirements are a list, not {requirements!r}")
        return cls(
            tuple(str(r) for r in requirements),
            str(data["python"]),
            str(data["version"]),
            str(data["platform"]),
        )


def normalise_requirements(text: str) -> tuple[str, ...]:
    """The requirement set as a key: options first in their order, then requirements
    canonicalised (``Six == 1.16.0`` is ``six==1.16.0``), deduplicated and sorted."""
    options: list[str] = []
    requirements: set[str] = set()
    for _number, line in logical_lines(text):
        if line.startswith("-"):
            options.append(" ".join(line.split()))
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            requirements.add(" ".join(line.split()))  # uv will say what is wrong with it
            continue
        requirement.name = canonicalize_name(requirement.name)
        requirements.add(str(requirement))
    return (*options, *sorted(requirements))


class EnvironmentStore:
    """The environments under ``root``; ``uv`` is the uv binary to build them with."""

    def __init__(
        self,
        root: Path,
        uv: str | None = None,
        allow_downloads: bool = False,
        sandbox: SandboxPolicy | None = None,
    ) -> None:
        self.root = Path(root)
        self._uv = uv
        self._allow_downloads = allow_downloads
        #: uv runs inside it (with the network) when given; see ``_uv_run``.
        self._sandbox = attrs.evolve(sandbox, network=True) if sandbox is not None else None

    # Paths ----------------------------------------------------------------------------
    def path(self, key: str) -> Path:
        return self.root / key

    def python(self, key: str) -> Path:
        """The interpreter of the environment ``key``."""
        return self.path(key) / "bin" / "python"

    def is_ready(self, key: str) -> bool:
        return (self.path(key) / _READY).is_file()

    @property
    def _locks(self) -> Path:
        return self.root / "locks"

    # Building -------------------------------------------------------------------------
    def ensure(self, spec: EnvironmentSpec, log: Callable[[str], None]) -> bool:
        """Make sure the environment for ``spec`` exists; True if this call built it.

        Raises ``EnvironmentBuildError`` with a short reason when uv fails (its own message
        went to ``log``, line by line).
        """
        key = spec.key
        for directory in (self.root, self._locks):
            directory.mkdir(parents=True, exist_ok=True)
        waited = time.monotonic()
        with _locked(self._locks / f"{key}.build", fcntl.LOCK_EX):
            if time.monotonic() - waited > 1.0:
                log(f"  Waited {time.monotonic() - waited:.1f} s for another build of it")
            if self.is_ready(key):
                self.attach_runtime(key)
                self.touch(key)
                log(f"  Environment {key} is already built ({_mib(self.size(key))}); reusing it")
                return False
            self._build(spec, log)
            return True

    def _build(self, spec: EnvironmentSpec, log: Callable[[str], None]) -> None:
        key, target = spec.key, self.path(spec.key)
        shutil.rmtree(target, ignore_errors=True)  # what an interrupted build left
        started = time.monotonic()
        where = " in the sandbox" if self._sandbox is not None else ""
        log(f"  Creating environment {key} with uv{where} (Python {spec.version})")
        self._own(target)
        run = functools.partial(self._uv_run, spec=spec, target=target, log=log)
        run(["venv", "--allow-existing", "--python", spec.python, str(target)])
        if spec.requirements:
            listed = target / ".requirements.txt"  # what was asked for, kept with the result
            listed.write_text("\n".join(spec.requirements) + "\n")
            log(f"  Installing {len(spec.requirements)} requirement line(s) with uv pip")
            run(["pip", "install", "--python", str(self.python(key)), "-r", str(listed)])
        else:
            log("  No requirements to install")
        self.attach_runtime(key)
        size = _disk_usage(target)
        _write_atomic(target / _READY, json.dumps({"bytes": size, "spec": spec.to_json()}))
        log(f"  Environment {key} built in {time.monotonic() - started:.1f} s ({_mib(size)})")

    def _own(self, path: Path) -> None:
        """Create ``path`` for the sandbox's user (the build writes there as that user)."""
        path.mkdir(parents=True, exist_ok=True)
        if self._sandbox is not None and self._sandbox.uid is not None:
            gid = self._sandbox.uid if self._sandbox.gid is None else self._sandbox.gid
            os.chown(path, self._sandbox.uid, gid)

    def _uv_run(
        self,
        arguments: list[str],
        *,
        spec: EnvironmentSpec,
        target: Path,
        log: Callable[[str], None],
    ) -> None:
        """Run uv (in the sandbox when there is one), its output to ``log`` line by line."""
        uv = self._uv or _find_uv()
        env = {**build_environment(os.environ), "NO_COLOR": "1", "UV_NO_PROGRESS": "1"}
        env["COLUMNS"] = "1000"  # uv wraps its messages at this width: one message, one line
        if not self._allow_downloads:
            env["UV_PYTHON_DOWNLOADS"] = "never"
        command = [uv, *arguments]
        if self._sandbox is not None:
            # The build sees the system, uv, the interpreter, its own environment and uv's
            # cache; nothing else of the host (the data dir, other environments, secrets).
            # uv's cache of its own, owned by the sandbox's user: the operator's is neither
            # writable by that user nor exposed to builds. (Sandboxed builds share this one,
            # as they must for a rebuild to be quick.)
            cache = self.root / "uv-cache"
            self._own(cache)
            env.update(UV_CACHE_DIR=str(cache), HOME="/tmp", TMPDIR="/tmp")
            env["UV_LINK_MODE"] = "copy"  # a hard link cannot cross into another mount
            read_only = [os.path.dirname(os.path.realpath(uv)), *import_roots(spec.python, [])]
            command = self._sandbox.wrap(
                command, read_only=read_only, writable=[str(target), str(cache)]
            )
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd="/",
            text=True,
            errors="replace",
        )
        said: list[str] = []
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip()
            if line and not line.startswith("Activate with:"):
                said.append(line)
                log(f"    uv: {line}")
        if process.wait() != 0:
            raise EnvironmentBuildError(_short_reason(said, process.returncode))

    # The runtime ----------------------------------------------------------------------
    def attach_runtime(self, key: str) -> None:
        """Point the environment at this server's copy of the job runtime (a ``.pth`` file):
        redone after an upgrade changed the runtime."""
        runtime = self._runtime_dir()
        for site in self.path(key).glob("lib/python*/site-packages"):
            pth = site / _PTH
            wanted = f"{runtime}\n"
            with contextlib.suppress(OSError):
                if pth.read_text() == wanted:
                    continue
            _write_atomic(pth, wanted)

    def _runtime_dir(self) -> Path:
        source = Path(batch_compute_runtime.__file__).parent
        target = self.root / f"runtime-{_tree_hash(source)}"
        if not target.is_dir():
            staging = Path(tempfile.mkdtemp(prefix=".runtime-", dir=self.root))
            shutil.copytree(
                source,
                staging / source.name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
            staging.chmod(0o755)
            try:
                os.rename(staging, target)
            except OSError:  # another build got there first: its copy is the same
                shutil.rmtree(staging, ignore_errors=True)
        return target

    # Use and eviction -----------------------------------------------------------------
    def touch(self, key: str) -> None:
        """Mark the environment used now (eviction removes the least recently used)."""
        with contextlib.suppress(OSError):
            os.utime(self.path(key) / _READY)

    def hold(self, key: str) -> int:
        """A shared lock that keeps the environment from eviction until ``release``."""
        self._locks.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._locks / f"{key}.use", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_SH)
        self.touch(key)
        return fd

    @staticmethod
    def release(fd: int) -> None:
        with contextlib.suppress(OSError):
            os.close(fd)

    def size(self, key: str) -> int:
        try:
            return int(json.loads((self.path(key) / _READY).read_text())["bytes"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def ready_keys(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return [p.parent.name for p in self.root.glob(f"*/{_READY}")]

    def total_bytes(self) -> int:
        return sum(self.size(key) for key in self.ready_keys())

    def evict(
        self, max_bytes: int, log: Callable[[str], None], keep: str | None = None
    ) -> list[str]:
        """Remove the least recently used environments nobody uses until the total is at most
        ``max_bytes``; never ``keep``, nor one a build or a job holds. The removed keys."""
        entries = []
        for key in self.ready_keys():
            with contextlib.suppress(OSError):
                entries.append(((self.path(key) / _READY).stat().st_mtime, key))
        total = sum(self.size(key) for _, key in entries)
        removed: list[str] = []
        for _, key in sorted(entries):
            if total <= max_bytes:
                break
            if key == keep:
                continue
            size = self.size(key)
            if self._remove_if_unused(key):
                total -= size
                removed.append(key)
                log(f"  Removed unused environment {key} ({_mib(size)}): the cache is over its cap")
        return removed

    def _remove_if_unused(self, key: str) -> bool:
        try:
            with (
                _locked(self._locks / f"{key}.build", fcntl.LOCK_EX | fcntl.LOCK_NB),
                _locked(self._locks / f"{key}.use", fcntl.LOCK_EX | fcntl.LOCK_NB),
            ):
                (self.path(key) / _READY).unlink(missing_ok=True)
                shutil.rmtree(self.path(key), ignore_errors=True)
                return True
        except BlockingIOError:
            return False


#: What uv and the builds it runs (an sdist's ``setup.py`` is anyone's code) never see: the
#: server's secrets and credentials. uv's own settings (``UV_*``, index credentials included)
#: are kept: they are how an operator points builds at a private index.
_SECRET_PATTERNS = (
    "BATCH_COMPUTE_*",
    "*SECRET*",
    "*_TOKEN",
    "*PASSWORD*",
    "*_API_KEY",
    "*_PRIVATE_KEY",
    "AWS_*",
    "VIRTUAL_ENV",
)


def build_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The environment uv runs with: ``base`` without secrets, uv's own settings kept."""
    return {
        name: value
        for name, value in base.items()
        if name.startswith("UV_")
        or not any(fnmatchcase(name.upper(), pattern) for pattern in _SECRET_PATTERNS)
    }


@contextlib.contextmanager
def _locked(path: Path, operation: int) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, operation)
        yield
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _disk_usage(root: Path) -> int:
    """Bytes on disk under ``root``, each file counted once however many links it has."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for directory, _dirs, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                info = os.lstat(os.path.join(directory, name))
                if (info.st_dev, info.st_ino) not in seen:
                    seen.add((info.st_dev, info.st_ino))
                    total += info.st_blocks * 512
    return total


@functools.cache
def _tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _find_uv() -> str:
    import uv

    return uv.find_uv_bin()


def _short_reason(said: list[str], returncode: int) -> str:
    """uv's own words, shortened: the first error line and what it explains."""
    cleaned = [line.strip().lstrip(_MARKS).strip() for line in said]
    start = next(
        (i for i, line in enumerate(said) if line.lstrip().startswith(("\u00d7", "error:"))), None
    )
    if start is None:
        text = cleaned[-1] if cleaned else f"uv exited with code {returncode}"
    else:
        parts = [_CAUSE.sub("", part) for part in cleaned[start : start + 3]]
        text = ": ".join(part.rstrip(":") for part in parts if part)
    text = text.removeprefix("error: ")
    if len(text) > _REASON_CHARS:
        text = text[: _REASON_CHARS - 3] + "..."
    return f"installing the requirements failed: {text}"


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"
