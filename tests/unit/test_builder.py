"""Builder: real zips built in tmp_path, checked, unpacked and logged."""

from __future__ import annotations

import gzip
import re
import struct
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from batch_compute_mock.builder.build import build_function, gzip_log
from batch_compute_mock.builder.bundle import (
    BundleError,
    BundleLimits,
    extract_bundle,
    inspect_bundle,
)
from batch_compute_mock.builder.requirements import (
    Outcome,
    check_requirements,
    requirements_satisfied,
)

ENTRY = "def add(a, b):\n    return a + b\n\n\nmain = add\n"
GOOD = {
    "__dlentrypoint__.py": ENTRY,
    "mypkg/__init__.py": "",
    "mypkg/util.py": "def helper():\n    return 1\n",
    "mypkg/data/d.csv": "a,b\n1,2\n",
    "requirements.txt": "# pinned loosely\nattrs>=20\n\n-i https://pypi.example/simple\npackaging",
}
SMALL = BundleLimits(max_total_bytes=10_000, max_file_bytes=5_000, max_files=10)
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z ")


def make_zip(path: Path, entries: Mapping[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(zipfile.ZipInfo(name), content, zipfile.ZIP_DEFLATED)
    return path


def bundle(tmp_path: Path, changes: dict[str, str | bytes | None] | None = None) -> Path:
    """The good bundle with entries replaced (a value) or removed (None)."""
    entries: dict[str, str | bytes] = dict(GOOD)
    for name, content in (changes or {}).items():
        if content is None:
            entries.pop(name, None)
        else:
            entries[name] = content
    return make_zip(tmp_path / "bundle.zip", entries)


def failed_build(zip_path: Path, tmp_path: Path, limits: BundleLimits | None = None) -> str:
    result = build_function(zip_path, tmp_path / "out" / "code", limits)
    assert result.ok is False
    assert result.reason
    assert result.log.rstrip("\n").splitlines()[-1].endswith(f"Build failed: {result.reason}")
    assert not (tmp_path / "out" / "code").exists()
    return result.log


# --- the good path ---------------------------------------------------------------------------


def test_good_bundle_builds_and_unpacks(tmp_path: Path) -> None:
    dest = tmp_path / "functions" / "F1" / "code"
    result = build_function(make_zip(tmp_path / "b.zip", GOOD), dest)
    assert result.ok, result.log
    assert result.reason is None
    lines = result.log.splitlines()
    assert all(TIMESTAMP.match(line) for line in lines)
    assert lines[-1].endswith("Build succeeded")
    for name in GOOD:
        assert name in result.log
        assert (dest / name).read_text() == GOOD[name]
    assert "defines main (assignment at line 5)" in result.log
    assert re.search(r"attrs>=20: satisfied - attrs \S+ is installed", result.log)
    assert re.search(r"packaging: satisfied - packaging \S+ is installed", result.log)
    assert "-i https://pypi.example/simple: skipped - pip option ignored" in result.log
    assert "pinned loosely" not in result.log
    assert [p.name for p in dest.parent.iterdir()] == ["code"]  # no temp dirs left


def test_rebuild_replaces_and_failed_build_keeps_previous(tmp_path: Path) -> None:
    dest = tmp_path / "code"
    assert build_function(make_zip(tmp_path / "a.zip", GOOD), dest).ok
    (dest / "stale.txt").write_text("old")
    newer = dict(GOOD, **{"mypkg/util.py": "VERSION = 2\n"})
    assert build_function(make_zip(tmp_path / "b.zip", newer), dest).ok
    assert (dest / "mypkg/util.py").read_text() == "VERSION = 2\n"
    assert not (dest / "stale.txt").exists()
    bad = make_zip(tmp_path / "c.zip", {"../evil.py": "x"})
    assert not build_function(bad, dest).ok
    assert (dest / "mypkg/util.py").read_text() == "VERSION = 2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip", "b.zip", "c.zip", "code"]


def test_no_requirements_file(tmp_path: Path) -> None:
    result = build_function(bundle(tmp_path, {"requirements.txt": None}), tmp_path / "code")
    assert result.ok, result.log
    assert "No requirements.txt; nothing to check" in result.log


@pytest.mark.parametrize(
    ("source", "how"),
    [
        ("def main():\n    return 1\n", "def at line 1"),
        ("async def main():\n    return 1\n", "def at line 1"),
        ("class main:\n    pass\n", "class at line 1"),
        ("from os.path import join as main\n", "import at line 1"),
        ("from os.path import join\nmain = join\n", "assignment at line 2"),
        ("from mypkg.util import main\n", "import at line 1"),
        ("import os.path as main\n", "import at line 1"),
        ("main: object = print\n", "assignment at line 1"),
        ("main, other = print, len\n", "assignment at line 1"),
        ("try:\n    main = print\nexcept ImportError:\n    main = len\n", "assignment at line 2"),
        (
            "import sys\nif sys.version_info >= (3,):\n    def main():\n        pass\n",
            "def at line 3",
        ),
    ],
)
def test_main_definitions_accepted(tmp_path: Path, source: str, how: str) -> None:
    report = inspect_bundle(bundle(tmp_path, {"__dlentrypoint__.py": source}))
    assert report.main_definition == how


# --- unsafe names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("../evil.py", "'..'"),
        ("mypkg/../../evil.py", "'..'"),
        ("/etc/evil.py", "absolute path"),
        ("mypkg\\evil.py", "backslash"),
        ("C:/evil.py", "drive letter"),
        ("mypkg//evil.py", "empty or '.' path segment"),
        ("./evil.py", "empty or '.' path segment"),
    ],
)
def test_unsafe_names_rejected(tmp_path: Path, name: str, rule: str) -> None:
    zip_path = make_zip(tmp_path / "b.zip", dict(GOOD, **{name: "print('pwned')"}))
    assert name in zipfile.ZipFile(zip_path).namelist()  # the zip really holds that name
    log = failed_build(zip_path, tmp_path)
    assert rule in log
    assert repr(name) in log
    assert not list(tmp_path.rglob("evil.py"))
    assert not Path("/etc/evil.py").exists()


def test_nul_in_a_stored_name_is_refused_not_truncated(tmp_path: Path) -> None:
    # zipfile cannot write such a name, so the bytes are patched in both headers.
    clean = make_zip(tmp_path / "clean.zip", dict(GOOD, **{"aQQb.py": "x = 1\n"}))
    zip_path = tmp_path / "b.zip"
    zip_path.write_bytes(clean.read_bytes().replace(b"aQQb.py", b"a\x00Qb.py"))
    assert "a" in zipfile.ZipFile(zip_path).namelist()  # what zipfile alone would unpack
    log = failed_build(zip_path, tmp_path)
    assert "contains a NUL character" in log
    assert not (tmp_path / "out").exists()


def test_symlink_entry_rejected(tmp_path: Path) -> None:
    zip_path = tmp_path / "b.zip"
    make_zip(zip_path, GOOD)
    with zipfile.ZipFile(zip_path, "a") as archive:
        link = zipfile.ZipInfo("mypkg/link")
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    log = failed_build(zip_path, tmp_path)
    assert "'mypkg/link' is a symbolic link" in log


def test_duplicate_names_rejected(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "b.zip", GOOD)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with zipfile.ZipFile(zip_path, "a") as archive:
            archive.writestr("mypkg/util.py", "evil = True\n")
    assert "appears more than once" in failed_build(zip_path, tmp_path)


def test_file_used_as_directory_rejected(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "b.zip", dict(GOOD, **{"mypkg/util.py/x": "y"}))
    assert "is a file but other entries use it as a directory" in failed_build(zip_path, tmp_path)


def test_directory_entries_are_fine(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "b.zip", {"mypkg/": b"", "empty/": b"", **GOOD})
    dest = tmp_path / "code"
    report = extract_bundle(zip_path, dest)
    assert (dest / "empty").is_dir()
    assert "mypkg/" not in [f.name for f in report.files]


# --- sizes and zip bombs ---------------------------------------------------------------------


def test_total_size_cap(tmp_path: Path) -> None:
    entries = dict(GOOD, **{f"mypkg/data/{i}.bin": "x" * 4_000 for i in range(3)})
    log = failed_build(make_zip(tmp_path / "b.zip", entries), tmp_path, SMALL)
    assert "at most 10000 bytes are allowed" in log


def test_per_file_cap(tmp_path: Path) -> None:
    log = failed_build(bundle(tmp_path, {"mypkg/data/big.bin": "x" * 6_000}), tmp_path, SMALL)
    assert "'mypkg/data/big.bin' is 6000 bytes" in log
    assert "at most 5000 bytes per file" in log


def test_file_count_cap(tmp_path: Path) -> None:
    entries = dict(GOOD, **{f"mypkg/m{i}.py": "" for i in range(10)})
    log = failed_build(make_zip(tmp_path / "b.zip", entries), tmp_path, SMALL)
    assert "has 15 entries; at most 10 are allowed" in log


def test_zip_bomb_over_size_cap(tmp_path: Path) -> None:
    limits = BundleLimits(max_total_bytes=1024 * 1024, max_file_bytes=1024 * 1024)
    zip_path = bundle(tmp_path, {"mypkg/data/zeros.bin": b"\0" * (8 * 1024 * 1024)})
    assert zip_path.stat().st_size < 64 * 1024
    assert "at most 1048576 bytes" in failed_build(zip_path, tmp_path, limits)


def test_zip_bomb_compression_ratio(tmp_path: Path) -> None:
    limits = BundleLimits(max_compression_ratio=100)
    zip_path = bundle(tmp_path, {"mypkg/data/zeros.bin": b"\0" * (2 * 1024 * 1024)})
    log = failed_build(zip_path, tmp_path, limits)
    assert "'mypkg/data/zeros.bin' has a compression ratio of" in log
    assert "zip bomb" in log


def _set_central_size(zip_path: Path, name: str, size: int) -> None:
    """Rewrite one entry's uncompressed size in the central directory (a lying header)."""
    data = bytearray(zip_path.read_bytes())
    encoded = name.encode()
    at = 0
    while (at := data.find(b"PK\x01\x02", at + 1)) != -1:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_len] == encoded:
            struct.pack_into("<I", data, at + 24, size)
            zip_path.write_bytes(bytes(data))
            return
    raise AssertionError(f"{name} not found")


def test_header_understating_size_is_caught(tmp_path: Path) -> None:
    zip_path = bundle(tmp_path, {"mypkg/data/zeros.bin": b"\0" * (2 * 1024 * 1024)})
    _set_central_size(zip_path, "mypkg/data/zeros.bin", 100)
    assert zipfile.ZipFile(zip_path).getinfo("mypkg/data/zeros.bin").file_size == 100
    log = failed_build(zip_path, tmp_path, SMALL)
    assert "The bundle is corrupt" in log
    assert "CRC" in log


def test_header_overstating_size_is_rejected_before_unpacking(tmp_path: Path) -> None:
    zip_path = bundle(tmp_path)
    _set_central_size(zip_path, "mypkg/data/d.csv", 2**31)
    assert "at most" in failed_build(zip_path, tmp_path)


# --- corrupt archives ------------------------------------------------------------------------


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "b.zip"
    path.write_bytes(b"this is not a zip file at all")
    assert "not a valid zip archive" in failed_build(path, tmp_path)


def test_truncated_zip(tmp_path: Path) -> None:
    path = bundle(tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert "not a valid zip archive" in failed_build(path, tmp_path)


@pytest.mark.parametrize(
    "method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
)
def test_damaged_entry_data(tmp_path: Path, method: int) -> None:
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, content in dict(GOOD, **{"mypkg/data/d.csv": "row,value\n" * 500}).items():
            archive.writestr(name, content)
    data = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).getinfo("mypkg/data/d.csv")
    start = info.header_offset + 30 + len(info.filename.encode())
    for i in range(start + 5, start + 15):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    assert "The bundle is corrupt at entry 'mypkg/data/d.csv'" in failed_build(path, tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "b.zip"
    path.write_bytes(b"")
    assert "not a valid zip archive" in failed_build(path, tmp_path)


def test_missing_bundle_file(tmp_path: Path) -> None:
    assert "could not be read" in failed_build(tmp_path / "nope.zip", tmp_path)


def test_encrypted_flag_rejected(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "b.zip", GOOD)
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")  # first central entry: set the 'encrypted' flag bit
    struct.pack_into("<H", data, at + 8, struct.unpack_from("<H", data, at + 8)[0] | 1)
    path.write_bytes(bytes(data))
    assert "encrypted" in failed_build(path, tmp_path)


# --- the entrypoint --------------------------------------------------------------------------


def test_missing_entrypoint(tmp_path: Path) -> None:
    path = bundle(tmp_path, {"__dlentrypoint__.py": None})
    assert "no __dlentrypoint__.py at its root" in failed_build(path, tmp_path)


def test_entrypoint_not_at_root(tmp_path: Path) -> None:
    path = bundle(tmp_path, {"__dlentrypoint__.py": None, "mypkg/__dlentrypoint__.py": ENTRY})
    assert "no __dlentrypoint__.py at its root" in failed_build(path, tmp_path)


def test_syntax_error_reports_line(tmp_path: Path) -> None:
    path = bundle(tmp_path, {"__dlentrypoint__.py": "x = 1\ndef main(:\n    pass\n"})
    assert "__dlentrypoint__.py has a syntax error at line 2" in failed_build(path, tmp_path)


def test_null_byte_in_entrypoint(tmp_path: Path) -> None:
    path = bundle(tmp_path, {"__dlentrypoint__.py": b"main = 1\x00\n"})
    assert "__dlentrypoint__.py" in failed_build(path, tmp_path)


@pytest.mark.parametrize(
    "source",
    [
        "def add(a, b):\n    return a + b\n",
        "def outer():\n    main = 1\n    return main\n",
        "class Holder:\n    main = print\n",
        "from os.path import *\n",
        "main.attr = 1\n",
    ],
)
def test_no_main(tmp_path: Path, source: str) -> None:
    path = bundle(tmp_path, {"__dlentrypoint__.py": source})
    assert "does not define a top-level 'main'" in failed_build(path, tmp_path)


# --- requirements ----------------------------------------------------------------------------


def test_requirement_missing(tmp_path: Path) -> None:
    path = bundle(tmp_path, {"requirements.txt": "attrs\ndefinitely-not-installed-pkg==1.0"})
    log = failed_build(path, tmp_path)
    assert "definitely-not-installed-pkg==1.0: missing" in log
    assert (
        "Build failed: requirements not satisfied: definitely-not-installed-pkg==1.0 (missing)"
        in log
    )


def test_requirement_wrong_version(tmp_path: Path) -> None:
    log = failed_build(bundle(tmp_path, {"requirements.txt": "attrs<1"}), tmp_path)
    assert re.search(r"attrs \S+ is installed, but <1 is required", log)
    assert "attrs<1 (wrong version)" in log


def test_requirement_unparsable(tmp_path: Path) -> None:
    log = failed_build(bundle(tmp_path, {"requirements.txt": "attrs>=>1"}), tmp_path)
    assert "attrs>=>1: unparsable - cannot be parsed" in log


def test_tolerated_lines(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "# a comment",
            "",
            "--index-url https://pypi.example/simple",
            "-r other.txt",
            "https://example.test/pkg-1.0.whl",
            "./local/pkg",
            "attrs>=20  # inline comment",
            "packaging>=20 \\",
            "    --hash=sha256:abcdef",
            'definitely-not-installed-pkg; python_version < "3"',
        ]
    )
    result = build_function(bundle(tmp_path, {"requirements.txt": text}), tmp_path / "code")
    assert result.ok, result.log
    assert "URL or path not installed" in result.log
    assert "--hash=sha256:abcdef" in result.log and "ignored" in result.log
    assert "does not apply here" in result.log


def test_check_requirements_outcomes() -> None:
    checks = check_requirements(
        "attrs\nAttrs>=1\nPACKAGING[extra]\nnope-nope-nope\nattrs<1\n!!!\n-e .\n# c\n\n"
        "attrs @ https://example.test/attrs.whl"
    )
    assert [(c.line_number, c.outcome) for c in checks] == [
        (1, Outcome.SATISFIED),
        (2, Outcome.SATISFIED),
        (3, Outcome.SATISFIED),
        (4, Outcome.MISSING),
        (5, Outcome.WRONG_VERSION),
        (6, Outcome.UNPARSABLE),
        (7, Outcome.SKIPPED),
        (10, Outcome.SATISFIED),
    ]
    assert checks[0].installed and checks[0].name == "attrs"
    assert "extras not checked" in checks[2].message
    assert "URL not fetched" in checks[7].message
    assert not requirements_satisfied(checks)
    assert requirements_satisfied([c for c in checks if c.line_number in (1, 2, 3, 7)])
    assert check_requirements("") == []
    assert check_requirements("# only\n\n   \n") == []


def _fake_distribution(site: Path, name: str, version: str) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def test_local_and_prerelease_versions_and_name_normalisation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    _fake_distribution(site, "Fake-Local.Pkg", "1.2.3+cpu")
    _fake_distribution(site, "fake-pre", "2.0rc1")
    monkeypatch.syspath_prepend(str(site))
    checks = check_requirements(
        "fake-local-pkg==1.2.3\nfake_local.pkg>=1.2,<=1.2.3\nFAKE.LOCAL-PKG<1.2.3\n"
        "fake-pre>=1\nfake-pre==2.0rc1\nfake_pre<2.0rc1"
    )
    assert [c.outcome for c in checks] == [
        Outcome.SATISFIED,
        Outcome.SATISFIED,
        Outcome.WRONG_VERSION,
        Outcome.SATISFIED,
        Outcome.SATISFIED,
        Outcome.WRONG_VERSION,
    ]
    assert checks[0].installed == "1.2.3+cpu"


def test_gzip_log_round_trip() -> None:
    text = "2024-05-01T12:00:00.000000Z Build succeeded ✓\n"
    data = gzip_log(text)
    assert data[:2] == b"\x1f\x8b"
    assert gzip.decompress(data).decode("utf-8") == text
    assert gzip_log(text) == data


def test_inspect_raises_bundle_error(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"no __dlentrypoint__\.py"):
        inspect_bundle(make_zip(tmp_path / "b.zip", {"x.py": ""}))
