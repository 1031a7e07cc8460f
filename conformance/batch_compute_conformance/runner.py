"""One conformance run: check that it can run, run the chosen categories, clean up, report.

Exit statuses: 0 every rule holds, 1 a rule is broken, 2 the run could not happen (bad
arguments, unreachable backend, a token it refuses).
"""

from __future__ import annotations

import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .api import COMPUTE, Session, Unreachable, scoped_filter
from .categories import RUNNERS
from .context import Context, Options
from .outcome import Broken, Outcome
from .report import summary, write_html, write_junit
from .rules import CATEGORIES

__all__ = ["CannotRun", "RunResult", "run_conformance"]

EXIT_PASSED, EXIT_VIOLATIONS, EXIT_CANNOT_RUN = 0, 1, 2


class CannotRun(Exception):
    """The run could not happen; the message is the one-line reason."""


@dataclass
class RunResult:
    outcome: Outcome
    exit_code: int
    summary: str


def run_conformance(options: Options, out: TextIO | None = None) -> RunResult:
    """Run the kit; raises :class:`CannotRun` when it cannot (exit status 2)."""
    stream = out if out is not None else sys.stdout
    _validate(options)
    outcome = Outcome()
    session = Session(options.base_url, outcome)
    try:
        ctx = Context(options, session, f"conformance-{secrets.token_hex(4)}")
        _preflight(ctx)
        selected = [c for c in CATEGORIES if not options.only or c in options.only]
        try:
            for category in selected:
                print(f"== {category}", file=stream, flush=True)
                outcome.begin(category)
                try:
                    RUNNERS[category](ctx)
                finally:
                    outcome.end()
        finally:
            _clean_up(ctx)
    finally:
        session.close()
    text = summary(outcome, options.base_url)
    print(text, file=stream, flush=True)
    if options.report_dir:
        folder = Path(options.report_dir)
        folder.mkdir(parents=True, exist_ok=True)
        write_junit(outcome, folder / "junit.xml")
        write_html(outcome, folder / "report.html", options.base_url)
        print(f"report: {folder / 'report.html'}, {folder / 'junit.xml'}", file=stream)
    return RunResult(outcome, EXIT_VIOLATIONS if outcome.failed else EXIT_PASSED, text)


def _validate(options: Options) -> None:
    if not options.base_url.startswith(("http://", "https://")):
        raise CannotRun(f"BASE_URL must start with http:// or https://, not {options.base_url!r}")
    if not options.token or not options.other_token:
        raise CannotRun(
            "two tokens are needed: --token and --other-token (or "
            "BATCH_COMPUTE_TOKEN and BATCH_COMPUTE_OTHER_TOKEN)"
        )
    if options.token == options.other_token:
        raise CannotRun("--token and --other-token must belong to two different owners")
    unknown = [c for c in options.only if c not in CATEGORIES]
    if unknown:
        raise CannotRun(f"unknown category {unknown[0]!r}; choose from {', '.join(CATEGORIES)}")
    if options.examples < 1:
        raise CannotRun("--examples must be at least 1")


def _preflight(ctx: Context) -> None:
    """Reachable, and both tokens accepted, before anything is created."""
    for api, flag in ((ctx.first, "--token"), (ctx.second, "--other-token")):
        try:
            reply = api.request("GET", f"{COMPUTE}/functions", params={"limit": 0})
        except Unreachable as error:
            raise CannotRun(f"cannot reach {ctx.options.base_url}: {error}") from None
        if reply.status == 401:
            raise CannotRun(f"the backend refuses the {flag} token (401)")
        if reply.status != 200 or not isinstance(reply.json(), dict):
            raise CannotRun(
                f"GET {COMPUTE}/functions?limit=0 answered {reply.status}; is "
                f"{ctx.options.base_url} a Batch Compute origin?"
            )


def _clean_up(ctx: Context, timeout: float = 60.0) -> None:
    """Cancel, then delete every job and function the kit created (with their results)."""
    api = ctx.first
    functions = ctx.session.ledger.live_functions()
    if not functions:
        return
    outcome = ctx.outcome
    outcome.begin("cleanup")
    try:
        for chunk in _chunks(functions, 50):
            api.by_query("cancel", {"filter": scoped_filter(chunk)})
        deadline = time.monotonic() + timeout
        busy = {
            "or": [
                {"name": "status", "op": "eq", "val": s} for s in ("running", "cancel", "canceling")
            ]
        }
        while time.monotonic() < deadline:
            # Records, not counts: a backend whose counts are wrong must still be cleaned up.
            pages = [
                api.search(
                    "jobs", {"filter": _json(scoped_filter(chunk, busy)), "page_size": 1}
                ).json()
                or {}
                for chunk in _chunks(functions, 50)
            ]
            if not any(page.get("data") for page in pages if isinstance(page, dict)):
                break
            time.sleep(0.2)
        for chunk in _chunks(functions, 50):
            api.by_query("delete", {"filter": scoped_filter(chunk), "delete_results": True})
        for function_id in functions:
            for _ in range(3):
                reply = api.delete_function(function_id)
                if reply.status == 404:  # already gone (schemathesis deleted it)
                    ctx.session.ledger.deleted_functions.add(function_id)
                if reply.status != 409:
                    break
                time.sleep(0.5)
    except (Broken, Unreachable) as error:
        outcome.note(f"cleanup stopped early: {error}")
    finally:
        outcome.end()
        leftover = [f for f in functions if f not in ctx.session.ledger.deleted_functions]
        if leftover:
            outcome.categories["cleanup"].notes.append(
                f"could not delete {len(leftover)} function(s): {', '.join(leftover[:5])}"
            )


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _json(value: object) -> str:
    import json

    return json.dumps(value)
