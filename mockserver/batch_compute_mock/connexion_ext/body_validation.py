"""Request body validation for JSON bodies, with the contract's JSON rules rather than Connexion's.

Connexion's JSON body validator differs from the contract (OpenAPI 3.1, JSON Schema 2020-12)
in three ways that matter to clients:

- it decodes the body with the charset of the ``Content-Type`` and lets a decoding error
  escape as a 500; JSON is UTF-8 (RFC 8259 8.1), so bodies are decoded as UTF-8 and bytes that
  are not get a 400;
- it accepts ``NaN``, ``Infinity`` and numbers too large for a float (``1e99999`` becomes
  ``Infinity``), none of which is JSON, lets lone surrogates (``"\\udfff"``) through to the
  database, and turns nesting too deep for the parser into a 500; all get a 400 here;
- it takes a request without ``Content-Length`` for one without a body, so a chunked body
  (``Transfer-Encoding: chunked``, as proxies and streaming clients send) was "required";
  here the body is read, and only an empty one is missing;
- it validates with draft 4, where ``900.0`` is not an integer; in 2020-12 a number with a
  zero fractional part is one. Such numbers are accepted where the schema says ``integer`` and
  handed on as ``int``, so the services and the stored rows only ever see integers there.

Like ``cached_validation``, it builds one ``jsonschema`` validator per body schema, not per
request; ``with_request_body_validators`` is applied last, so it is the JSON body validator.
"""

from __future__ import annotations

import typing as t
from collections.abc import AsyncGenerator, Iterator, Mapping

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem
from connexion.json_schema import Draft4RequestValidator
from connexion.validators import JSONRequestBodyValidator
from jsonschema import Draft4Validator, Draft202012Validator
from jsonschema.exceptions import best_match
from jsonschema.validators import extend
from starlette.datastructures import Headers
from starlette.types import Receive, Scope

from ..kernel.errors import InvalidInput
from ..service.text import load_json

__all__ = [
    "ContractJSONRequestBodyValidator",
    "with_request_body_validators",
]

_NOT_UTF8 = "The request body is not valid UTF-8 JSON"


def _integers_as_in_2020_12(schema_validator: type) -> type:
    """``schema_validator`` with 2020-12's ``integer`` and integral floats made ``int``."""
    checker = schema_validator.TYPE_CHECKER.redefine(  # type: ignore[attr-defined]
        "integer", _is_integer
    )
    check_properties = schema_validator.VALIDATORS["properties"]  # type: ignore[attr-defined]
    check_items = schema_validator.VALIDATORS["items"]  # type: ignore[attr-defined]

    def properties(validator: t.Any, properties: t.Any, instance: t.Any, schema: t.Any) -> Iterator:
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if name in instance:
                    instance[name] = _as_declared_integer(instance[name], subschema)
        yield from check_properties(validator, properties, instance, schema)

    def items(validator: t.Any, items: t.Any, instance: t.Any, schema: t.Any) -> Iterator:
        if isinstance(instance, list) and isinstance(items, dict):
            instance[:] = [_as_declared_integer(item, items) for item in instance]
        yield from check_items(validator, items, instance, schema)

    return extend(  # type: ignore[no-any-return]
        schema_validator,
        validators={"properties": properties, "items": items},
        type_checker=checker,
    )


def _is_integer(_checker: t.Any, instance: t.Any) -> bool:
    return bool(Draft202012Validator.TYPE_CHECKER.is_type(instance, "integer"))


def _as_declared_integer(value: t.Any, schema: t.Any) -> t.Any:
    if (
        isinstance(value, float)
        and value.is_integer()
        and isinstance(schema, Mapping)
        and schema.get("type") == "integer"
    ):
        return int(value)
    return value


_RequestValidator = _integers_as_in_2020_12(Draft4RequestValidator)
# id(schema) -> (schema, validator); holding the schema keeps its id from being reused.
_VALIDATORS: dict[int, tuple[t.Any, t.Any]] = {}


class ContractJSONRequestBodyValidator(JSONRequestBodyValidator):
    """Connexion's JSON request body validator with the decoding and integer rules above."""

    # The integral-float-to-int change must reach the handler, so the body is re-serialised.
    MUTABLE_VALIDATION = True

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(**{**kwargs, "encoding": "utf-8"})

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        # Connexion decides "no body" from Content-Length alone; a chunked request has none.
        headers = Headers(scope=scope)
        if "content-length" not in headers and "transfer-encoding" in headers:
            return await self._wrap_unsized(receive, scope)
        return await super().wrap_receive(receive, scope=scope)

    async def _wrap_unsized(self, receive: Receive, scope: Scope) -> tuple[Receive, Scope]:
        """Read a body of unannounced length, then validate it as if it had been announced."""
        chunks = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        replay = {"type": "http.request", "body": raw, "more_body": False}
        sized = dict(scope)
        sized["headers"] = [
            (name, value) for name, value in scope["headers"] if name != b"transfer-encoding"
        ] + [(b"content-length", str(len(raw)).encode())]
        return await super().wrap_receive(
            self._insert_messages(receive, messages=[replay]), scope=sized
        )

    def _insert_body(self, receive: Receive, *, body: t.Any, scope: Scope) -> tuple[Receive, Scope]:
        if body is None:
            # The original messages are consumed by now: replay the empty body itself, so the
            # handler does not wait for more.
            empty = {"type": "http.request", "body": b"", "more_body": False}
            return self._insert_messages(receive, messages=[empty]), scope
        return super()._insert_body(receive, body=body, scope=scope)

    @property
    def _validator(self) -> t.Any:
        # Built once per body schema (the operation's own, fixed at start-up), not per request.
        schema = self._schema
        cached = _VALIDATORS.get(id(schema))
        if cached is None or cached[0] is not schema:
            validator = _RequestValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
            cached = _VALIDATORS[id(schema)] = (schema, validator)
        return cached[1]

    def _validate(self, body: t.Any) -> None:
        if not self._nullable and body is None:
            raise BadRequestProblem("Request body must not be empty")
        # The most specific error, not the first: inside an ``anyOf`` (a nullable object)
        # the reason a value failed, with the path that names it.
        error = best_match(self._validator.iter_errors(body))
        if error is not None:
            where = ".".join(str(part) for part in error.absolute_path)
            raise BadRequestProblem(
                detail=f"{error.message} - '{where}'" if where else error.message
            )

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> t.Any:
        raw = b"".join([message async for message in stream])
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise BadRequestProblem(
                detail=f"{_NOT_UTF8}: byte {error.start} cannot be decoded."
            ) from None
        if not text:
            return None
        try:
            return load_json(text, "The request body")
        except InvalidInput as error:
            raise BadRequestProblem(detail=error.detail) from None


def with_request_body_validators(validator_map: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """``validator_map`` with JSON request bodies validated by the class above."""
    bodies = MediaTypeDict(dict(validator_map["body"]))
    bodies["*/*json"] = ContractJSONRequestBodyValidator
    return {**validator_map, "body": bodies}
