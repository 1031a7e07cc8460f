"""Path-level parameters moved into each operation, for Connexion.

Connexion 3 adds a path item's ``parameters`` to an operation's own list *in place*
(``operations/openapi.py``: ``self._parameters += path_parameters``), and every middleware
layer builds its own operation objects from the same spec, so an operation that has
parameters of its own ends up with the path's ones repeated once per layer: ``GET
/jobs/{job_id}`` validated and parsed ``job_id`` six times per request. Moving the path-level
parameters into the operations beforehand is the same API (OpenAPI: an operation's parameter
overrides the path's one with the same name and location) without the repetition.
"""

from __future__ import annotations

from typing import Any

__all__ = ["fold_path_parameters"]

_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


def fold_path_parameters(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` (changed in place and returned) with no path-level ``parameters``."""
    for path_item in spec.get("paths", {}).values():
        shared = path_item.pop("parameters", None)
        if not shared:
            continue
        for method in _METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            own = operation.get("parameters", [])
            taken = {_identity(spec, parameter) for parameter in own}
            inherited = [p for p in shared if _identity(spec, p) not in taken]
            operation["parameters"] = [*own, *inherited]
    return spec


def _identity(spec: dict[str, Any], parameter: dict[str, Any]) -> tuple[str, str]:
    """A parameter's (name, location), following a local ``$ref``."""
    while "$ref" in parameter:
        node: Any = spec
        for part in parameter["$ref"].removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        parameter = node
    return parameter["name"], parameter["in"]
