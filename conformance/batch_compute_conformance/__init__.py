"""The Batch Compute conformance kit: tells a backend author whether their server honours the API.

It talks to any server over HTTP (httpx, schemathesis, hypothesis) and imports nothing of
this project's server or SDK. ``run_conformance(Options(...))`` is the Python entry point;
``batch-compute conformance`` the command line.
"""

from .context import Options
from .outcome import Outcome, Violation
from .rules import CATEGORIES, RULES, Rule
from .runner import CannotRun, RunResult, run_conformance

__all__ = [
    "CATEGORIES",
    "RULES",
    "CannotRun",
    "Options",
    "Outcome",
    "Rule",
    "RunResult",
    "Violation",
    "run_conformance",
]
