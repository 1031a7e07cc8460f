"""Cpus and Memory parsing: hand-written sizes become the wire's numbers, or a clear error."""

from __future__ import annotations

import pytest

from batch_compute._units import parse_cpus, parse_memory


@pytest.mark.parametrize(
    ("given", "expected"),
    [(0.25, 0.25), (1, 1.0), ("0.5vCPU", 0.5), ("2", 2.0), ("8VCPUs", 8.0), ("16 vcpu", 16.0)],
)
def test_cpus(given: object, expected: float) -> None:
    assert parse_cpus(given) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("given", ["", "two", "-1", "0", True, "1.5GB"])
def test_cpus_rejected(given: object) -> None:
    with pytest.raises(ValueError):
        parse_cpus(given)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (512, 512),
        ("2048", 2048),
        ("2GB", 2048),
        ("2gi", 2048),
        ("1536Mi", 1536),
        ("1536MB", 1536),
        ("1.5GB", 1536),
        ("0.5GB", 512),
    ],
)
def test_memory(given: object, expected: int) -> None:
    assert parse_memory(given) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("given", ["", "lots", "2TB", "-1GB", 0, "1.3MB", False])
def test_memory_rejected(given: object) -> None:
    with pytest.raises(ValueError):
        parse_memory(given)  # type: ignore[arg-type]
