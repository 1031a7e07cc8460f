"""Every rule the kit checks: an id, the category that owns it, and the rule in one sentence.

The README table "Test another backend" is written from this list (a test keeps them equal).
Rules of the category ``every`` are checked on every response the kit reads, whichever
category is running; the others are checked by their own category.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CATEGORIES", "RULES", "Rule", "rules_of"]

# The order in which categories run (and are listed).
CATEGORIES = ("contract", "lifecycle", "execution", "search", "isolation")


@dataclass(frozen=True)
class Rule:
    id: str
    category: str  # one of CATEGORIES, or "every"
    text: str


_RULES = (
    # -- checked on every response, in every category
    Rule("every.no-server-error", "every", "No request gets a 5xx answer."),
    Rule(
        "every.required-fields",
        "every",
        "Every function and job object carries every field the contract requires, with the "
        "documented type.",
    ),
    Rule(
        "every.status-monotonic",
        "every",
        "A job's status never moves backwards (pending → running → final) except by a rerun.",
    ),
    Rule(
        "every.final-stays-final",
        "every",
        "A finished job (success, failure, timeout, canceled) stays finished on every later "
        "read, unless it is rerun.",
    ),
    Rule(
        "every.timestamps",
        "every",
        "Every compute datetime is UTC in the fixed-width form 2024-05-01T12:00:00.123456+00:00.",
    ),
    Rule(
        "every.execution-count",
        "every",
        "A job's execution_count never exceeds its function's retry_count + 1.",
    ),
    # -- contract (schemathesis)
    Rule(
        "contract.response-conformance",
        "contract",
        "Every response has a documented status code, content type, headers and a body that "
        "matches its schema.",
    ),
    Rule("contract.no-server-error", "contract", "No generated request gets a 5xx answer."),
    Rule(
        "contract.rejects-invalid",
        "contract",
        "Requests that break the schema (bad types, missing required values, unsupported "
        "methods) get a 4xx answer.",
    ),
    Rule(
        "contract.accepts-valid",
        "contract",
        "Requests that fit the schema get a documented answer (2xx, or a 4xx the contract "
        "states for them).",
    ),
    Rule(
        "contract.requires-auth",
        "contract",
        "Operations with bearer security refuse a request without valid credentials.",
    ),
    Rule(
        "contract.stateful",
        "contract",
        "Link-driven sequences hold: created resources are available, deleted ones answer 404.",
    ),
    Rule(
        "contract.every-operation",
        "contract",
        "Every operation of the contract answers 2xx to valid data at least once (pre-signed "
        "ones included).",
    ),
    # -- lifecycle
    Rule(
        "lifecycle.create",
        "lifecycle",
        "A new function starts awaiting_bundle with the documented defaults, the owner's "
        "namespace, and an absolute pre-signed bundle_upload_url.",
    ),
    Rule(
        "lifecycle.bundle-build",
        "lifecycle",
        "A bundle PUT to bundle_upload_url without a bearer token is stored; completing moves "
        "the function to building, and the build ends ready (stopped when auto_start is false).",
    ),
    Rule(
        "lifecycle.presigned-signature",
        "lifecycle",
        "A pre-signed URL with a tampered signature is refused with 403.",
    ),
    Rule(
        "lifecycle.bundle-validation",
        "lifecycle",
        "A bundle that is not a zip, or lacks __dlentrypoint__.py, is refused: with 400 at "
        "upload, or by its build (build_failed).",
    ),
    Rule(
        "lifecycle.complete-needs-bundle",
        "lifecycle",
        "Completing a function before its bundle was uploaded, or once its build has started, "
        "is refused with 409; so is an upload once the build has started.",
    ),
    Rule(
        "lifecycle.build-log",
        "lifecycle",
        "The build log is gzip bytes of UTF-8 text served without a Content-Encoding header.",
    ),
    Rule(
        "lifecycle.build-failure",
        "lifecycle",
        "A bundle whose requirements cannot be met ends build_failed, and jobs submitted to "
        "it are refused with 409.",
    ),
    Rule(
        "lifecycle.update",
        "lifecycle",
        "PATCH returns the whole updated function and later reads show the change.",
    ),
    Rule(
        "lifecycle.update-validation",
        "lifecycle",
        "An edit breaking a documented rule (memory outside the cpus range: 422; image: 400) "
        "is refused and changes nothing.",
    ),
    Rule(
        "lifecycle.start-stop",
        "lifecycle",
        "A stopped function's pending jobs wait; starting it (status ready) lets them run.",
    ),
    Rule(
        "lifecycle.enable-disable",
        "lifecycle",
        "A disabled function refuses new jobs, bulk submissions and reruns with 409; enabling "
        "it accepts them again.",
    ),
    Rule(
        "lifecycle.job-update",
        "lifecycle",
        "A job's tags can change at any time and its arguments while it is pending; the change "
        "is returned and kept.",
    ),
    Rule(
        "lifecycle.delete-busy",
        "lifecycle",
        "Deleting a running job, or a function with a running job, is refused with 409.",
    ),
    Rule(
        "lifecycle.delete",
        "lifecycle",
        "Deleted functions and jobs answer 404 on every later read, a function's jobs go with "
        "it, and delete-by-query answers the deleted ids.",
    ),
    # -- execution
    Rule(
        "execution.result-json",
        "execution",
        "A JSON-serialisable return value is read back, through the catalog storage download "
        "URL, as the same JSON.",
    ),
    Rule("execution.result-bytes", "execution", "Returned bytes are stored and served verbatim."),
    Rule(
        "execution.result-none",
        "execution",
        "A job returning None succeeds and stores no result (the storage download answers 404).",
    ),
    Rule(
        "execution.result-attributes",
        "execution",
        "Every ComputeResult attribute (description, expires, extra_properties, geometry, tags) "
        "appears in the result blob's metadata, with its size and MD5 hash.",
    ),
    Rule(
        "execution.result-iff-success",
        "execution",
        "A result exists if and only if the job succeeded and returned something storable.",
    ),
    Rule(
        "execution.log-lines",
        "execution",
        "Printed lines appear in the job log in order, one JSON line each with a date ending in Z.",
    ),
    Rule(
        "execution.failure",
        "execution",
        "An uncaught exception ends the job as failure with an error_reason naming it and a "
        "non-zero exit_code.",
    ),
    Rule(
        "execution.timeout",
        "execution",
        "A job running past its function's timeout ends as timeout.",
    ),
    Rule(
        "execution.retries",
        "execution",
        "A job failing every attempt runs retry_count + 1 times (execution_count).",
    ),
    Rule(
        "execution.environment",
        "execution",
        "Jobs see the function's environment overlaid by their own (the job's values win).",
    ),
    Rule(
        "execution.bulk",
        "execution",
        "A bulk submission answers one job per argument list, in input order, with its "
        "arguments and tags.",
    ),
    Rule(
        "execution.bulk-validation",
        "execution",
        "A bulk submission whose bulk_kwargs or bulk_environments length differs from "
        "bulk_args is refused with 422 and creates nothing.",
    ),
    Rule(
        "execution.reference-id",
        "execution",
        "Replaying a bulk submission with the same reference_id returns the same jobs and "
        "creates none.",
    ),
    Rule(
        "execution.cancel-pending",
        "execution",
        "Cancelling a pending job makes it canceled, and it stays canceled.",
    ),
    Rule(
        "execution.cancel-finished",
        "execution",
        "Cancelling a finished job answers it unchanged (no error).",
    ),
    Rule(
        "execution.cancel-running",
        "execution",
        "Cancelling a running job ends it canceled (unless it finished first).",
    ),
    Rule(
        "execution.cancel-by-query",
        "execution",
        "POST /jobs/cancel with a filter cancels exactly the matching unfinished jobs.",
    ),
    Rule(
        "execution.rerun",
        "execution",
        "A rerun puts failed, timed-out and canceled jobs back to pending and runs them again; "
        "other jobs are left alone.",
    ),
    Rule(
        "execution.result-retention",
        "execution",
        "A result outlives its job's deletion, unless delete_results is true.",
    ),
    Rule(
        "execution.max-concurrency",
        "execution",
        "The running jobs of a function never exceed its maximum_concurrency.",
    ),
    Rule(
        "execution.job-statistics",
        "execution",
        "include=job.statistics counts the function's jobs by status, matching the jobs.",
    ),
    # -- search
    Rule(
        "search.filter-holds",
        "search",
        "Every record of every page satisfies the filter that found it.",
    ),
    Rule(
        "search.filter-complete",
        "search",
        "Every record that satisfies the filter is found.",
    ),
    Rule(
        "search.sort-order",
        "search",
        "Records come in the requested multi-key order, ties broken by id, nulls first ascending.",
    ),
    Rule("search.limit", "search", "Paging never returns more than limit records in all."),
    Rule("search.page-size", "search", "No page holds more than page_size records."),
    Rule(
        "search.cursor-once",
        "search",
        "Paging the same query through cursors returns each record exactly once.",
    ),
    Rule(
        "search.count",
        "search",
        "limit=0 answers no records and a meta.total equal to the number of records paged through.",
    ),
    Rule(
        "search.cursor-alone",
        "search",
        "A page_cursor carries the whole query: other parameters sent next to it are ignored.",
    ),
    Rule(
        "search.include",
        "search",
        "include=job.statistics adds job_statistics to functions and include=timings adds "
        "provisioning_time and pull_time to jobs; without include they are absent.",
    ),
    Rule(
        "search.legacy-params",
        "search",
        "The legacy status and function_id parameters filter like the equivalent filter.",
    ),
    Rule(
        "search.bad-query",
        "search",
        "An unknown filter attribute, an operator that does not apply, or a cursor the server "
        "did not issue gets 400.",
    ),
    # -- isolation
    Rule(
        "isolation.not-found",
        "isolation",
        "Every id of the first owner (function, job, log, result) answers 404 to the second "
        "owner, for reads and for changes.",
    ),
    Rule(
        "isolation.untouched",
        "isolation",
        "After the second owner's attempts, the first owner's functions and jobs are unchanged.",
    ),
    Rule(
        "isolation.invisible",
        "isolation",
        "The second owner's searches and counts never include the first owner's records.",
    ),
    Rule(
        "isolation.bulk-untouched",
        "isolation",
        "The second owner's cancel, rerun and delete by query never touch the first owner's jobs.",
    ),
    Rule(
        "isolation.no-token",
        "isolation",
        "Every compute and storage operation answers 401 without a token or with a malformed one.",
    ),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


def rules_of(category: str) -> list[Rule]:
    """The rules a category owns (``every`` rules belong to all)."""
    return [rule for rule in _RULES if rule.category == category]
