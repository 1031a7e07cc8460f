"""Progress bars on long waits: drawn when asked (or on a terminal), silent otherwise.

Runs against the live server through the public SDK; bars are captured by passing a tqdm
instance writing to a ``StringIO``, or by swapping ``sys.stderr``.
"""

from __future__ import annotations

import io
import sys

import pytest
from e2e_functions import add
from tqdm import tqdm

from batch_compute import ComputeClient, Function

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
