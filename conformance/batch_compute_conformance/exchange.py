"""One HTTP request and its response as the report shows them, with a curl reproduction.

Bearer tokens are never written to a report: the curl command reads them from the
environment variables the kit's command line also reads.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

__all__ = ["TOKEN_VARIABLES", "Exchange"]

# Which variable stands for which token in reproductions.
TOKEN_VARIABLES = {"first": "BATCH_COMPUTE_TOKEN", "second": "BATCH_COMPUTE_OTHER_TOKEN"}
_BODY_PREVIEW = 4000


@dataclass
class Exchange:
    method: str
    url: str
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: bytes | None = None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    owner: str | None = None  # "first", "second", or None (no token / a bad one)
    error: str | None = None  # a transport error instead of a response

    def request_text(self) -> str:
        lines = [f"{self.method} {self.url}"]
        lines += [f"{name}: {value}" for name, value in self._shown_headers().items()]
        if self.request_body:
            lines += ["", _preview(self.request_body)]
        return "\n".join(lines)

    def response_text(self) -> str:
        if self.error is not None:
            return f"(no response: {self.error})"
        lines = [f"HTTP {self.status}"]
        lines += [f"{name}: {value}" for name, value in self.response_headers.items()]
        if self.response_body:
            lines += ["", _preview(self.response_body)]
        return "\n".join(lines)

    def curl(self) -> str:
        """A command a person can paste to send the same request again."""
        parts = ["curl", "-i", "-X", self.method]
        for name, value in self._shown_headers().items():
            if name.lower() == "authorization" and self.owner in TOKEN_VARIABLES:
                parts += ["-H", f'"Authorization: Bearer ${TOKEN_VARIABLES[self.owner]}"']
                continue
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        if self.request_body:
            if _is_text(self.request_body):
                parts += ["--data-binary", shlex.quote(self.request_body.decode())]
            else:
                parts += ["--data-binary", "@bundle.zip"]
        parts.append(shlex.quote(self.url))
        return " ".join(parts)

    def _shown_headers(self) -> dict[str, str]:
        shown = {}
        for name, value in self.request_headers.items():
            if name.lower() == "authorization":
                variable = TOKEN_VARIABLES.get(self.owner or "")
                value = f"Bearer ${variable}" if variable else value
            shown[name] = value
        return shown


def _is_text(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


def _preview(data: bytes) -> str:
    if not _is_text(data):
        return f"({len(data)} bytes of binary data)"
    text = data.decode()
    if len(text) > _BODY_PREVIEW:
        return text[:_BODY_PREVIEW] + f"... ({len(text)} characters in all)"
    return text
