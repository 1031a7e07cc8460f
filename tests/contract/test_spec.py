"""The contract itself: a valid OpenAPI 3.1 document whose examples, operations and security
say what the team brief and the wire protocol require.

Everything else (server, SDK, contract kit) is generated from or checked against
``openapi.yaml``, so a mistake here spreads; these tests catch it at the source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import openapi_spec_validator
import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

__all__: list[str] = []

SPEC_PATH = Path(__file__).parents[2] / "openapi.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
SPEC_URI = "urn:batch-compute:openapi"
REGISTRY: Registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(SPEC))

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

# operationId -> (method, path, tag): the operation table of the team brief.
EXPECTED_OPERATIONS: dict[str, tuple[str, str, str]] = {
    "search_functions": ("get", "/compute/v1/functions", "functions"),
    "create_function": ("post", "/compute/v1/functions", "functions"),
    "get_function": ("get", "/compute/v1/functions/{function_id}", "functions"),
    "update_function": ("patch", "/compute/v1/functions/{function_id}", "functions"),
    "delete_function": ("delete", "/compute/v1/functions/{function_id}", "functions"),
    "complete_function_bundle": (
        "post",
        "/compute/v1/functions/{function_id}/bundle",
        "functions",
    ),
    "get_function_build_log": ("get", "/compute/v1/functions/{function_id}/log", "functions"),
    "search_jobs": ("get", "/compute/v1/jobs", "jobs"),
    "create_job": ("post", "/compute/v1/jobs", "jobs"),
    "create_jobs_bulk": ("post", "/compute/v1/jobs/bulk", "jobs"),
    "get_job": ("get", "/compute/v1/jobs/{job_id}", "jobs"),
    "update_job": ("patch", "/compute/v1/jobs/{job_id}", "jobs"),
    "delete_job": ("delete", "/compute/v1/jobs/{job_id}", "jobs"),
    "cancel_job": ("post", "/compute/v1/jobs/{job_id}/cancel", "jobs"),
    "get_job_log": ("get", "/compute/v1/jobs/{job_id}/log", "jobs"),
    "cancel_jobs": ("post", "/compute/v1/jobs/cancel", "jobs"),
    "rerun_jobs": ("post", "/compute/v1/jobs/rerun", "jobs"),
    "delete_jobs": ("post", "/compute/v1/jobs/delete", "jobs"),
    "get_credentials": ("get", "/compute/v1/credentials", "credentials"),
    "set_credentials": ("post", "/compute/v1/credentials", "credentials"),
    "get_storage_blob": ("get", "/catalog/v2/storage/{blob_id}", "storage"),
    "get_storage_download": ("get", "/catalog/v2/storage/download/{blob_id}", "storage"),
    "upload_function_bundle": ("put", "/presigned/bundles/{function_id}", "presigned"),
    "download_result_data": ("get", "/presigned/results/{blob_id}", "presigned"),
}
PRESIGNED = {"upload_function_bundle", "download_result_data"}

# Keywords whose value is one subschema, a list of them, or a map of them (JSON Schema 2020-12).
SUBSCHEMA = (
    "items",
    "additionalProperties",
    "propertyNames",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "contentSchema",
    "unevaluatedItems",
    "unevaluatedProperties",
)
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")


def pointer(*segments: str | int) -> str:
    """A JSON pointer, escaped for use as a URI fragment."""
    escaped = (quote(str(s).replace("~", "~0").replace("/", "~1"), safe="~") for s in segments)
    return "".join("/" + s for s in escaped)


def resolve(node: Any) -> Any:
    """Follow local ``$ref``s (``#/...``) until a node without one."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"only local references are expected, got {ref}"
        node = SPEC
        for segment in ref[2:].split("/"):
            node = node[segment.replace("~1", "/").replace("~0", "~")]
    return node


def validator_at(schema_pointer: str) -> Draft202012Validator:
    """A validator for the schema at this pointer, with every ``$ref`` in the spec resolvable."""
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#{schema_pointer}"},
        registry=REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every operation as (method, path, operation object)."""
    for path, item in SPEC["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield method, path, item[method]


def operation_parameters(path: str, method: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The parameters of an operation, path-level ones included, keyed by (in, name)."""
    params = [
        *SPEC["paths"][path].get("parameters", []),
        *SPEC["paths"][path][method].get("parameters", []),
    ]
    resolved = (resolve(p) for p in params)
    return {(p["in"], p["name"]): p for p in resolved}


def walk_schema(schema: Any, at: tuple[str | int, ...]) -> Iterator[tuple[str, str, Any]]:
    """(location, schema pointer, value) for each example and default in a schema tree."""
    if not isinstance(schema, dict) or ("$ref" in schema and len(schema) == 1):
        return
    here = pointer(*at)
    if "example" in schema:
        yield f"{here}/example", here, schema["example"]
    for i, value in enumerate(schema.get("examples", [])):
        yield f"{here}/examples/{i}", here, value
    if "default" in schema:
        yield f"{here}/default", here, schema["default"]
    for key in SUBSCHEMA:
        if key in schema:
            yield from walk_schema(schema[key], (*at, key))
    for key in SUBSCHEMA_LISTS:
        for i, sub in enumerate(schema.get(key, [])):
            yield from walk_schema(sub, (*at, key, i))
    for key in SUBSCHEMA_MAPS:
        for name, sub in schema.get(key, {}).items():
            yield from walk_schema(sub, (*at, key, name))


def walk_document(node: Any, at: tuple[str | int, ...]) -> Iterator[tuple[str, str, Any]]:
    """(location, schema pointer, value) for every example and default outside and inside schemas.

    Parameter, header and media type objects carry ``schema`` next to ``example`` or an
    ``examples`` map of Example objects; each of those values must fit that ``schema``.
    """
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from walk_document(item, (*at, i))
        return
    if not isinstance(node, dict):
        return
    if at == ("components", "schemas"):
        for name, schema in node.items():
            yield from walk_schema(schema, (*at, name))
        return
    if "schema" in node and isinstance(node["schema"], dict):
        schema_at = pointer(*at, "schema")
        if "example" in node:
            yield f"{pointer(*at)}/example", schema_at, node["example"]
        for name, example in node.get("examples", {}).items():
            example = resolve(example)
            if "value" in example:
                yield f"{pointer(*at)}/examples/{name}", schema_at, example["value"]
        yield from walk_schema(node["schema"], (*at, "schema"))
    for key, value in node.items():
        if key not in ("schema", "example", "examples"):
            yield from walk_document(value, (*at, key))


EXAMPLES = list(walk_document(SPEC, ()))


def test_the_spec_is_a_valid_openapi_3_1_document() -> None:
    assert SPEC["openapi"] == "3.1.0"
    openapi_spec_validator.validate(SPEC)


def test_the_spec_has_no_jinja_markers() -> None:
    # Connexion renders the spec file as a Jinja2 template before parsing it.
    text = SPEC_PATH.read_text(encoding="utf-8")
    for marker in ("{{", "{%", "{#"):
        assert marker not in text, f"{marker!r} would be taken as Jinja2 syntax by connexion"


def test_one_origin_serves_every_path() -> None:
    assert [server["url"] for server in SPEC["servers"]] == ["http://127.0.0.1:8000"]
    prefixes = ("/compute/v1/", "/catalog/v2/", "/presigned/")
    assert all(path.startswith(prefixes) for path in SPEC["paths"])


def test_the_operations_are_exactly_those_of_the_brief() -> None:
    found = {op["operationId"]: (method, path, op["tags"][0]) for method, path, op in operations()}
    assert found == EXPECTED_OPERATIONS


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in operations()])
def test_each_operation_is_documented_and_resolvable(method: str, path: str) -> None:
    op = SPEC["paths"][path][method]
    declared_tags = {tag["name"] for tag in SPEC["tags"]}
    assert SNAKE_CASE.match(op["operationId"]), op["operationId"]
    assert len(op["tags"]) == 1
    assert op["tags"][0] in declared_tags
    assert op["summary"].strip()
    assert op["description"].strip()
    assert op["x-openapi-router-controller"] == f"batch_compute_mock.api.{op['tags'][0]}"
    assert op["responses"], "every operation declares its responses"


def test_operation_ids_are_unique() -> None:
    ids = [op["operationId"] for _, _, op in operations()]
    assert len(ids) == len(set(ids))


def test_bearer_security_everywhere_except_the_presigned_urls() -> None:
    scheme = SPEC["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert scheme["bearerFormat"] == "JWT"
    assert scheme["x-bearerInfoFunc"] == "batch_compute_mock.auth.bearer_info"
    assert SPEC["security"] == [{"bearerAuth": []}]
    for method, path, op in operations():
        if op["operationId"] in PRESIGNED:
            assert op["security"] == [], path
            params = operation_parameters(path, method)
            assert params[("query", "expires")]["required"] is True
            assert params[("query", "expires")]["schema"]["type"] == "integer"
            assert params[("query", "signature")]["required"] is True
            assert params[("query", "signature")]["schema"]["type"] == "string"
            assert "403" in op["responses"]
            assert "401" not in op["responses"]
        else:
            assert op.get("security", SPEC["security"]) == [{"bearerAuth": []}], path
            assert "401" in op["responses"], path


def test_error_responses_come_from_the_shared_components() -> None:
    for _, path, op in operations():
        for status, response in op["responses"].items():
            if status.startswith("4"):
                ref = response.get("$ref", "")
                assert ref.startswith("#/components/responses/"), (path, status)


def test_error_responses_use_problem_or_json_api_documents() -> None:
    for name, response in SPEC["components"]["responses"].items():
        ((media_type, content),) = response["content"].items()
        expected = {
            "application/problem+json": "#/components/schemas/Problem",
            "application/vnd.api+json": "#/components/schemas/JsonApiErrorDocument",
        }
        assert media_type in expected, name
        assert content["schema"] == {"$ref": expected[media_type]}, name


def test_only_status_codes_the_genuine_client_understands() -> None:
    # Other 4xx codes crash the descarteslabs 3.2.2 client (wire protocol, section 9.1).
    allowed = {"200", "201", "204", "400", "401", "403", "404", "405", "409", "410", "422", "429"}
    for _, path, op in operations():
        assert set(op["responses"]) <= allowed, path


@pytest.mark.parametrize(("location", "schema_at", "value"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_each_example_and_default_fits_its_schema(
    location: str, schema_at: str, value: Any
) -> None:
    errors = [error.message for error in validator_at(schema_at).iter_errors(value)]
    assert not errors, f"{location}: {errors}"


def test_examples_cover_the_main_schemas() -> None:
    with_examples = {
        loc.split("/")[3]
        for loc, _, _ in EXAMPLES
        if loc.startswith("/components/schemas/") and "/example" in loc
    }
    main = {
        "Function",
        "FunctionCreate",
        "FunctionUpdate",
        "FunctionCreated",
        "FunctionPage",
        "Job",
        "JobCreate",
        "JobUpdate",
        "JobBulkCreate",
        "JobQuery",
        "JobDeleteQuery",
        "JobPage",
        "Filter",
        "CredentialsInfo",
        "CredentialsSet",
        "Problem",
        "StorageBlobDocument",
        "StorageDownloadDocument",
    }
    assert main <= with_examples, main - with_examples


def test_json_string_parameters_carry_valid_json_examples() -> None:
    # `filter` travels as one JSON-encoded query value; its example must parse and fit the grammar.
    for name, param in SPEC["components"]["parameters"].items():
        schema = param["schema"]
        if schema.get("contentMediaType") != "application/json":
            continue
        content_at = pointer("components", "parameters", name, "schema", "contentSchema")
        errors = list(validator_at(content_at).iter_errors(json.loads(param["example"])))
        assert not errors, f"{name}: {[e.message for e in errors]}"


def test_filter_grammar_accepts_what_the_genuine_client_sends() -> None:
    validator = validator_at(pointer("components", "schemas", "Filter"))
    sent = [
        [
            {"name": "id", "op": "eq", "val": "J"},
            {
                "or": [
                    {"name": "status", "op": "eq", "val": s}
                    for s in ("success", "failure", "timeout", "canceled")
                ]
            },
        ],
        [{"name": "tags", "op": "isnull"}],
        [{"name": "id", "op": "prefix", "val": "abc"}],
        [{"name": "runtime", "op": "lt", "val": 10}, {"name": "runtime", "op": "gt", "val": 60}],
        [
            {
                "and": [
                    {"name": "runtime", "op": "gt", "val": 1},
                    {"name": "runtime", "op": "lt", "val": 9},
                ]
            }
        ],
        [{"name": "name", "op": "ilike", "val": "a%"}, {"name": "name", "op": "like", "val": "_b"}],
        [{"name": "exit_code", "op": "eq", "val": None}],
        [],
    ]
    for filter_ in sent:
        assert validator.is_valid(filter_), filter_
    rejected = [
        [{"name": "id", "op": "in", "val": ["a", "b"]}],
        [{"name": "tags", "op": "isnull", "val": None}],
        [{"or": []}],
        [{"name": "id", "op": "eq"}],
        {"name": "id", "op": "eq", "val": "a"},
    ]
    for filter_ in rejected:
        assert not validator.is_valid(filter_), filter_


def test_storage_download_route_is_declared_before_the_catch_all_blob_route() -> None:
    # `{blob_id}` spans segments, and connexion matches routes in declaration order.
    paths = list(SPEC["paths"])
    download = paths.index("/catalog/v2/storage/download/{blob_id}")
    assert download < paths.index("/catalog/v2/storage/{blob_id}")
    for path in ("/catalog/v2/storage/{blob_id}", "/presigned/results/{blob_id}"):
        blob_id = operation_parameters(path, "get")[("path", "blob_id")]
        assert blob_id["schema"]["format"] == "path"


def test_the_wire_protocol_musts_are_in_the_schemas() -> None:
    schemas = SPEC["components"]["schemas"]
    assert {"id", "function_id", "status"} <= set(schemas["Job"]["required"])
    assert {"id", "namespace", "status", "enabled"} <= set(schemas["Function"]["required"])
    assert {"page_cursor", "total"} <= set(schemas["PageMeta"]["required"])
    assert set(schemas["FunctionCreated"]["required"]) == {"function", "bundle_upload_url"}
    assert set(schemas["FunctionCreate"]["required"]) == {"name", "image"}
    assert schemas["FunctionUpdate"]["additionalProperties"] is False
    assert "image" not in schemas["FunctionUpdate"]["properties"]
    download = schemas["StorageDownloadDocument"]["properties"]["data"]["properties"]
    assert download["type"]["enum"] == ["storage_download"]
    blob = schemas["StorageBlobDocument"]["properties"]["data"]["properties"]
    assert blob["type"]["enum"] == ["storage"]
    delete_results = SPEC["components"]["parameters"]["DeleteResults"]["schema"]["enum"]
    assert {"True", "False"} <= set(delete_results)


def test_log_and_data_bodies_have_their_media_types() -> None:
    def content_of(operation_id: str, status: str) -> dict[str, Any]:
        (op,) = (op for _, _, op in operations() if op["operationId"] == operation_id)
        return resolve(op["responses"][status]).get("content", {})

    assert list(content_of("get_function_build_log", "200")) == ["application/gzip"]
    assert list(content_of("get_job_log", "200")) == ["application/x-ndjson"]
    assert list(content_of("download_result_data", "200")) == ["application/octet-stream"]
    assert content_of("delete_function", "204") == {}
    assert content_of("delete_job", "204") == {}
    delete_jobs = content_of("delete_jobs", "200")["application/json"]["schema"]
    assert delete_jobs == {"type": "array", "items": {"type": "string"}}


def test_links_point_at_operations_and_their_parameters() -> None:
    by_id = {op["operationId"]: (method, path) for method, path, op in operations()}
    for _, path, op in operations():
        for status, response in op["responses"].items():
            for name, link in resolve(response).get("links", {}).items():
                link = resolve(link)
                assert link["operationId"] in by_id, (path, status, name)
                params = operation_parameters(*reversed(by_id[link["operationId"]]))
                names = {param_name for _, param_name in params}
                assert set(link.get("parameters", {})) <= names, (path, status, name)


def test_schemathesis_loads_every_operation_and_link() -> None:
    schemathesis = pytest.importorskip("schemathesis")
    schema = schemathesis.openapi.from_path(str(SPEC_PATH))
    loaded = [result.ok() for result in schema.get_all_operations()]
    assert len(loaded) == len(EXPECTED_OPERATIONS)
    schema.as_state_machine()
