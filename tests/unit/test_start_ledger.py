"""The start ledger: one append-only file whose replay names the attempts that began and were
never settled, across a crash (a new ledger over the same directory)."""

from __future__ import annotations

from pathlib import Path

from batch_compute_mock.scheduler.ledger import StartLedger


def test_a_new_ledger_over_the_same_directory_finds_the_unsettled_attempts(tmp_path: Path) -> None:
    ledger = StartLedger(tmp_path)
    ledger.began("a", 1)
    ledger.began("b", 1)
    ledger.began("a", 2)  # a retry of a: the later attempt counts
    ledger.settled(["b"])
    # no close: a crashed server never closes it
    assert StartLedger(tmp_path).entries() == {"a": 2}


def test_a_line_torn_by_a_crash_is_ignored_and_later_lines_are_read(tmp_path: Path) -> None:
    ledger = StartLedger(tmp_path)
    ledger.began("a", 1)
    ledger.close()
    with (tmp_path / "ledger").open("a") as handle:
        handle.write("+b")  # a power loss in the middle of a line
    reopened = StartLedger(tmp_path)
    reopened.began("c", 3)
    assert StartLedger(tmp_path).entries() == {"a": 1, "c": 3}


def test_settling_what_never_began_writes_nothing(tmp_path: Path) -> None:
    ledger = StartLedger(tmp_path)
    size = (tmp_path / "ledger").stat().st_size
    ledger.settled(["x", "y"])
    assert (tmp_path / "ledger").stat().st_size == size


def test_the_file_is_compacted_to_the_open_entries_when_it_grows(tmp_path: Path) -> None:
    ledger = StartLedger(tmp_path, compact_bytes=4096)
    ledger.began("kept", 7)
    for index in range(500):
        ledger.began(f"job-{index}", 1)
        ledger.settled([f"job-{index}"])
    assert (tmp_path / "ledger").stat().st_size < 4096
    assert StartLedger(tmp_path).entries() == {"kept": 7}


def test_clear_forgets_everything(tmp_path: Path) -> None:
    ledger = StartLedger(tmp_path)
    ledger.began("a", 1)
    ledger.clear()
    ledger.began("b", 1)
    assert ledger.entries() == {"b": 1}
    assert StartLedger(tmp_path).entries() == {"b": 1}


def test_an_upgrade_folds_the_older_layouts_files_into_the_ledger_once(tmp_path: Path) -> None:
    # What a server from before the single file left when it crashed: a file per start,
    # named after the job and holding the attempt number (an empty one: torn by the crash).
    (tmp_path / "job-a").write_text("2")
    (tmp_path / "job-b").write_text("")
    (tmp_path / "notes.txt").write_text("not a start")  # anything else stays as it was
    ledger = StartLedger(tmp_path)
    assert ledger.entries() == {"job-a": 2, "job-b": 0}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ledger", "notes.txt"]
    ledger.settled(["job-b"])
    # no close: a crash now still knows job-a began, from the new file alone
    assert StartLedger(tmp_path).entries() == {"job-a": 2}


def test_an_older_start_of_a_job_the_ledger_also_holds_keeps_the_later_attempt(
    tmp_path: Path,
) -> None:
    StartLedger(tmp_path).began("job-a", 3)
    (tmp_path / "job-a").write_text("1")
    assert StartLedger(tmp_path).entries() == {"job-a": 3}
    assert not (tmp_path / "job-a").exists()
