"""Every class, method and attribute of the documented API exists with a compatible signature.

``SURFACE`` restates the documentation (compute-api-docs.txt) as Python signatures. A member
is compatible when the documented parameters come first, in order, with the same names and
defaults; anything the SDK adds must be optional. When the documentation file is present
(``../shared/reference`` next to the repository, or ``BATCH_COMPUTE_API_DOCS``), a second
test parses it and checks that ``SURFACE`` covers everything it lists.
"""

from __future__ import annotations

import ast
import enum
import inspect
import os
import re
from pathlib import Path
from typing import Any

import pytest

import batch_compute
from batch_compute._filters import Attribute

_DOC_UPDATE = ("to_dict(only_modified=False, exclude_readonly=False, exclude_none=False)",
               "update(ignore_missing=False, **kwargs)")  # fmt: skip
_SEARCH = ["collect(**kwargs)", "count()", "filter(expression)", "limit(limit)",
           "param(**params)", "sort(*sorts)"]  # fmt: skip

#: class name -> its documented members: "name(params)" methods ("classmethod name(...)",
#: "property name"), "name" attributes, "NAME = value" constants, "__init__(...)".
SURFACE: dict[str, list[str]] = {
    "ComputeClient": [
        "__init__(url=None, auth=None, catalog_client=None, retries=None)",
        "check_credentials()",
        "classmethod clear_all_default_clients()",
        "classmethod get_default_client()",
        "classmethod get_default_session_class()",
        "get_namespace(function_id)",
        "iter_log_lines(url, timestamps=True)",
        "iter_pages(url, params=None)",
        "classmethod set_default_client(client)",
        "classmethod set_default_session_class(session_class)",
        "set_namespace(function_id, namespace)",
        "property session",
        "property token",
        "CONNECT_TIMEOUT = 9.5",
        "READ_TIMEOUT = 30",
        "TIMEOUT = (9.5, 30)",
        "RETRY_CONFIG",
    ],
    "ComputeResult": [
        "__init__(value=None, description=None, expires=None, extra_properties=None, "
        "geometry=None, tags=None)",
    ],
    "Function": [
        "__init__(function=None, requirements=None, include_data=None, include_modules=None, "
        "name=None, image=None, cpus=None, memory=None, maximum_concurrency=None, "
        "timeout=None, retry_count=None, client=None, **extra)",
        "__call__(*args, tags=None, environment=None, **kwargs)",
        "as_completed(jobs, timeout=None, interval=10)",
        "build_log()",
        "cancel_jobs(query=None, job_ids=None)",
        "delete(delete_results=False)",
        "delete_jobs(query=None, job_ids=None, delete_results=False)",
        "disable()",
        "enable()",
        "classmethod get(id, client=None, **params)",
        "iter_results(cast_type=None)",
        "classmethod list(page_size=100, client=None, **params)",
        "map(args, kwargs=None, tags=None, batch_size=1000, environments=None)",
        "refresh(includes=None)",
        "rerun(query=None, job_ids=None)",
        "results(cast_type=None)",
        "save()",
        "classmethod search(client=None)",
        "start()",
        "stop()",
        *_DOC_UPDATE,
        "classmethod update_credentials(client=None)",
        "wait_for_completion(timeout=None, interval=10)",
        "auto_start",
        "cpus",
        "creation_date",
        "enabled",
        "environment",
        "id",
        "image",
        "property is_modified",
        "job_statistics",
        "property jobs",
        "maximum_concurrency",
        "memory",
        "modified_date",
        "name",
        "namespace",
        "owner",
        "retry_count",
        "property state",
        "status",
        "timeout",
    ],
    "FunctionStatus": [
        "AWAITING_BUNDLE = 'awaiting_bundle'",
        "BUILDING = 'building'",
        "BUILD_FAILED = 'build_failed'",
        "READY = 'ready'",
        "STOPPED = 'stopped'",
    ],
    "Job": [
        "__init__(function_id, args=None, kwargs=None, client=None, environment=None, **extra)",
        "cancel()",
        "delete(delete_result=False)",
        "classmethod get(id, client=None, **params)",
        "iter_log(timestamps=True)",
        "classmethod list(page_size=100, client=None, **params)",
        "log(timestamps=True)",
        "refresh(client=None)",
        "result(cast_type=None, catalog_client=None)",
        "result_blob(catalog_client=None)",
        "save()",
        "classmethod search(client=None)",
        *_DOC_UPDATE,
        "wait_for_completion(timeout=None, interval=10)",
        "args",
        "creation_date",
        "environment",
        "error_reason",
        "execution_count",
        "exit_code",
        "property function",
        "function_id",
        "id",
        "property is_modified",
        "kwargs",
        "last_completion_date",
        "last_execution_date",
        "provisioning_time",
        "pull_time",
        "runtime",
        "property state",
        "statistics",
        "status",
        "tags",
    ],
    "JobStatus": [
        "classmethod terminal()",
        "CANCEL = 'cancel'",
        "CANCELED = 'canceled'",
        "CANCELING = 'canceling'",
        "FAILURE = 'failure'",
        "PENDING = 'pending'",
        "RUNNING = 'running'",
        "SUCCESS = 'success'",
        "TIMEOUT = 'timeout'",
    ],
    "Search": ["__init__(document, client=None, url=None, **params)", *_SEARCH],
    "JobSearch": [
        "__init__(document, client=None, url=None, **params)",
        *_SEARCH,
        "cancel()",
        "rerun()",
        "delete(delete_results=False)",
    ],
    "Serializable": ["serialize()", "classmethod deserialize(data)"],
}

#: Attributes the documentation calls readonly / immutable (the rest are writable).
READONLY = {
    "Function": {"creation_date", "id", "job_statistics", "modified_date", "namespace", "owner",
                 "status"},
    "Job": {"creation_date", "error_reason", "execution_count", "exit_code", "id",
            "last_completion_date", "last_execution_date", "provisioning_time", "pull_time",
            "runtime", "statistics", "status"},
}  # fmt: skip
IMMUTABLE = {"Function": {"image"}, "Job": {"function_id"}}

_MEMBER = re.compile(r"^(?:(classmethod|property) )?(\w+)(?:\((.*)\))?(?: = (.+))?$")


def _members() -> list[tuple[str, str]]:
    return [(cls, member) for cls, members in SURFACE.items() for member in members]


def _arguments(params: str) -> ast.arguments:
    tree = ast.parse(f"def f({params}): pass")
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    return function.args


def _check_signature(where: str, actual: inspect.Signature, documented: ast.arguments) -> None:
    kinds = inspect.Parameter
    params = [p for p in actual.parameters.values() if p.name not in ("self", "cls")]
    positional = [p for p in params if p.kind in (kinds.POSITIONAL_ONLY,
                                                  kinds.POSITIONAL_OR_KEYWORD)]  # fmt: skip
    doc_args = documented.args
    doc_defaults: list[Any] = [None] * (len(doc_args) - len(documented.defaults)) + [
        ast.literal_eval(d) for d in documented.defaults
    ]
    names = [a.arg for a in doc_args]
    assert [p.name for p in positional[: len(names)]] == names, f"{where}: {actual}"
    for param, arg, default in zip(positional, doc_args, doc_defaults, strict=False):
        index = doc_args.index(arg)
        if index >= len(doc_args) - len(documented.defaults):
            assert param.default is not kinds.empty, f"{where}: {param.name} needs a default"
            assert param.default == default, f"{where}: {param.name}={param.default!r}"
    for extra in positional[len(names) :]:
        assert extra.default is not kinds.empty, f"{where}: extra {extra.name} must be optional"
    doc_kwonly = {
        a.arg: ast.literal_eval(d) if d is not None else kinds.empty
        for a, d in zip(documented.kwonlyargs, documented.kw_defaults, strict=True)
    }
    for param in (p for p in params if p.kind is kinds.KEYWORD_ONLY):
        if param.name in doc_kwonly:
            assert param.default == doc_kwonly.pop(param.name), f"{where}: {param.name}"
        else:
            assert param.default is not kinds.empty, f"{where}: {param.name} must be optional"
    assert not doc_kwonly, f"{where}: missing keyword-only {sorted(doc_kwonly)}"
    has = {p.kind for p in params}
    if documented.vararg:
        assert kinds.VAR_POSITIONAL in has, f"{where}: needs *{documented.vararg.arg}"
    if documented.kwarg:
        assert kinds.VAR_KEYWORD in has, f"{where}: needs **{documented.kwarg.arg}"


@pytest.mark.parametrize(("cls_name", "member"), _members())
def test_documented_member_exists_with_a_compatible_signature(cls_name: str, member: str) -> None:
    cls = getattr(batch_compute, cls_name)
    match = _MEMBER.match(member)
    assert match, member
    decorator, name, params, value = match.groups()
    where = f"{cls_name}.{name}"
    assert hasattr(cls, name), f"{where} is missing"
    static = inspect.getattr_static(cls, name)
    if decorator == "classmethod":
        assert isinstance(static, classmethod), f"{where} must be a classmethod"
    elif decorator == "property":
        assert isinstance(static, property), f"{where} must be a property"
    if value is not None:
        expected = ast.literal_eval(value)
        actual = getattr(cls, name)
        assert (actual.value if isinstance(actual, enum.Enum) else actual) == expected, where
    if params is not None:
        _check_signature(where, inspect.signature(getattr(cls, name)), _arguments(params))


@pytest.mark.parametrize("cls_name", ["Function", "Job"])
def test_readonly_and_immutable_attributes_match_the_documentation(cls_name: str) -> None:
    cls = getattr(batch_compute, cls_name)
    attributes = {name: value for name, value in vars(cls).items()
                  if isinstance(value, Attribute)}  # fmt: skip
    assert {n for n, a in attributes.items() if a.readonly} == READONLY[cls_name]
    assert {n for n, a in attributes.items() if a.immutable} == IMMUTABLE[cls_name]


def test_enums_have_exactly_the_documented_members() -> None:
    for cls_name in ("FunctionStatus", "JobStatus"):
        documented = {m.split(" = ")[0] for m in SURFACE[cls_name] if " = " in m}
        assert {m.name for m in getattr(batch_compute, cls_name)} == documented


def test_retry_config_repr_is_the_documented_one() -> None:
    assert repr(batch_compute.ComputeClient.RETRY_CONFIG) == (
        "Retry(total=3, connect=2, read=2, redirect=None, status=2)"
    )


# -- the documentation file itself ------------------------------------------------------------

_SHARED_DOCS = Path(__file__).resolve().parents[3] / "shared/reference/compute-api-docs.txt"
_DOCS = Path(os.environ.get("BATCH_COMPUTE_API_DOCS") or _SHARED_DOCS)
_CLASS = re.compile(r"^- class (\w+)\((.*)\)\[source\]$")
_DOC_MEMBER = re.compile(r"^- (?:(classmethod|property) )?(\w+)(?:\((.*?)\)[^(]*|: .+| = .+)?$")
_NOT_MEMBERS = {"Parameters", "Returns", "Return", "Raises", "Type", "Example", "Examples"}


def _documented() -> dict[str, dict[str, str | None]]:
    """class -> member -> documented parameters (None for attributes)."""
    found: dict[str, dict[str, str | None]] = {}
    current: dict[str, str | None] | None = None
    for line in _DOCS.read_text(encoding="utf-8").splitlines():
        cls = _CLASS.match(line)
        if cls:
            current = found.setdefault(cls.group(1), {})
            current["__init__"] = cls.group(2) if cls.group(2) != "value" else None
            continue
        member = _DOC_MEMBER.match(line)
        if current is None or not member or member.group(2) in _NOT_MEMBERS:
            continue
        if line.startswith("- Return type"):
            continue
        current[member.group(2)] = member.group(3)
    return found


@pytest.mark.skipif(not _DOCS.exists(), reason=f"documentation not found at {_DOCS}")
def test_surface_covers_everything_the_documentation_lists() -> None:
    for cls_name, members in _documented().items():
        if cls_name not in SURFACE:
            continue
        ours = {}
        for member in SURFACE[cls_name]:
            match = _MEMBER.match(member)
            assert match
            ours[match.group(2)] = match.group(3)
        for name, params in members.items():
            if name == "__init__" and params is None:
                continue  # enums: ``class JobStatus(value)``
            assert name in ours, f"{cls_name}.{name} is documented but not in SURFACE"
            if params is not None:
                documented = [a.arg for a in _arguments(params).args]
                assert (
                    documented
                    == [a.arg for a in _arguments(ours[name] or "").args][: len(documented)]
                ), f"{cls_name}.{name}"
