"""Connexion's parameter validation with each JSON Schema validator built once, not per request.

Connexion 3 deep-copies every parameter definition and builds a fresh ``jsonschema``
validator for it on every request; building one sets up reference resolution and costs far
more than validating a path id. The definitions are the operation's own, fixed at start-up,
so one validator is kept per definition. Validation itself, its messages and the 400s are
Connexion's, unchanged. (JSON bodies: see ``body_validation``.)
"""

from __future__ import annotations

import copy
from typing import Any

from connexion.utils import is_null, is_nullable
from connexion.validators import ParameterValidator
from jsonschema import Draft4Validator, ValidationError

__all__ = ["CachedParameterValidator", "cached_validator_map"]

# id(schema) -> (schema, validator); the schema is held so its id is never reused. The
# contract has a few dozen schemas; the bound only guards against a schema built per request.
_LIMIT = 512
_PARAMETERS: dict[int, tuple[dict[str, Any], Draft4Validator]] = {}


def _parameter_validator(param: dict[str, Any]) -> Draft4Validator:
    cached = _PARAMETERS.get(id(param))
    if cached is None or cached[0] is not param:
        schema = copy.deepcopy(param.get("schema", param))
        validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
        if len(_PARAMETERS) >= _LIMIT:
            _PARAMETERS.clear()
        cached = _PARAMETERS[id(param)] = (param, validator)
    return cached[1]


class CachedParameterValidator(ParameterValidator):
    """``ParameterValidator`` reusing one compiled validator per parameter definition."""

    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        if is_nullable(param) and is_null(value):
            return None
        if value is not None:
            try:
                _parameter_validator(param).validate(value)
            except ValidationError as exception:
                return str(exception)
            return None
        if param.get("required"):
            return f"Missing {parameter_type} parameter '{param['name']}'"
        return None


def cached_validator_map(base: dict[str, Any]) -> dict[str, Any]:
    """``base`` (a Connexion ``validator_map``) with the cached parameter validator."""
    return {**base, "parameter": CachedParameterValidator}
