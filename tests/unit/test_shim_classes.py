"""The job-side stand-ins for ``ComputeResult`` / ``Serializable`` (``client_shims``).

They run inside job interpreters of any Python from 3.8 to 3.13, so they are exercised under
each of them; and what they build must be what the server's result serializer expects.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from batch_compute_runtime.executor import CLIENT_SHIMS_DIR
from batch_compute_runtime.serialize import SerializedResult, serialize_return

VERSIONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]

BEHAVIOUR = """
import json
import sys

sys.path.append(sys.argv[1])
from descarteslabs.compute import ComputeResult, Serializable
import descarteslabs.compute as dl
import earthdaily.earthone.compute as eo


class Point(Serializable):
    def serialize(self):
        return b"POINT (1 2)"


class Wrong(Serializable):
    def serialize(self):
        return "text"


def error(call):
    try:
        call()
    except Exception as exc:
        return type(exc).__name__ + ": " + str(exc)
    return None


observed = {
    "same_classes": eo.ComputeResult is ComputeResult and eo.Serializable is Serializable,
    "bytes": ComputeResult(b"raw").value.decode(),
    "json": ComputeResult({"a": [1, 2]}).value.decode(),
    "serializable": ComputeResult(Point()).value.decode(),
    "isnull": [ComputeResult().isnull, ComputeResult(None, tags=["t"]).isnull,
               ComputeResult(0).isnull],
    "null_value": ComputeResult(None, tags=["t"]).value.decode(),
    "attributes": vars(ComputeResult(1, description="d", expires="2999-01-01T00:00:00Z",
                                     extra_properties={"k": 1.5}, geometry="POINT (1 2)",
                                     tags=["x"])),
    "wrong_serialize": error(lambda: ComputeResult(Wrong())),
    "unserialisable": error(lambda: ComputeResult(object())),
    "abstract_serialize": error(lambda: Serializable().serialize()),
    "abstract_deserialize": error(lambda: Serializable.deserialize(b"")),
    "other_name": error(lambda: dl.Function),
    "other_name_earthone": error(lambda: eo.Job),
}
observed["attributes"]["value"] = observed["attributes"]["value"].decode()
print(json.dumps(observed))
"""


def _interpreter(version: str) -> str:
    """A ``pythonX.Y`` executable: pyenv's build of it, else one on PATH that runs."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [str(p) for p in root.glob(f"versions/{version}.*/bin/python{version}")]
    candidates.append(shutil.which(f"python{version}") or "")
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", ""], capture_output=True, check=False).returncode == 0:
            return candidate
    raise AssertionError(f"python{version} is needed to check the job-side stand-ins (pyenv)")


@pytest.mark.parametrize("version", VERSIONS)
def test_stand_ins_behave_alike_on_every_job_python(version: str) -> None:
    run = subprocess.run(
        [_interpreter(version), "-I", "-c", BEHAVIOUR, CLIENT_SHIMS_DIR],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    observed = json.loads(run.stdout)
    assert observed["same_classes"] is True
    assert (observed["bytes"], observed["json"]) == ("raw", '{"a": [1, 2]}')
    assert observed["serializable"] == "POINT (1 2)"
    assert observed["isnull"] == [True, False, False]
    assert observed["null_value"] == "null"
    assert observed["attributes"] == {
        "isnull": False,
        "value": "1",
        "description": "d",
        "expires": "2999-01-01T00:00:00Z",
        "extra_properties": {"k": 1.5},
        "geometry": "POINT (1 2)",
        "tags": ["x"],
    }
    assert observed["wrong_serialize"] == (
        "TypeError: Wrong.serialize() must return bytes, not str"
    )
    assert observed["unserialisable"].startswith("TypeError: cannot store a object as a job")
    assert "Serializable" in observed["unserialisable"]
    assert "must implement serialize()" in observed["abstract_serialize"]
    assert "must implement the classmethod deserialize" in observed["abstract_deserialize"]
    assert "only has ComputeResult and Serializable" in observed["other_name"]
    assert "install descarteslabs" in observed["other_name"]
    assert "install earthdaily-earthone" in observed["other_name_earthone"]


def _shim_module() -> ModuleType:
    """The stand-ins' implementation, loaded without putting ``descarteslabs`` on our path."""
    path = Path(CLIENT_SHIMS_DIR) / "_batch_compute_results.py"
    spec = importlib.util.spec_from_file_location("_shim_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_server_stores_what_the_stand_ins_build() -> None:
    shim = _shim_module()
    assert serialize_return(shim.ComputeResult()) == SerializedResult(None, None)
    tagged = serialize_return(shim.ComputeResult(None, tags={"b", "a"}))
    assert tagged.data == b"null" and tagged.attributes is not None
    assert tagged.attributes["tags"] == ["a", "b"]
    described = serialize_return(
        shim.ComputeResult([1], description="d", extra_properties={"k": "v"})
    )
    assert described.data == b"[1]" and described.attributes is not None
    assert (described.attributes["description"], described.attributes["extra_properties"]) == (
        "d",
        {"k": "v"},
    )
