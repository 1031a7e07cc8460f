"""Suite-wide settings: hypothesis profiles (ci / dev / long) chosen by HYPOTHESIS_PROFILE, and
the command-line options of the test packages (pytest only reads options from the root)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--browser-artifacts",
        metavar="DIR",
        help="browser tests save their screenshots here (default: each test's tmp_path)",
    )
    parser.addoption(
        "--readme-screenshots",
        metavar="DIR",
        help="the dashboard's browser tests also save the README's screenshots here "
        "(docs/screenshots to refresh them)",
    )


settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
