"""What every category gets: the two owners' clients, the options, and a way to run scenarios.

A scenario is one function of a category; a :class:`Broken` rule ends that scenario only (it
is recorded as a violation), so one broken behaviour does not hide the others.
"""

from __future__ import annotations

import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .api import Api, Session, Unreachable
from .outcome import Broken, Outcome

__all__ = ["Context", "Options"]


@dataclass(frozen=True)
class Options:
    base_url: str
    token: str
    other_token: str
    only: tuple[str, ...] = ()
    examples: int = 25
    seed: int | None = None
    report_dir: str | None = None
    build_timeout: float = 120.0
    job_timeout: float = 60.0


class Context:
    def __init__(self, options: Options, session: Session, tag: str) -> None:
        self.options = options
        self.session = session
        self.tag = tag  # unique per run; names of what the kit creates start with it
        self.first = Api(session, options.token, "first")
        self.second = Api(session, options.other_token, "second")
        self.anonymous = Api(session, None, None)
        self.random = random.Random(options.seed)

    def malformed(self) -> Api:
        """Requests with a bearer token that is not a JWT at all."""
        return Api(self.session, "not-a-jwt", None)

    @property
    def outcome(self) -> Outcome:
        return self.session.outcome

    def check(self, rule: str, ok: bool, message: str = "", exchange: Any = None) -> bool:
        return self.outcome.check(rule, ok, message, exchange)

    def name(self, suffix: str) -> str:
        return f"{self.tag}-{suffix}"

    def scenario(self, run: Callable[[], None]) -> None:
        """Run one scenario; a broken rule ends it and is recorded."""
        try:
            run()
        except Broken as error:
            self.outcome.broken(error)
        except Unreachable as error:
            self.outcome.check("every.no-server-error", False, f"no answer: {error}")
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            # The kit reads answers by the contract; one it cannot read lacks what it must hold.
            where = traceback.extract_tb(error.__traceback__)[-1]
            self.outcome.check(
                "every.required-fields",
                False,
                f"an answer lacks what the contract promises ({type(error).__name__}: {error}, "
                f"read at {where.name}:{where.lineno})",
            )

    @staticmethod
    def pause(seconds: float) -> None:
        time.sleep(seconds)
