"""Progress bars on long waits: drawn when asked (or on a terminal), silent otherwise.

Runs against the live server through the public SDK; bars are captured by passing a tqdm
instance writing to a ``StringIO``, or by swapping ``sys.stderr``.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable

import pytest
from e2e_functions import add, nap
from tqdm import tqdm

from batch_compute import ComputeClient, Function, Job, JobStatus

IMAGE = "python3.11:latest"
WAIT = 60


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def function(client: ComputeClient) -> Function:
    fn = Function(add, image=IMAGE, client=client)
    fn.save()
    return fn


def _bar() -> tuple[tqdm[None], io.StringIO]:
    out = io.StringIO()
    return tqdm(file=out, mininterval=0), out


def test_map_wait_and_as_completed_advance_a_given_bar(function: Function) -> None:
    bar, out = _bar()
    jobs = function.map([[1], [2], [3]], batch_size=2, progress=bar)
    assert bar.n == 3 and bar.total == 3 and "3/3" in out.getvalue()

    bar, out = _bar()
    done = list(function.as_completed(jobs, timeout=WAIT, interval=0.1, progress=bar))
    assert sorted(job.result() for job in done) == [1, 2, 3]
    assert bar.n == 3 and "3/3" in out.getvalue()

    bar, out = _bar()
    function.wait_for_completion(timeout=WAIT, interval=0.1, progress=bar)
    assert bar.n == 3 and bar.total == 3 and "3/3" in out.getvalue()
    bar.close()  # the caller's bar is left open for the caller


def test_progress_true_draws_on_stderr(function: Function, monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = io.StringIO()  # not a terminal: True still draws
    monkeypatch.setattr(sys, "stderr", stderr)
    jobs = function.map([[1], [2]], progress=True)
    list(function.as_completed(jobs, timeout=WAIT, interval=0.1, progress=True))
    function.wait_for_completion(timeout=WAIT, interval=0.1, progress=True)
    text = stderr.getvalue()
    assert "submitting add" in text and "waiting for add" in text and "2/2" in text


def test_default_is_off_unless_stderr_is_a_terminal(
    function: Function, monkeypatch: pytest.MonkeyPatch
) -> None:
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    jobs = function.map([[1]])
    list(function.as_completed(jobs, timeout=WAIT, interval=0.1))
    function.wait_for_completion(timeout=WAIT, interval=0.1)
    function.map([[1]], progress=False)
    assert stderr.getvalue() == ""

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    function.map([[1], [2]])
    assert "submitting add" in terminal.getvalue() and "2/2" in terminal.getvalue()


def test_missing_tqdm_is_a_clear_error_before_any_request(
    function: Function, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # ``import tqdm`` now fails
    with pytest.raises(ImportError, match="pip install tqdm"):
        function.map([[1]], progress=True)
    assert function.jobs.count() == 0
    with pytest.raises(ImportError, match="pip install tqdm"):
        function.wait_for_completion(timeout=WAIT, progress=True)
    with pytest.raises(ImportError, match="pip install tqdm"):
        next(function.as_completed([], progress=True))
    # Without tqdm, the default quietly draws nothing, even on a terminal.
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert len(function.map([[1]])) == 1


class _RecordingBar(tqdm):  # type: ignore[type-arg]
    """A bar that remembers each step it was advanced by, and what ``probe`` said then."""

    def __init__(self, probe: Callable[[], bool]) -> None:
        super().__init__(file=io.StringIO(), mininterval=0)
        self.probe = probe
        self.steps: list[tuple[float, bool]] = []

    def update(self, n: float | None = 1) -> bool | None:
        if n:
            self.steps.append((n, self.probe()))
        return super().update(n)


# Jobs finishing about 1.5 s apart: a bar polled every 10 s would take them in one jump.
NAPS = [[0.1], [1.6], [3.1]]


def _napping_function(client: ComputeClient, name: str) -> Function:
    function = Function(nap, name=name, image=IMAGE, client=client)
    function.save()
    return function


def test_a_drawn_bar_moves_as_jobs_finish_despite_the_default_interval(
    client: ComputeClient,
) -> None:
    for name in ("as_completed", "wait_for_completion"):
        function = _napping_function(client, f"nap-{name}")
        jobs = function.map(NAPS, progress=False)

        def longest_still_busy(last: Job = jobs[-1]) -> bool:
            return Job.get(last.id, client=client).status not in JobStatus.terminal()

        bar = _RecordingBar(longest_still_busy)
        if name == "as_completed":
            finished = list(function.as_completed(jobs, timeout=WAIT, progress=bar))
            assert len(finished) == 3
        else:
            function.wait_for_completion(timeout=WAIT, progress=bar)
        # At the default 10 s interval the bar moved once everything was over; now it moves
        # while the longest job still runs, in more than one step.
        assert bar.n == 3 and len(bar.steps) >= 2, (name, bar.steps)
        assert bar.steps[0][1] is True, (name, bar.steps)
