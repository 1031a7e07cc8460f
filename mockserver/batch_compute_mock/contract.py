"""The contract, and the OpenAPI 3.0 view of it that Connexion can load.

``openapi.yaml`` is OpenAPI 3.1 (its schemas are JSON Schema 2020-12). Connexion 3 only
loads 3.0 documents (spec-first/connexion#1396), so the server hands it an equivalent 3.0.3
view, derived here at start-up rather than kept as a second file that could drift:

- ``type: [T, "null"]``            -> ``type: T, nullable: true``
- ``type: [T, U, ...]``             -> ``anyOf`` of one schema per type
- ``{type: "null"}`` in anyOf/oneOf -> ``{nullable: true, enum: [null]}``
- ``examples: [v, ...]`` in a schema -> ``example: v``
- ``const: v``                      -> ``enum: [v]``
- ``exclusiveMinimum: n`` (number)  -> ``minimum: n, exclusiveMinimum: true`` (same for maximum)
- any other 2020-12 keyword (``propertyNames``, ``contentSchema``, ...) -> dropped; the
  service checks what those said itself

The published contract (``/openapi.yaml`` in the repo, what schemathesis and the SDK generator
read) stays the 3.1 document.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "SPEC_PATH",
    "allowed_methods",
    "connexion_view",
    "load_contract",
    "operation_id",
    "operation_ids",
    "request_media_types",
]

SPEC_PATH = Path(__file__).with_name("openapi.yaml")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_VALUES = ("items", "not", "additionalProperties")
_SCHEMA_KEYWORDS_30 = frozenset(
    [
        "title",
        "multipleOf",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "maxProperties",
        "minProperties",
        "required",
        "enum",
        "type",
        "not",
        "allOf",
        "oneOf",
        "anyOf",
        "items",
        "properties",
        "additionalProperties",
        "description",
        "format",
        "default",
        "nullable",
        "discriminator",
        "readOnly",
        "writeOnly",
        "example",
        "externalDocs",
        "deprecated",
        "xml",
    ]
)
_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


@cache
def load_contract() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)  # type: ignore[no-any-return]


@cache
def operation_ids() -> frozenset[str]:
    """Every ``operationId`` of the contract."""
    return frozenset(_operations().values())


def operation_id(method: str, path: str) -> str | None:
    """The ``operationId`` a request of ``method`` on the concrete ``path`` reaches, if any."""
    operations = _operations()
    for template in _templates_of(path):
        found = operations.get((method.lower(), template))
        if found is not None:
            return found
    return None


@cache
def _operations() -> dict[tuple[str, str], str]:
    return {
        (method, template): operation["operationId"]
        for template, item in load_contract().get("paths", {}).items()
        for method, operation in item.items()
        if method in _METHODS and isinstance(operation, dict) and "operationId" in operation
    }


def allowed_methods(path: str) -> list[str]:
    """The methods the contract documents at a concrete ``path`` (HEAD with GET), for ``Allow``.

    As in OpenAPI path matching, a concrete template (``/jobs/cancel``) wins over a templated
    one (``/jobs/{job_id}``): the fewest parameters wins.
    """
    paths = load_contract().get("paths", {})
    methods = {m.upper() for t in _templates_of(path) for m in _METHODS if m in paths[t]}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def request_media_types(path: str, method: str) -> list[str]:
    """The media types the contract accepts for the request body of ``method`` at ``path``."""
    paths = load_contract().get("paths", {})
    types: dict[str, None] = {}
    for template in _templates_of(path):
        operation = paths[template].get(method.lower()) or {}
        types.update(dict.fromkeys(operation.get("requestBody", {}).get("content", {})))
    return list(types)


def _templates_of(path: str) -> list[str]:
    """The path templates matching a concrete ``path``, the most specific only."""
    matches = [
        (parameters, template)
        for pattern, parameters, template in _path_patterns()
        if pattern.fullmatch(path)
    ]
    fewest = min((parameters for parameters, _ in matches), default=0)
    return [template for parameters, template in matches if parameters == fewest]


@cache
def _path_patterns() -> list[tuple[re.Pattern[str], int, str]]:
    spec = load_contract()
    path_formats = {
        parameter["name"]
        for parameter in spec.get("components", {}).get("parameters", {}).values()
        if parameter.get("in") == "path" and parameter.get("schema", {}).get("format") == "path"
    }
    patterns = []
    for template in spec.get("paths", {}):
        regex = re.sub(
            r"\\\{([^}]+)\\\}",
            lambda m: ".+" if m.group(1) in path_formats else "[^/]+",
            re.escape(template),
        )
        patterns.append((re.compile(regex, re.DOTALL), template.count("{"), template))
    return patterns


def connexion_view(contract: dict[str, Any] | None = None) -> dict[str, Any]:
    """A deep copy of the contract, rewritten as OpenAPI 3.0.3."""
    spec = copy.deepcopy(contract if contract is not None else load_contract())
    spec["openapi"] = "3.0.3"
    spec.pop("jsonSchemaDialect", None)
    spec.get("info", {}).pop("summary", None)
    spec.get("info", {}).get("license", {}).pop("identifier", None)
    components = spec.get("components", {})
    for schema in components.get("schemas", {}).values():
        _schema(schema)
    for group in ("parameters", "headers"):
        for item in components.get(group, {}).values():
            _with_schema(item)
    for body in components.get("requestBodies", {}).values():
        _content(body)
    for response in components.get("responses", {}).values():
        _response(response)
    for path_item in spec.get("paths", {}).values():
        for parameter in path_item.get("parameters", []):
            _with_schema(parameter)
        for method in _METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            for parameter in operation.get("parameters", []):
                _with_schema(parameter)
            if "requestBody" in operation:
                _content(operation["requestBody"])
            for response in operation.get("responses", {}).values():
                _response(response)
    return spec


def _response(response: dict[str, Any]) -> None:
    _content(response)
    for header in response.get("headers", {}).values():
        _with_schema(header)


def _content(holder: dict[str, Any]) -> None:
    for media in holder.get("content", {}).values():
        _with_schema(media)


def _with_schema(holder: dict[str, Any]) -> None:
    if isinstance(holder.get("schema"), dict):
        _schema(holder["schema"])


def _schema(schema: dict[str, Any]) -> None:
    if "$ref" in schema:
        return
    kind = schema.get("type")
    if isinstance(kind, list):
        others = [k for k in kind if k != "null"]
        if len(others) == 1:
            schema["type"] = others[0]
            if "null" in kind:
                schema["nullable"] = True
        else:
            del schema["type"]
            alternatives: list[dict[str, Any]] = [{"type": k} for k in others]
            if "null" in kind:
                alternatives.append({"nullable": True, "enum": [None]})
            schema.setdefault("anyOf", []).extend(alternatives)
    elif kind == "null":
        del schema["type"]
        schema["nullable"] = True
        schema["enum"] = [None]
    if "examples" in schema:
        examples = schema.pop("examples")
        if examples:
            schema["example"] = examples[0]
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]
    for bound, inclusive in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = schema.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            schema[inclusive] = value
            schema[bound] = True
    for key in [k for k in schema if k not in _SCHEMA_KEYWORDS_30 and not k.startswith("x-")]:
        del schema[key]
    for key in _SCHEMA_LISTS:
        for item in schema.get(key, []):
            _schema(item)
    for key in _SCHEMA_VALUES:
        if isinstance(schema.get(key), dict):
            _schema(schema[key])
    for sub in schema.get("properties", {}).values():
        _schema(sub)
