"""The sandbox job processes (and the uv runs that build environments, whose sdists run
anyone's ``setup.py``) run in: bubblewrap (``bwrap``) namespaces around the interpreter.

Inside, a job sees a read-only view of the system (``/usr`` and the few ``/etc`` files
programs need), read-only views of its interpreter, of the directories it imports from and of
its function's bundle, one writable scratch dir (its own), a private ``/tmp``, a private
``/dev`` and its own PID namespace (so ``/proc`` shows no server process, and none can be
signalled). The data dir, the database, the signing key and other owners' files are simply not
there. With ``network=False`` it also gets a network namespace of its own: loopback only.

Two ways in, by who runs the server:

- **root**: bwrap runs privileged (no user namespace, which would map the job's user back to
  root on the host), keeps only CAP_SETUID/CAP_SETGID for ``setpriv``, which then becomes the
  unprivileged ``uid``/``gid`` (``nobody``), drops every capability and sets no_new_privs, so
  set-uid programs inside gain nothing. Files root keeps to itself stay unreadable.
- **anyone else**: bwrap runs unprivileged in a user namespace of its own (the job keeps the
  server's uid), and nested user namespaces are refused.

``probe`` decides at start-up whether this machine can do it; the supervisor turns a policy
into a command line with ``SandboxPolicy.wrap``.
"""

from __future__ import annotations

import enum
import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

__all__ = [
    "NOBODY",
    "SandboxMode",
    "SandboxPolicy",
    "SandboxStatus",
    "SandboxUnavailable",
    "import_roots",
    "probe",
]

#: The unprivileged user jobs run as when the server is root (Debian's ``nobody``).
NOBODY = 65534

#: The system seen read-only inside; a host path that is a symlink (``/bin`` -> ``usr/bin`` on
#: merged-/usr systems) becomes the same symlink.
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: The parts of ``/etc`` that programs need (name resolution, users, TLS roots, the dynamic
#: loader, time zone); the rest of ``/etc`` may hold the host's secrets and is not there.
_ETC_ENTRIES = (
    "alternatives",
    "ca-certificates",
    "ca-certificates.conf",
    "gai.conf",
    "group",
    "host.conf",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "passwd",
    "protocols",
    "resolv.conf",
    "services",
    "ssl",
    "timezone",
)


class SandboxMode(enum.StrEnum):
    """``serve --sandbox``: ``auto`` uses bubblewrap where it works and says when it cannot."""

    AUTO = "auto"
    BWRAP = "bwrap"
    OFF = "off"


@attrs.frozen
class SandboxPolicy:
    """How job processes are wrapped; plain data, so it travels to the supervisor as JSON."""

    bwrap: str
    #: Share the host's network (``--job-network on``), or get loopback only.
    network: bool = True
    #: Become this user and group inside (when the server is root); ``None`` keeps the
    #: server's own uid, in a user namespace.
    uid: int | None = None
    gid: int | None = None
    setpriv: str = "setpriv"

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SandboxPolicy:
        return cls(**data)

    def wrap(
        self, command: Sequence[str], *, read_only: Iterable[str], writable: Iterable[str]
    ) -> list[str]:
        """The bwrap command line that runs ``command`` with the listed host directories
        visible at the same paths, read-only or writable; nothing else of the host's files."""
        argv = [self.bwrap, "--die-with-parent", "--unshare-pid", "--unshare-ipc"]
        argv += ["--unshare-uts", "--unshare-cgroup-try", "--hostname", "batch-compute-job"]
        if not self.network:
            argv.append("--unshare-net")
        if self.uid is None:
            argv += ["--unshare-user", "--disable-userns"]
        else:
            argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        argv += _system_view()
        argv += ["--proc", "/proc", "--dev", "/dev"]
        argv += ["--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--tmpfs", "/dev/shm"]
        made: set[str] = {"/", "/tmp", "/dev", "/proc"}
        for flag, paths in (("--ro-bind", _outermost(read_only)), ("--bind", writable)):
            for path in paths:
                argv += _parents(path, made)
                argv += [flag, path, path]
                made.add(path)
        argv += ["--chdir", "/", "--"]
        if self.uid is not None:
            gid = self.uid if self.gid is None else self.gid
            argv += [self.setpriv, f"--reuid={self.uid}", f"--regid={gid}", "--clear-groups"]
            argv += ["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
        return argv + list(command)


@attrs.frozen
class SandboxStatus:
    """What ``--sandbox`` came to on this machine, for the banner and ``/healthz``."""

    mode: SandboxMode
    policy: SandboxPolicy | None
    detail: str

    @classmethod
    def off(cls) -> SandboxStatus:
        return cls(SandboxMode.OFF, None, "off: jobs run as the server's user, unconfined")

    @property
    def active(self) -> bool:
        return self.policy is not None

    def describe(self) -> dict[str, Any]:
        return {"mode": self.mode.value, "active": self.active, "detail": self.detail}


class SandboxUnavailable(RuntimeError):
    """``--sandbox bwrap`` was asked for and this machine cannot provide it."""


def probe(mode: SandboxMode, *, network: bool = True) -> SandboxStatus:
    """Decide the sandbox for this server: try bubblewrap for real, once.

    ``off`` never tries; ``auto`` falls back to no sandbox with the reason; ``bwrap`` raises
    ``SandboxUnavailable`` with the reason instead.
    """
    if mode is SandboxMode.OFF:
        return SandboxStatus.off()
    problem, policy = _try_bwrap(network)
    if policy is not None:
        return SandboxStatus(mode, policy, _describe(policy))
    if mode is SandboxMode.BWRAP:
        raise SandboxUnavailable(f"--sandbox bwrap: {problem}")
    return SandboxStatus(mode, None, f"unavailable, jobs run unconfined: {problem}")


def _try_bwrap(network: bool) -> tuple[str, SandboxPolicy | None]:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap is not installed (Debian: apt-get install bubblewrap)", None
    policy = SandboxPolicy(bwrap=bwrap, network=network)
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            return "setpriv (util-linux) is needed to run jobs as an unprivileged user", None
        policy = attrs.evolve(policy, uid=NOBODY, gid=NOBODY, setpriv=setpriv)
    command = policy.wrap(["/bin/sh", "-c", "exit 0"], read_only=(), writable=())
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap did not run: {error}", None
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()
        return f"bubblewrap failed here: {said[-1] if said else done.returncode}", None
    return "", policy


#: Run by the job's interpreter: everything it imports from. ``sys.path`` covers ordinary
#: installs; packages installed in editable mode are found through import hooks instead, so the
#: packages a job process itself needs are looked up by name.
_ROOTS_SCRIPT = """
import importlib.util, json, os, sys
sys.path[0:0] = json.loads(sys.argv[1])
found = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path]
found.append(os.path.dirname(os.path.realpath(sys.executable)))
for name in json.loads(sys.argv[2]):
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        spec = None
    if spec is not None:
        found += list(spec.submodule_search_locations or [os.path.dirname(spec.origin or "")])
print(json.dumps(found))
"""

#: Packages of ours a job process imports (the runtime) or may import (the SDK's result type).
RUNTIME_PACKAGES = ("batch_compute_runtime", "batch_compute", "batch_compute_client")


def import_roots(
    python: str, python_path: Sequence[str], packages: Sequence[str] = RUNTIME_PACKAGES
) -> list[str]:
    """The directories ``python`` (run isolated, with ``python_path`` first on ``sys.path``)
    needs to see to start and import ``packages``: what a sandbox must show it read-only."""
    command = [python, "-I", "-c", _ROOTS_SCRIPT, json.dumps(list(python_path))]
    command.append(json.dumps(list(packages)))
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return [p for p in json.loads(done.stdout) if p and os.path.isdir(p)]


def _describe(policy: SandboxPolicy) -> str:
    who = f"uid {policy.uid}" if policy.uid is not None else "the server's uid, in a user namespace"
    network = "shared network" if policy.network else "loopback only"
    return f"bubblewrap: jobs run as {who}, {network}"


def _system_view() -> list[str]:
    argv: list[str] = []
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    argv += ["--perms", "0755", "--dir", "/etc"]
    for name in _ETC_ENTRIES:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return argv


def _outermost(paths: Iterable[str]) -> list[str]:
    """Existing directories outside the system view, without those already inside another
    one of the list."""
    system = [d for d in _SYSTEM_DIRS if os.path.isdir(d) and not os.path.islink(d)]
    kept: list[str] = []
    for path in sorted({os.path.abspath(p) for p in paths if os.path.isdir(p)}):
        if not any(Path(path).is_relative_to(outer) for outer in [*system, "/etc", *kept]):
            kept.append(path)
    return kept


def _parents(path: str, made: set[str]) -> list[str]:
    """Create the missing ancestors of ``path`` world-traversable (bwrap's own are 0700)."""
    argv: list[str] = []
    for parent in reversed(Path(path).parents):
        name = str(parent)
        if name not in made:
            argv += ["--perms", "0755", "--dir", name]
            made.add(name)
    return argv
