"""The public surface of ``batch_compute`` is a tested artifact: adding an export is deliberate."""

from __future__ import annotations

import ast
from pathlib import Path

import batch_compute

SDK = Path(batch_compute.__file__).resolve().parent


def test_all_is_pinned() -> None:
    assert batch_compute.__all__ == [
        "ApiError", "Attribute", "BadRequestError", "BoundGlobalError", "BuildFailedError",
        "ClientError", "Collection", "ComputeClient", "ComputeError", "ComputeResult",
        "ConfigurationError", "ConflictError", "Cpus", "DocumentState", "Expression",
        "ForbiddenError", "Function", "FunctionStatus", "GoneError", "Job", "JobBulkCreateError",
        "JobBulkCreateResult", "JobSearch", "JobStatistics", "JobStatus", "Memory",
        "MethodNotAllowedError", "NotFoundError", "RateLimitError", "ResultBlob", "Retry",
        "Search", "Serializable", "ServerError", "Sort", "TransportError", "UnauthorizedError",
        "ValidationError", "WaitTimeoutError",
    ]  # fmt: skip
    assert batch_compute.__all__ == sorted(batch_compute.__all__)
    for name in batch_compute.__all__:
        assert hasattr(batch_compute, name)


def test_exactly_one_module_imports_the_generated_client() -> None:
    importers = []
    for path in sorted(SDK.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] == "batch_compute_client" for n in names):
                importers.append(path.name)
                break
    assert importers == ["_api.py"]


def test_every_module_declares_all_and_is_typed() -> None:
    assert (SDK / "py.typed").exists()
    for path in SDK.glob("_*.py"):
        assert "__all__" in path.read_text(), path.name


def test_documented_members_exist() -> None:
    from batch_compute import ComputeClient, Function, Job, JobSearch, JobStatus

    for name in ["get_default_client", "set_default_client", "clear_all_default_clients",
                 "get_default_session_class", "set_default_session_class", "check_credentials",
                 "iter_pages", "iter_log_lines", "get_namespace", "set_namespace", "session",
                 "token", "CONNECT_TIMEOUT", "READ_TIMEOUT", "TIMEOUT",
                 "RETRY_CONFIG"]:  # fmt: skip
        assert hasattr(ComputeClient, name), name
    for name in ["as_completed", "build_log", "cancel_jobs", "delete", "delete_jobs", "disable",
                 "enable", "get", "iter_results", "list", "map", "refresh", "rerun", "results",
                 "save", "search", "start", "stop", "to_dict", "update", "update_credentials",
                 "wait_for_completion", "auto_start", "cpus", "creation_date", "enabled",
                 "environment", "id", "image", "is_modified", "job_statistics", "jobs",
                 "maximum_concurrency", "memory", "modified_date", "name", "namespace", "owner",
                 "retry_count", "state", "status", "timeout"]:  # fmt: skip
        assert hasattr(Function, name), name
    for name in ["cancel", "delete", "get", "iter_log", "list", "log", "refresh", "result",
                 "result_blob", "save", "search", "to_dict", "update", "wait_for_completion",
                 "args", "creation_date", "environment", "error_reason", "execution_count",
                 "exit_code", "function", "function_id", "id", "is_modified", "kwargs",
                 "last_completion_date", "last_execution_date", "provisioning_time", "pull_time",
                 "runtime", "state", "statistics", "status", "tags"]:  # fmt: skip
        assert hasattr(Job, name), name
    for name in ["cancel", "collect", "count", "delete", "filter", "limit", "param", "rerun",
                 "sort"]:  # fmt: skip
        assert hasattr(JobSearch, name), name
    assert JobStatus.terminal() == ["success", "failure", "timeout", "canceled"]
