"""``batch-compute reset|snapshot|restore|fault|journal``: the test controls from a shell.

Each talks to a running server's ``/_mock/`` routes over HTTP (standard library only, so they
work with the SDK-only install too):

    batch-compute reset [--owner SUB]
    batch-compute snapshot FILE            (- for standard output)
    batch-compute restore FILE             (- for standard input)
    batch-compute fault add '{"function_name": "f", "action": "fail"}'
    batch-compute fault list | clear
    batch-compute journal [--job-id ID] [--function-id ID]

``--url`` (or ``BATCH_COMPUTE_URL``) is the server's origin, ``http://127.0.0.1:8000`` by
default.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import IO, Any

__all__ = ["add_control_commands"]

_DEFAULT_URL = "http://127.0.0.1:8000"


def add_control_commands(commands: Any) -> None:
    """Add the control subcommands to ``batch-compute``'s subparsers."""

    def command(name: str, help: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(name, help=help)
        parser.add_argument(
            "--url",
            default=os.environ.get("BATCH_COMPUTE_URL", _DEFAULT_URL),
            help="the server's origin (default: $BATCH_COMPUTE_URL or %(default)s)",
        )
        return parser

    reset = command("reset", "remove everything from a test server, or one owner's state")
    reset.add_argument("--owner", help="only this user's (sub) functions, jobs and results")
    reset.set_defaults(run=_reset)

    snapshot = command("snapshot", "save a test server's whole state to a file")
    snapshot.add_argument("file", help="where to write the snapshot (- for standard output)")
    snapshot.set_defaults(run=_snapshot)

    restore = command("restore", "replace a test server's state with a snapshot")
    restore.add_argument("file", help="the snapshot to restore (- for standard input)")
    restore.set_defaults(run=_restore)

    fault = command("fault", "inject a fault into a test server, list or clear them")
    fault.add_argument("action", choices=["add", "list", "clear"])
    fault.add_argument("spec", nargs="?", help="the fault, as JSON (for add)")
    fault.set_defaults(run=_fault)

    journal = command("journal", "print a test server's job events, one JSON object a line")
    journal.add_argument("--job-id")
    journal.add_argument("--function-id")
    journal.set_defaults(run=_journal)


def _reset(options: argparse.Namespace) -> int:
    body = {"owner": options.owner} if options.owner else {}
    _call(options.url, "POST", "/_mock/reset", json.dumps(body).encode())
    return 0


def _snapshot(options: argparse.Namespace) -> int:
    with _call_stream(options.url, "POST", "/_mock/snapshot", b"") as answer:
        if options.file == "-":
            shutil.copyfileobj(answer, sys.stdout.buffer)
        else:
            with open(options.file, "wb") as target:
                shutil.copyfileobj(answer, target)
    return 0


def _restore(options: argparse.Namespace) -> int:
    if options.file == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(options.file, "rb") as source:
            data = source.read()
    _call(options.url, "POST", "/_mock/restore", data, "application/zip")
    return 0


def _fault(options: argparse.Namespace) -> int:
    if options.action == "add":
        if not options.spec:
            raise SystemExit("error: fault add needs the fault as JSON")
        print(_call(options.url, "POST", "/_mock/faults", options.spec.encode()).decode())
    elif options.action == "list":
        print(_call(options.url, "GET", "/_mock/faults").decode())
    else:
        _call(options.url, "DELETE", "/_mock/faults")
    return 0


def _journal(options: argparse.Namespace) -> int:
    query = {
        key: value
        for key, value in (("job_id", options.job_id), ("function_id", options.function_id))
        if value
    }
    path = "/_mock/journal" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    for event in json.loads(_call(options.url, "GET", path)):
        print(json.dumps(event))
    return 0


def _problem(body: bytes) -> str:
    """The ``detail`` of a problem answer, with its per-field ``errors``."""
    text = body.decode("utf-8", "replace")
    try:
        problem = json.loads(text)
    except ValueError:
        return text
    if not isinstance(problem, dict):
        return text
    lines = [str(problem.get("detail", text))]
    for field, messages in (problem.get("errors") or {}).items():
        lines += [f"  {field}: {message}" for message in messages]
    return "\n".join(lines)


def _call(
    url: str, method: str, path: str, body: bytes | None = None, kind: str = "application/json"
) -> bytes:
    with _call_stream(url, method, path, body, kind) as answer:
        return answer.read()  # type: ignore[no-any-return]


def _call_stream(
    url: str, method: str, path: str, body: bytes | None = None, kind: str = "application/json"
) -> IO[bytes]:
    """The answer of one control; a refusal or an unreachable server exits with its reason."""
    request = urllib.request.Request(
        url.rstrip("/") + path,
        data=body,
        method=method,
        headers={"Content-Type": kind} if body is not None else {},
    )
    try:
        return urllib.request.urlopen(request, timeout=300)  # type: ignore[no-any-return]
    except urllib.error.HTTPError as error:
        hint = " (are the server's test controls on? see serve --test-controls)"
        raise SystemExit(
            f"error: {method} {path}: {error.code} {_problem(error.read())}"
            + (hint if error.code == 404 else "")
        ) from None
    except urllib.error.URLError as error:
        raise SystemExit(f"error: cannot reach {url}: {error.reason}") from None
