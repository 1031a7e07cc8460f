"""The bench's ``scale`` section at a tiny size, so it cannot rot (figures are never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench.py"


def test_scale_section_prints_insert_rates_and_search_figures() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--only", "scale", "--scale-jobs", "60000"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "bulk insert rate, jobs 0-30,000" in out
    assert "bulk insert rate, jobs 30,000-60,000" in out
    assert "server CPU per 1,000 jobs inserted, jobs 30,000-60,000" in out
    assert "search pending sort=-creation_date, page 1 over 60,000 jobs" in out
    assert "count pending (limit=0) over 60,000 jobs" in out
