"""Creating functions the other documented ways, and a build that fails.

* From a dotted import path, with ``requirements`` (``attrs``: installed into the function's
  environment, or checked against the server's with ``--requirements check``),
  ``include_modules`` (a small package made in the working directory: the client refuses
  top-level cwd modules) and ``include_data``
  (a file inside that package and one at the top level).
* A requirements FILE naming a package that does not exist: the build fails, the build log
  says why, and waiting, submitting and starting all refuse in the client's own way.
"""

from __future__ import annotations

import os
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

from _harness import Sdk, capture_error, execution_fields, plain, run_scenario, unique_name

__all__ = ["main"]

WAIT = {"timeout": 60, "interval": 0.1}

TASKS = """
import os

from . import helpers


def run(x, label="none"):
    import sys

    import attrs

    here = os.path.dirname(__file__)
    with open(os.path.join(here, "data", "info.txt")) as handle:
        packaged = handle.read().strip()
    # The bundle root is on sys.path (the working directory is a scratch directory).
    notes = os.path.join("toplevel", "notes.txt")
    roots = [entry for entry in sys.path if os.path.isfile(os.path.join(entry, notes))]
    with open(os.path.join(roots[0], notes)) as handle:
        top = handle.read().strip()
    return {
        "double": helpers.double(x),
        "label": label,
        "packaged": packaged,
        "top": top,
        "attrs": attrs.__name__,
    }
"""


def main(obs: dict[str, Any], sdk: Sdk) -> None:
    Function, FunctionStatus = sdk.Function, sdk.FunctionStatus
    cwd = Path.cwd()
    package = f"compatpkg_{uuid.uuid4().hex[:8]}"
    root = cwd / package
    (root / "data").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "helpers.py").write_text("def double(x):\n    return 2 * x\n")
    (root / "tasks.py").write_text(textwrap.dedent(TASKS))
    (root / "data" / "info.txt").write_text("packaged data\n")
    (cwd / "toplevel").mkdir()
    (cwd / "toplevel" / "notes.txt").write_text("top-level data\n")
    sys.path.insert(0, str(cwd))  # as running from that directory would
    os.chdir(cwd)

    fn = Function(
        f"{package}.tasks.run",
        requirements=["attrs"],
        include_modules=[package],
        include_data=[f"{package}/data/*.txt", "toplevel/notes.txt"],
        image="python3.11:latest",
        cpus=0.25,
    )
    obs["dotted_name"] = fn.name  # the last dotted segment
    fn.save()
    job = fn(21, label="dotted")
    job.wait_for_completion(**WAIT)
    obs["dotted_job"] = execution_fields(job)
    obs["dotted_result"] = job.result()
    obs["dotted_error_log"] = job.log(timestamps=False) if plain(job.status) != "success" else ""
    obs["dotted_build_log"] = fn.build_log()
    fn.delete()

    requirements = cwd / "requirements.txt"
    requirements.write_text("# a package nobody has\nsurely-not-installed-compat-pkg==1.0\n")
    broken = Function(
        f"{package}.tasks.run",
        name=unique_name("broken"),
        requirements=str(requirements),
        include_modules=[package],
        image="python3.11:latest",
        cpus=0.25,
    )
    broken.save()
    # Submitted at once: accepted while the build runs, refused if it has already failed.
    try:
        early = broken(1)
    except Exception as error:  # the genuine client's ConflictError
        early = None
        obs["broken_early_refused"] = type(error).__name__
    obs["broken_wait"] = capture_error(lambda: broken.wait_for_completion(**WAIT))
    broken.refresh()
    obs["broken_status"] = plain(broken.status)
    obs["broken_is_build_failed"] = broken.status == FunctionStatus.BUILD_FAILED
    obs["broken_build_log"] = broken.build_log()
    obs["broken_submit"] = capture_error(lambda: broken(2))
    obs["broken_map"] = capture_error(lambda: broken.map([[3]]))
    obs["broken_start"] = capture_error(broken.start)
    if early is not None:
        obs["broken_as_completed"] = capture_error(
            lambda: list(broken.as_completed([early], **WAIT))
        )
        early.refresh()
        obs["broken_early_job"] = plain(early.status)
    broken.delete()


if __name__ == "__main__":
    run_scenario(main)
