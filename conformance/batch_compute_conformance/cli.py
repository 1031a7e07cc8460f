"""``batch-compute conformance BASE_URL ...`` (also ``python -m batch_compute_conformance``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .context import Options
from .rules import CATEGORIES
from .runner import EXIT_CANNOT_RUN, CannotRun, run_conformance

__all__ = ["add_arguments", "main", "run_from_arguments"]

DESCRIPTION = (
    "Check that a Batch Compute backend honours the API: the contract (schemathesis), "
    "lifecycles, real execution, search and owner isolation. Use two throwaway owners: the "
    "kit creates its own functions and jobs and deletes them afterwards."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "base_url", metavar="BASE_URL", help="the backend's origin (compute API under /compute/v1)"
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("BATCH_COMPUTE_TOKEN"),
        help="bearer token of the first owner (default: $BATCH_COMPUTE_TOKEN)",
    )
    parser.add_argument(
        "--other-token",
        default=os.environ.get("BATCH_COMPUTE_OTHER_TOKEN"),
        help="bearer token of a second, different owner (default: $BATCH_COMPUTE_OTHER_TOKEN)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=CATEGORIES,
        default=[],
        metavar="CATEGORY",
        help=f"run only this category (repeatable): {', '.join(CATEGORIES)}",
    )
    parser.add_argument(
        "--examples",
        type=int,
        default=25,
        help="generated cases per operation and search machine (default: 25)",
    )
    parser.add_argument("--seed", type=int, help="make the generated cases repeatable")
    parser.add_argument("--report", metavar="DIR", help="write junit.xml and report.html here")


class _Parser(argparse.ArgumentParser):
    """Bad arguments exit with status 2 and one line, as the kit's other refusals do."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"conformance: {message}", file=sys.stderr)
        raise SystemExit(EXIT_CANNOT_RUN)


def run_from_arguments(options: argparse.Namespace) -> int:
    try:
        result = run_conformance(
            Options(
                base_url=options.base_url.rstrip("/"),
                token=options.token or "",
                other_token=options.other_token or "",
                only=tuple(options.only),
                examples=options.examples,
                seed=options.seed,
                report_dir=options.report,
            )
        )
    except CannotRun as error:
        print(f"conformance: cannot run: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    return result.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="batch-compute conformance", description=DESCRIPTION)
    add_arguments(parser)
    return run_from_arguments(parser.parse_args(argv))
