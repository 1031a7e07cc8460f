"""``contract``: schemathesis against the contract, all checks, every phase including the
stateful one, over the backend's HTTP.

Two things make it fit for someone else's server:

* **It touches only what it created.** Link inference is off, so the stateful phase follows
  only the contract's links, all of which start at something the kit created. On top of that a
  ``map_case`` hook rewrites every change aimed at an id the kit did not create to an id that
  cannot exist, scopes every cancel/rerun/delete by query to the kit's functions, and never
  stores credentials over the owner's own.
* **Every operation is exercised with valid data.** Before the run the kit makes a built
  function, a finished job with a result and a function awaiting its bundle; positive cases of
  the pre-signed and storage operations get those ids and signatures, positive bundle uploads
  get a real zip, and completing a bundle first uploads one. The kit's own links (below) carry
  the pre-signed query values from one response to the next request.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import urllib.parse
from collections import defaultdict
from collections.abc import Callable
from importlib import resources
from typing import Any

import yaml

from ..api import COMPUTE, Ledger, scoped_filter
from ..bundles import bundle
from ..context import Context
from ..exchange import Exchange
from ..outcome import Broken

__all__ = ["CHECK_RULES", "run"]

CHECK_RULES = {
    "not_a_server_error": "contract.no-server-error",
    "status_code_conformance": "contract.response-conformance",
    "content_type_conformance": "contract.response-conformance",
    "response_schema_conformance": "contract.response-conformance",
    "response_headers_conformance": "contract.response-conformance",
    "max_response_time": "contract.response-conformance",
    "negative_data_rejection": "contract.rejects-invalid",
    "missing_required_header": "contract.rejects-invalid",
    "unsupported_method": "contract.rejects-invalid",
    "positive_data_acceptance": "contract.accepts-valid",
    "ignored_auth": "contract.requires-auth",
    "use_after_free": "contract.stateful",
    "ensure_resource_availability": "contract.stateful",
}
# Links only the kit adds: they pull the pre-signed query values out of a URL in the body
# (schemathesis' `#regex:` extension of runtime expressions, not standard OpenAPI).
KIT_LINKS = {
    ("/compute/v1/functions", "post", "201"): {
        "UploadFunctionBundle": {
            "operationId": "upload_function_bundle",
            "parameters": {
                "path.function_id": "$response.body#/function/id",
                "query.expires": "$response.body#/bundle_upload_url#regex:[?&]expires=([0-9]+)",
                "query.signature": "$response.body#/bundle_upload_url"
                "#regex:[?&]signature=([0-9A-Za-z%_.~-]+)",
            },
        },
    },
    ("/catalog/v2/storage/download/{blob_id}", "get", "200"): {
        "DownloadResultData": {
            "operationId": "download_result_data",
            "parameters": {
                "path.blob_id": "$response.body#/data/id",
                "query.expires": "$response.body#/data/attributes/resumable_url"
                "#regex:[?&]expires=([0-9]+)",
                "query.signature": "$response.body#/data/attributes/resumable_url"
                "#regex:[?&]signature=([0-9A-Za-z%_.~-]+)",
            },
        },
    },
}
_FUNCTION_CHANGES = {
    "update_function",
    "delete_function",
    "complete_function_bundle",
    "upload_function_bundle",
}
_JOB_CHANGES = {"update_job", "delete_job", "cancel_job"}
_BY_QUERY = {"cancel_jobs", "rerun_jobs", "delete_jobs"}
_CREATES_JOBS = {"create_job", "create_jobs_bulk"}
_FIXED_EXAMPLES = 4
_STATEFUL_STEPS = 12

# The kit's custom schemathesis check is registered once per process and acts only while a
# kit run is active (other schemathesis users in the process are unaffected).
_active: dict[str, Any] = {}
_lock = threading.Lock()


def run(ctx: Context) -> None:
    seeds: dict[str, Any] = {"credentials_free": False}
    ctx.scenario(lambda: _seed(ctx, seeds))  # a broken seed still leaves schemathesis to run
    ctx.scenario(lambda: _run_schemathesis(ctx, seeds))


# -- seed data ----------------------------------------------------------------------------------


def _seed(ctx: Context, seeds: dict[str, Any]) -> None:
    """A built function, a successful job with a result, and the owner's credentials state."""
    api = ctx.first
    function = api.ready_function(bundle(), ctx.options.build_timeout, name=ctx.name("contract"))
    job = api.submit(function["id"], "echo", {"contract": True}, rule="contract.every-operation")
    failed = api.submit(function["id"], "raise", "for rerun", rule="contract.every-operation")
    api.wait_jobs([job["id"], failed["id"]], "contract.every-operation", ctx.options.job_timeout)
    credentials = api.request("GET", f"{COMPUTE}/credentials").json() or {}
    seeds["credentials_free"] = credentials.get("stored") is False
    seeds["function"] = function
    blob_id = api.blob_id(function, job["id"])
    download = api.storage_download(blob_id)
    document = api.expect(download, 200, "execution.result-json", "downloading a result")
    try:
        url = document["data"]["attributes"]["resumable_url"]
    except (KeyError, TypeError):
        raise Broken(
            "execution.result-json",
            "the storage download answered no resumable_url",
            download.exchange,
        ) from None
    seeds.update(job=job["id"], blob_id=blob_id, result_url=url)


# -- the schemathesis run -----------------------------------------------------------------------


def _load_schema(ctx: Context) -> Any:
    import schemathesis
    from schemathesis.config import SchemathesisConfig

    package = resources.files("batch_compute_conformance")
    raw = yaml.safe_load(package.joinpath("openapi.yaml").read_text())
    raw = copy.deepcopy(raw)
    for (path, method, status), links in KIT_LINKS.items():
        response = raw["paths"][path][method]["responses"][status]
        response.setdefault("links", {}).update(links)
    raw["servers"] = [{"url": ctx.options.base_url}]
    with resources.as_file(package.joinpath("schemathesis.toml")) as toml:
        config = SchemathesisConfig.from_path(str(toml))
    schema = schemathesis.openapi.from_dict(raw, config=config)
    project = schema.config
    project.update(
        base_url=ctx.options.base_url,
        headers={"Authorization": f"Bearer {ctx.options.token}"},
        request_timeout=30,
    )
    examples = max(1, ctx.options.examples)
    project.generation.update(max_examples=examples)
    if ctx.options.seed is not None:
        project.seed = ctx.options.seed
    project.phases.stateful.inference.algorithms = []
    project.phases.stateful.max_steps = _STATEFUL_STEPS
    return schema


class _Hooks:
    """The kit's hooks on one schema: the guard, valid data for positive cases, bookkeeping."""

    def __init__(self, ctx: Context, seeds: dict[str, Any]) -> None:
        self.ctx = ctx
        self.seeds = seeds
        self.ledger: Ledger = ctx.session.ledger
        self.upload_urls: dict[str, str] = {}
        self.answered: dict[str, set[int]] = defaultdict(set)
        self.job_functions: dict[str, str] = {}
        self.guarded = 0
        self.cascades = 0

    @staticmethod
    def operation_id(case: Any) -> str:
        return str(case.operation.definition.raw.get("operationId", case.operation.label))

    @staticmethod
    def positive(case: Any) -> bool:
        from schemathesis.generation.modes import GenerationMode

        meta = case.meta
        return meta is None or meta.generation.mode == GenerationMode.POSITIVE

    def absent(self) -> str:
        return f"conformance-absent-{secrets.token_hex(6)}"

    # -- filter_case: what is never sent --------------------------------------------------------

    def keep(self, case: Any) -> bool:
        operation = self.operation_id(case)
        if operation in _BY_QUERY:
            body = case.body if isinstance(case.body, dict) else None
            return body is not None or _unset(case.body)
        return True

    # -- map_case: valid data for positive cases ------------------------------------------------

    def map(self, case: Any) -> Any:
        if self.positive(case):
            params = case.path_parameters if isinstance(case.path_parameters, dict) else {}
            self._valid_data(self.operation_id(case), case, params)
        return case

    # -- the guard: on every request, whatever phase or check sends it --------------------------

    def guard(self, case: Any) -> None:
        """Changes go only to what the kit created; queries only reach the kit's functions."""
        operation = self.operation_id(case)
        params = case.path_parameters if isinstance(case.path_parameters, dict) else {}
        if operation in _FUNCTION_CHANGES and not _known(
            params.get("function_id"), self.ledger.functions
        ):
            params["function_id"] = self.absent()
            case.path_parameters = params
            self.guarded += 1
        if operation in _JOB_CHANGES and not _known(params.get("job_id"), self.ledger.jobs):
            params["job_id"] = self.absent()
            case.path_parameters = params
            self.guarded += 1
        body = case.body if isinstance(case.body, dict) else None
        if (
            operation in _CREATES_JOBS
            and body is not None
            and not _known(body.get("function_id"), self.ledger.functions)
        ):
            body["function_id"] = self.absent()
            self.guarded += 1
        if operation in _BY_QUERY:
            # Always a JSON object with the scope first: a body the server could not read
            # might otherwise count as `{}`, which matches every job of the owner.
            scoped = dict(body) if body is not None else {}
            extra = scoped.get("filter")
            mine = self.ledger.live_functions()
            scoped["filter"] = scoped_filter(mine, *(extra if isinstance(extra, list) else []))
            case.body = scoped
            case.media_type = "application/json"
            headers = case.headers
            if headers is not None:
                for name in [n for n in headers if n.lower() == "content-type"]:
                    del headers[name]

    def _valid_data(self, operation: str, case: Any, params: dict[str, Any]) -> None:
        seeds = self.seeds
        if "blob_id" not in seeds:
            pass
        elif operation in ("get_storage_download", "get_storage_blob"):
            if not str(params.get("blob_id", "")).startswith(seeds["blob_id"].rsplit("/", 1)[0]):
                params["blob_id"] = seeds["blob_id"]
        elif operation == "download_result_data":
            url = urllib.parse.urlsplit(seeds["result_url"])
            if params.get("blob_id") != seeds["blob_id"]:
                params["blob_id"] = seeds["blob_id"]
                case.query = dict(urllib.parse.parse_qsl(url.query))
        if operation == "upload_function_bundle":
            fid = params.get("function_id")
            if not _known(fid, self.upload_urls) and self.upload_urls:
                fid = params["function_id"] = list(self.upload_urls)[-1]
            if isinstance(fid, str) and fid in self.upload_urls:
                query = urllib.parse.urlsplit(self.upload_urls[fid]).query
                case.query = dict(urllib.parse.parse_qsl(query))
                case.body = bundle()

    # -- before_call: a completion gets an uploaded bundle first --------------------------------

    def before_call(self, case: Any) -> None:
        self.guard(case)
        if self.operation_id(case) != "complete_function_bundle" or not self.positive(case):
            return
        fid = case.path_parameters.get("function_id")
        url = self.upload_urls.pop(fid, None) if isinstance(fid, str) else None
        if url is not None:
            self.ctx.first.upload(url, bundle())

    # -- filter_failure: schemathesis cannot know that deleting a function deletes its jobs ---

    def keep_failure(self, failure: Any, case: Any) -> bool:
        """Drop "created resource not found" for a job whose function the run deleted since."""
        if type(failure).__name__ != "EnsureResourceAvailability":
            return True
        params = case.path_parameters if isinstance(case.path_parameters, dict) else {}
        function = self.job_functions.get(str(params.get("job_id")))
        if function is not None and function in self.ledger.deleted_functions:
            self.cascades += 1
            return False
        return True

    # -- after_call: what was created, what answered, and the model -----------------------------

    def after_call(self, case: Any, response: Any) -> None:
        operation = self.operation_id(case)
        self.answered[operation].add(int(response.status_code))
        if response.status_code >= 300 or operation not in (
            "create_function",
            "create_job",
            "create_jobs_bulk",
            "delete_function",
        ):
            return
        body = _json_of(response)
        if operation == "create_function" and isinstance(body, dict):
            function = body.get("function") or {}
            if isinstance(function.get("id"), str):
                self.ledger.functions[function["id"]] = function
                self.upload_urls[function["id"]] = str(body.get("bundle_upload_url"))
        elif operation in _CREATES_JOBS:
            for job in body if isinstance(body, list) else [body]:
                if isinstance(job, dict) and isinstance(job.get("id"), str):
                    self.ledger.jobs.add(job["id"])
                    self.job_functions[job["id"]] = str(job.get("function_id"))
        elif operation == "delete_function":
            self.ledger.deleted_functions.add(case.path_parameters.get("function_id"))


def _is_network_error(error: BaseException) -> bool:
    import requests

    return isinstance(error, requests.ConnectionError | requests.Timeout)


def _known(value: Any, created: Any) -> bool:
    return isinstance(value, str) and value in created


def _json_of(response: Any) -> Any:
    """The body as JSON, without ``response.json()``: schemathesis caches what that returns and
    would then validate raw-byte answers (results, logs) as if they were JSON documents."""
    try:
        return json.loads(response.content or b"null")
    except ValueError:
        return None


def _unset(body: Any) -> bool:
    from schemathesis.core import NOT_SET

    return body is NOT_SET or body is None


def _exchange_of(response: Any, token: str) -> Exchange:
    request = response.request
    headers = {k: v for k, v in dict(request.headers).items()}
    body = request.body
    if isinstance(body, str):
        body = body.encode()
    exchange = Exchange(
        method=str(request.method),
        url=str(request.url),
        request_headers=headers,
        request_body=body,
        status=int(response.status_code),
        response_headers={
            k: ", ".join(v) if isinstance(v, list) else str(v)
            for k, v in dict(response.headers).items()
        },
        response_body=bytes(response.content or b""),
        owner="first" if headers.get("Authorization") == f"Bearer {token}" else None,
    )
    return exchange


def _register_model_check() -> None:
    """The ``every`` rules as a schemathesis check, on every response of the run."""
    import schemathesis

    if _active.get("registered"):
        return

    @schemathesis.check
    def batch_compute_model(ctx: Any, response: Any, case: Any) -> bool | None:
        run = _active.get("run")
        if run is None:
            return None
        kit_ctx, hooks = run
        operation = hooks.operation_id(case)
        if response.status_code >= 300 or not (
            operation.endswith(("_function", "_job", "_jobs", "_jobs_bulk", "_functions"))
            or operation in ("complete_function_bundle", "create_jobs_bulk")
        ):
            return None
        body = _json_of(response)
        exchange = _exchange_of(response, kit_ctx.options.token)
        model = kit_ctx.session.model
        with _lock:
            if operation == "create_function" and isinstance(body, dict):
                model.observe_function(body.get("function"), exchange)
            elif operation in ("get_function", "update_function", "complete_function_bundle"):
                model.observe_function(body, exchange)
            elif operation == "search_functions" and isinstance(body, dict):
                for item in body.get("data") or []:
                    model.observe_function(item, exchange)
            elif operation == "search_jobs" and isinstance(body, dict):
                for item in body.get("data") or []:
                    model.observe_job(item, exchange)
            elif operation in ("create_job", "get_job", "update_job", "cancel_job"):
                model.observe_job(body, exchange)
            elif operation in ("create_jobs_bulk", "cancel_jobs", "rerun_jobs"):
                if operation == "rerun_jobs":
                    model.rerun(body if isinstance(body, list) else [])
                for item in body if isinstance(body, list) else []:
                    model.observe_job(item, exchange)
        return None

    _active["registered"] = True


def _run_schemathesis(ctx: Context, seeds: dict[str, Any]) -> None:
    from schemathesis.engine import Status, events, from_schema

    schema = _load_schema(ctx)
    if not seeds["credentials_free"]:
        # Storing credentials would replace the owner's own: that operation is left out.
        schema = schema.exclude(operation_id="set_credentials")
        ctx.outcome.note("set_credentials left out: the owner already has credentials stored")
    hooks = _Hooks(ctx, seeds)
    # Hooks go to the global dispatcher for the run's duration: schema-level ones do not reach
    # every request (before_call exists only globally), and the guard must see every request.
    import schemathesis
    import schemathesis.hooks

    def filter_case(context: Any, case: Any) -> bool:
        return hooks.keep(case)

    def map_case(context: Any, case: Any) -> Any:
        return hooks.map(case)

    def before_call(context: Any, case: Any, kwargs: Any) -> None:
        hooks.before_call(case)

    def after_call(context: Any, case: Any, response: Any) -> None:
        hooks.after_call(case, response)

    def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
        return hooks.keep_failure(failure, case)

    registered: list[Callable[..., Any]] = [
        filter_case,
        map_case,
        before_call,
        after_call,
        filter_failure,
    ]
    for hook in registered:
        schemathesis.hook(hook)
    _register_model_check()
    token = ctx.options.token
    links_covered: set[str] = set()
    links_total = 0
    _active["run"] = (ctx, hooks)
    try:
        for event in from_schema(schema).execute():
            if isinstance(event, events.PhaseStarted) and event.payload is not None:
                links_total = max(links_total, event.payload.transitions_total)
            elif isinstance(event, events.ScenarioFinished):
                _record_scenario(ctx, event, token, Status, links_covered)
            elif isinstance(event, events.NonFatalError):
                if _is_network_error(event.value):
                    # The backend dropped a connection or did not answer in time.
                    ctx.check(
                        "contract.no-server-error",
                        False,
                        f"{event.label}: no answer: {event.info.message}",
                    )
                else:
                    ctx.outcome.note(f"schemathesis: {event.label}: {event.info.message}")
            elif isinstance(event, events.FatalError):
                raise Broken(
                    "contract.response-conformance", f"schemathesis stopped: {event.exception}"
                )
    finally:
        _active.pop("run", None)
        for hook in registered:
            schemathesis.hooks.unregister(hook)

    ctx.outcome.note(f"stateful links covered: {len(links_covered)} of {links_total}")
    ctx.outcome.note("links covered: " + "; ".join(sorted(links_covered)))
    ctx.outcome.note(f"changes redirected away from ids the kit did not create: {hooks.guarded}")
    if hooks.cascades:
        ctx.outcome.note(f"jobs gone with their deleted function (not failures): {hooks.cascades}")
    operations = [
        str(op.definition.raw.get("operationId"))
        for op in (result.ok() for result in schema.get_all_operations())
    ]
    for operation in operations:
        answered = sorted(hooks.answered.get(operation, set()))
        ctx.check(
            "contract.every-operation",
            any(200 <= s < 300 for s in answered),
            f"{operation} never answered 2xx to valid data (answers seen: {answered or 'none'})",
        )


def _record_scenario(ctx: Context, event: Any, token: str, status: Any, links: set[str]) -> None:
    recorder = event.recorder
    for node in recorder.cases.values():
        if node.transition is not None and node.is_transition_applied:
            links.add(node.transition.id)
    for case_id, checks in recorder.checks.items():
        interaction = recorder.interactions.get(case_id)
        for check in checks:
            rule = CHECK_RULES.get(check.name)
            if rule is None or check.status not in (status.SUCCESS, status.FAILURE):
                continue
            if check.status == status.SUCCESS or check.failure_info is None:
                ctx.check(rule, True)
                continue
            failure = check.failure_info.failure
            exchange = _interaction_exchange(interaction, token)
            sample = check.failure_info.code_sample.replace(token, "$BATCH_COMPUTE_TOKEN")
            message = f"{failure.title}: {failure.message}".strip()
            ctx.outcome.check(rule, False, message[:2000], exchange, reproduction=sample)


def _interaction_exchange(interaction: Any, token: str) -> Exchange | None:
    if interaction is None:
        return None
    request, response = interaction.request, interaction.response
    headers = {k: (v[0] if isinstance(v, list) else str(v)) for k, v in request.headers.items()}
    exchange = Exchange(
        method=request.method,
        url=request.uri,
        request_headers=headers,
        request_body=request.body,
        owner="first" if headers.get("Authorization") == f"Bearer {token}" else None,
    )
    if response is not None:
        exchange.status = response.status_code
        exchange.response_headers = {
            k: (", ".join(v) if isinstance(v, list) else str(v))
            for k, v in response.headers.items()
        }
        exchange.response_body = response.content or b""
    return exchange
