"""Response validation for the job log (``application/x-ndjson``), used when responses are
validated (in tests).

Connexion would treat the media type as one JSON document (it matches ``*/*json``); a log is
one JSON object per line instead. This checks exactly what the genuine client needs
(wire-protocol.md §7.9): every line an object with a string ``log`` and a ``date`` ending in
``Z``, and no blank lines.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import NonConformingResponseBody
from connexion.validators import VALIDATOR_MAP, JSONResponseBodyValidator

__all__ = ["NdjsonLogValidator", "validator_map"]


class NdjsonLogValidator(JSONResponseBodyValidator):
    def _parse(self, stream: Generator[bytes, None, None]) -> Any:  # type: ignore[override]
        return b"".join(stream).decode("utf-8")

    def _validate(self, body: Any) -> dict | None:
        lines = body.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise NonConformingResponseBody(
                    f"log line {number} is not JSON: {line!r}"
                ) from None
            if not (
                isinstance(record, dict)
                and isinstance(record.get("log"), str)
                and isinstance(record.get("date"), str)
                and record["date"].endswith("Z")
            ):
                raise NonConformingResponseBody(
                    f"log line {number} needs a string 'log' and a 'date' ending in Z: {line!r}"
                )
        return None


def validator_map() -> dict[str, Any]:
    responses = MediaTypeDict(dict(VALIDATOR_MAP["response"]))
    responses["application/x-ndjson"] = NdjsonLogValidator
    return {**VALIDATOR_MAP, "response": responses}
