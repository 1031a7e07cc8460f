"""Property-based contract tests: schemathesis fuzzes the in-process server from ``openapi.yaml``.

The published 3.1 contract (not Connexion's derived 3.0 view) drives generation, every
schemathesis check runs on every response, and the server validates its own responses too.
Requests stay in-process: the schema is bound to the ASGI app, whose lifespan schemathesis runs.

Example counts are modest so CI stays fast; set ``SCHEMATHESIS_EXAMPLES`` (per operation) or
run ``-m slow`` for a longer soak by hand.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis.python.asgi import shutdown_lifespans

from batch_compute_mock.app import create_app
from batch_compute_mock.service.identity import client_claims, make_token
from batch_compute_mock.settings import Settings

__all__: list[str] = []

SPEC_PATH = Path(__file__).parents[2] / "openapi.yaml"
# The statuses the contract documents for some schema-valid requests (shared with the CLI run).
CONFIG_PATH = Path(__file__).parents[2] / "schemathesis.toml"
# The contract's `servers` entry: the ASGI transport sends it as the Host, and the server
# builds its pre-signed URLs from `public_url`, so both agree.
ORIGIN = "http://127.0.0.1:8000"
CI_EXAMPLES = 25
SLOW_EXAMPLES = 500
STATEFUL_STEPS = 15


def _examples(default: int) -> int:
    return int(os.environ.get("SCHEMATHESIS_EXAMPLES", default))


class BearerAuth:
    """One valid bearer token for every request; schemathesis strips it for `ignored_auth`."""

    def get(self, case: Any, ctx: Any) -> str:
        return make_token(client_claims("fuzz"))

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _load_schema(app: Any, max_examples: int) -> Any:
    config = schemathesis.config.SchemathesisConfig.from_path(CONFIG_PATH)
    schema = schemathesis.openapi.from_path(SPEC_PATH, config=config)
    schema.app = app
    schema.config.generation.update(max_examples=max_examples)
    schema.auth(BearerAuth)
    return schema


# Bound at import: schemathesis reads the app when it builds one test per operation. Its
# lifespan starts with the first request and is stopped by the module fixture below.
_DATA_DIR = Path(tempfile.mkdtemp(prefix="batch-compute-schemathesis-"))
# Every pytest-xdist worker imports this module to collect it, even one that runs none of it.
atexit.register(shutil.rmtree, _DATA_DIR, ignore_errors=True)
APP = create_app(
    Settings(
        data_dir=_DATA_DIR / "data",
        public_url=ORIGIN,
        validate_responses=True,
        execute_jobs=False,
        workers=2,
    )
)
schema = _load_schema(APP, _examples(CI_EXAMPLES))
soak = _load_schema(APP, _examples(SLOW_EXAMPLES))


@pytest.fixture(scope="module", autouse=True)
def _stop_app() -> Iterator[None]:
    yield
    shutdown_lifespans()
    shutil.rmtree(_DATA_DIR, ignore_errors=True)


@schema.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_operation(case: Any) -> None:
    case.call_and_validate()


@pytest.mark.slow
@soak.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_operation_soak(case: Any) -> None:
    case.call_and_validate()


def test_stateful() -> None:
    """Link-driven sequences (create, then read, update, cancel, delete what was created)."""
    machine = schema.as_state_machine()
    machine.run(
        settings=hypothesis.settings(
            max_examples=_examples(CI_EXAMPLES),
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
