"""The environments of the two kinds of process the local executor starts.

- A **worker** (the supervisor) starts from the server's environment minus its secrets: it
  reads and writes blobs, so it keeps the variables the blob store reads (``keep``: its
  ``environment_patterns``, e.g. the AWS credentials of an S3 store), but never the JWT
  secret. Dropped are names matching ``DEFAULT_DROP_PATTERNS`` or any name/pattern the caller
  adds (``fnmatch`` patterns, compared case-insensitively); ``keep`` overrides only the
  defaults.
- A **job process** inherits nothing from the server: it starts from an allow-list (a minimal
  ``PATH``, ``LANG``, and only the server variables an operator names with
  ``serve --job-env NAME``), plus ``HOME`` and ``TMPDIR`` pointing at its own scratch dir. The
  documented job variables and the function's and the job's ``environment`` are laid over
  that, per job, by the job process itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

__all__ = [
    "DEFAULT_DROP_PATTERNS",
    "JOB_PATH",
    "job_base_environment",
    "job_variables",
    "server_environment",
]

DEFAULT_DROP_PATTERNS = (
    "BATCH_COMPUTE_JWT_SECRET",
    "BATCH_COMPUTE_CREDENTIALS_KEY",
    "*SECRET*",
    "*_TOKEN",
    "*PASSWORD*",
    "*_API_KEY",
    "*_PRIVATE_KEY",
)

#: The ``PATH`` of every job: the system's programs, nothing of the server's own.
JOB_PATH = "/usr/local/bin:/usr/bin:/bin"


def server_environment(
    base: Mapping[str, str], drop: Iterable[str] = (), keep: Iterable[str] = ()
) -> dict[str, str]:
    """``base`` without the variables matched by the default patterns or ``drop``; those
    matched by ``keep`` stay unless ``drop`` names them."""
    defaults = [p.upper() for p in DEFAULT_DROP_PATTERNS]
    asked = [p.upper() for p in drop]
    kept = [p.upper() for p in keep]

    def dropped(name: str) -> bool:
        upper = name.upper()
        if any(fnmatchcase(upper, pattern) for pattern in asked):
            return True
        if any(fnmatchcase(upper, pattern) for pattern in kept):
            return False
        return any(fnmatchcase(upper, pattern) for pattern in defaults)

    return {name: value for name, value in base.items() if not dropped(name)}


def job_base_environment(
    base: Mapping[str, str], passthrough: Iterable[str] = ()
) -> dict[str, str]:
    """What every job process starts from, before its scratch dir is known (see the module
    docstring): ``PATH``, ``LANG`` and the ``passthrough`` names that ``base`` has."""
    environment = {"PATH": JOB_PATH, "LANG": base.get("LANG") or "C.UTF-8"}
    environment.update({name: base[name] for name in passthrough if name in base})
    return environment


def job_variables(job_id: str, function_id: str) -> dict[str, str]:
    """The variables every job finds set (its own ``environment`` may override them)."""
    return {"BATCH_COMPUTE_JOB_ID": job_id, "BATCH_COMPUTE_FUNCTION_ID": function_id}
