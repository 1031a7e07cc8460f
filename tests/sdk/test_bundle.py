"""The code bundle: its files exactly as the contract's bundle format, and what is refused."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from bundle_fixtures import recursive, uses_global, uses_module, well_behaved

from batch_compute import BoundGlobalError
from batch_compute._bundle import build_bundle


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in archive.infolist())
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path


def test_entrypoint_is_the_source_then_main() -> None:
    files = _files(build_bundle(well_behaved))
    assert set(files) == {"__dlentrypoint__.py"}
    text = files["__dlentrypoint__.py"].decode()
    assert text.startswith("def well_behaved(a, b=1):")
    assert text.endswith("\n\n\nmain = well_behaved\n")
    namespace: dict[str, object] = {}
    exec(text, namespace)
    assert namespace["main"](2.5) == 4  # type: ignore[operator]


def test_recursion_is_not_a_global() -> None:
    assert "main = recursive" in _files(build_bundle(recursive))["__dlentrypoint__.py"].decode()


def test_requirements_joined_without_trailing_newline() -> None:
    files = _files(build_bundle(well_behaved, requirements=["numpy>=1.2", "attrs==23.1+local"]))
    assert files["requirements.txt"] == b"numpy>=1.2\nattrs==23.1+local"


def test_requirements_from_file_keep_comments_and_options(tmp_path: Path) -> None:
    path = tmp_path / "req.txt"
    path.write_text("# pinned\n-f https://example.org/wheels\nrequests>=2")
    data = build_bundle(well_behaved, requirements=str(path))
    expected = b"# pinned\n-f https://example.org/wheels\nrequests>=2"
    assert _files(data)["requirements.txt"] == expected


def test_bundle_is_reproducible() -> None:
    assert build_bundle(well_behaved, ["attrs"]) == build_bundle(well_behaved, ["attrs"])


def test_dotted_path_imports_the_function(in_tmp: Path) -> None:
    (in_tmp / "mypkg").mkdir()
    (in_tmp / "mypkg" / "__init__.py").write_text("")
    (in_tmp / "mypkg" / "mod.py").write_text(
        "def run(x):\n    return x\n\n\n"
        "class Tool:\n    @staticmethod\n    def go():\n        return 1\n"
    )
    text = _files(build_bundle("mypkg.mod.run"))["__dlentrypoint__.py"].decode()
    assert text == "from mypkg.mod import run\n\n\nmain = run\n"
    text = _files(build_bundle("mypkg.mod.Tool.go"))["__dlentrypoint__.py"].decode()
    assert text == "from mypkg.mod import Tool\n\n\nmain = Tool.go\n"


def test_data_and_modules_at_their_import_paths(in_tmp: Path) -> None:
    pkg = in_tmp / "datapkg"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "util.py").write_text("X = 1\n")
    (pkg / "sub").mkdir()
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "deep.py").write_text("Y = 2\n")
    (pkg / "data" / "d.csv").write_text("a,b\n")
    data = build_bundle(
        well_behaved,
        requirements=["attrs"],
        include_data=["datapkg/data/*.csv"],
        include_modules=["datapkg.util", "datapkg.sub"],
    )
    assert set(_files(data)) == {
        "__dlentrypoint__.py",
        "requirements.txt",
        "datapkg/__init__.py",
        "datapkg/util.py",
        "datapkg/sub/__init__.py",
        "datapkg/sub/deep.py",
        "datapkg/data/d.csv",
    }


@pytest.mark.parametrize("function", [uses_global, uses_module])
def test_globals_are_refused(function: object) -> None:
    with pytest.raises(BoundGlobalError, match="globals"):
        build_bundle(function)  # type: ignore[arg-type]


def test_lambda_builtin_and_unknown_path_are_refused() -> None:
    with pytest.raises(ValueError, match="lambda"):
        build_bundle(lambda: 1)
    with pytest.raises(ValueError, match="plain Python function"):
        build_bundle(len)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot import"):
        build_bundle("no_such_package_xyz.func")


@pytest.mark.parametrize("bad", [["numpy>>1"], ["", "attrs"], ["not a requirement !"]])
def test_invalid_requirements_are_refused(bad: list[str]) -> None:
    with pytest.raises(ValueError, match="Invalid Python requirements"):
        build_bundle(well_behaved, requirements=bad)


def test_missing_data_directory_and_installed_modules_are_refused(in_tmp: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        build_bundle(well_behaved, include_data=["nope.csv"])
    (in_tmp / "adir").mkdir()
    with pytest.raises(ValueError, match="directory"):
        build_bundle(well_behaved, include_data=["adir"])
    with pytest.raises(ValueError, match="installed package"):
        build_bundle(well_behaved, include_modules=["attrs"])
    with pytest.warns(UserWarning, match="matches no file"):
        build_bundle(well_behaved, include_data=["*.nothing"])
    (in_tmp / "__main__.py").write_text("")
    with pytest.raises(ValueError, match="reserves"):
        build_bundle(well_behaved, include_data=[os.path.join(".", "__main__.py")])
