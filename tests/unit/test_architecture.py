"""The shape of the server's code, held in place: which package may import which, who writes a
status, and a job runtime that needs nothing but the standard library."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import batch_compute_mock
import batch_compute_runtime

SERVER = Path(batch_compute_mock.__file__).parent
RUNTIME = Path(batch_compute_runtime.__file__).parent

#: package -> the packages of ours it may import (besides itself). Dependencies point down.
ALLOWED = {
    "kernel": set(),
    "store": {"kernel"},
    "blobs": {"kernel"},
    # builder installs the job runtime into every function environment it builds.
    "builder": {"kernel", "blobs", "runtime"},
    "executors": {"kernel", "blobs", "builder", "runtime"},
    "scheduler": {"kernel", "store", "blobs", "executors"},
    "service": {"kernel", "store", "blobs", "builder"},
    "connexion_ext": {"kernel", "service"},
    "api": {"kernel", "service", "server"},
    "dashboard": {"kernel", "service", "server"},
}
#: Third-party packages only some packages may import.
FRAMEWORKS = {
    "sqlalchemy": {"store"},
    "alembic": {"store"},
    "connexion": {"connexion_ext", "api"},
    "jinja2": {"dashboard"},
}


def _modules(root: Path) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(root.rglob("*.py")):
        yield path, ast.parse(path.read_text(), str(path))


def _imports(path: Path, tree: ast.Module, root: Path, package: str) -> Iterator[str]:
    """Top-level names this module imports: ``runtime`` for our runtime, a sub-package name for
    our own server code (relative or absolute), else the distribution's top-level name."""
    parts = path.relative_to(root).with_suffix("").parts
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level]
                target = [*base, *(node.module or "").split(".")] if node.module else list(base)
                names = [".".join([package, *filter(None, target)])]
                if not node.module:  # from . import x
                    names = [".".join([package, *base, alias.name]) for alias in node.names]
            else:
                names = [node.module or ""]
        else:
            continue
        for name in names:
            head, _, rest = name.partition(".")
            if head == "batch_compute_runtime":
                yield "runtime"
            elif head == package:
                yield rest.partition(".")[0]
            else:
                yield head


def test_each_package_imports_only_what_lies_below_it() -> None:
    wrong = []
    for path, tree in _modules(SERVER):
        package = path.relative_to(SERVER).parts[0]
        if package not in ALLOWED:
            continue  # the top-level shell (app, server, cli, settings...) wires everything
        ours = {p.name for p in SERVER.iterdir() if p.is_dir()} | {
            p.stem for p in SERVER.glob("*.py")
        }
        for name in _imports(path, tree, SERVER, "batch_compute_mock"):
            if name in ours | {"runtime"} and name != package and name not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(SERVER)} imports {name}")
            if name in FRAMEWORKS and package not in FRAMEWORKS[name]:
                wrong.append(f"{path.relative_to(SERVER)} imports {name}")
    assert wrong == []


def test_the_kernel_imports_nothing_but_the_standard_library() -> None:
    for path, tree in _modules(SERVER / "kernel"):
        for name in _imports(path, tree, SERVER, "batch_compute_mock"):
            assert name in sys.stdlib_module_names or name in {"kernel", "__future__"}, (path, name)


def test_only_the_transitions_module_writes_a_status() -> None:
    """Statically: no other module passes a ``status`` value to an UPDATE."""
    offenders = []
    for path, tree in _modules(SERVER):
        if path == SERVER / "store" / "transitions.py":
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr != "values":
                continue
            keys = {kw.arg for kw in node.keywords}
            for arg in node.args:
                if isinstance(arg, ast.Dict):
                    keys |= {k.value for k in arg.keys if isinstance(k, ast.Constant)}
            if "status" in keys:
                offenders.append(f"{path.relative_to(SERVER)}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize("version", ["3.8", "3.11", "3.13"])
def test_the_runtime_runs_alone_on_every_supported_python(version: str, tmp_path: Path) -> None:
    """A copy of the runtime, alone on the path of an isolated interpreter (``python -I``),
    imports every module and pulls in nothing outside the standard library."""
    python = _python(version)
    shutil.copytree(RUNTIME, tmp_path / "batch_compute_runtime")
    skip = {"__main__", "__init__"}
    modules = sorted(
        f"batch_compute_runtime.{p.stem}" for p in RUNTIME.glob("*.py") if p.stem not in skip
    )
    probe = (
        "import importlib, sys, sysconfig\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "before = set(sys.modules)\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "roots = {sysconfig.get_paths()[k] for k in ('stdlib', 'platstdlib')}\n"
        "def stdlib(module):\n"
        "    path = getattr(module, '__file__', None)\n"
        "    return path is None or (\n"
        "        'site-packages' not in path and any(path.startswith(r) for r in roots))\n"
        "new = set(sys.modules) - before\n"
        "outside = sorted(m for m in new if not m.startswith('batch_compute_runtime')\n"
        "                 and not stdlib(sys.modules[m]))\n"
        "print(sys.version_info[:2], outside)\n"
        "assert not outside, outside\n"
    )
    done = subprocess.run([python, "-I", "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"({version.replace('.', ', ')})"), done.stdout


def _python(version: str) -> str:
    if version == f"{sys.version_info[0]}.{sys.version_info[1]}":
        return sys.executable
    for root in (Path.home() / ".pyenv" / "versions", Path("/usr/bin")):
        candidates = sorted(root.glob(f"{version}*/bin/python{version}")) + sorted(
            root.glob(f"python{version}")
        )
        if candidates:
            return str(candidates[-1])
    found = shutil.which(f"python{version}")
    if found is None:
        pytest.fail(f"Python {version} is needed for this test; install it (e.g. with pyenv)")
    return found


def test_every_module_says_what_it_exports() -> None:
    """A module with public top-level names lists them in ``__all__`` (the public surface)."""
    missing = []
    for root in (SERVER, RUNTIME):
        for path, tree in _modules(root):
            if path.name in ("__main__.py", "env.py") or "versions" in path.parts:
                continue  # entry points and Alembic's scripts are run, not imported from
            public = [
                node.name
                for node in tree.body
                if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
                and not node.name.startswith("_")
            ]
            declared = any(
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
                for node in tree.body
            )
            if public and not declared:
                missing.append(str(path.relative_to(root.parent)))
    assert missing == []
