"""Parsing of the two resource sizes people write by hand: CPUs and memory.

Users write ``"0.5vCPU"``, ``2``, ``"2GB"`` or ``"1536Mi"``; the wire wants a float number of CPUs
and an integer number of MiB. Parsing happens client-side so a typo fails before any request.
Whether the combination is allowed is the server's call (it answers 422 with the reason).
"""

from __future__ import annotations

import math
import re

__all__ = ["Cpus", "Memory", "parse_cpus", "parse_memory"]

#: What ``Function(cpus=...)`` accepts: a number or a string such as ``"0.5vCPU"``.
Cpus = int | float | str
#: What ``Function(memory=...)`` accepts: MiB as a number, or a string such as ``"2GB"``.
Memory = int | float | str

_CPUS = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:v?cpus?)?\s*$", re.IGNORECASE)
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$", re.IGNORECASE)
_MIB_PER_UNIT = {"": 1, "mb": 1, "mi": 1, "mib": 1, "gb": 1024, "gi": 1024, "gib": 1024}


def parse_cpus(value: Cpus) -> float:
    """CPUs as a float: ``0.5``, ``"0.5vCPU"``, ``"2"``, ``"8VCPUs"`` all work."""
    if isinstance(value, bool):
        raise ValueError(f"invalid cpus {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        match = _CPUS.match(str(value))
        if match is None:
            raise ValueError(f"invalid cpus {value!r}: expected e.g. 0.5, 2 or '2vCPU'")
        number = float(match.group(1))
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"invalid cpus {value!r}: must be a positive number")
    return number


def parse_memory(value: Memory) -> int:
    """Memory in MiB: numbers are MiB; strings take a MB/Mi (MiB) or GB/Gi (GiB) suffix."""
    if isinstance(value, bool):
        raise ValueError(f"invalid memory {value!r}")
    if isinstance(value, int | float):
        mib = float(value)
    else:
        match = _MEMORY.match(str(value))
        unit = match.group(2).lower() if match else None
        if match is None or unit not in _MIB_PER_UNIT:
            raise ValueError(
                f"unable to convert memory {value!r} to megabytes: expected e.g. 2048, '2GB', "
                "'2Gi', '1536MB' or '1536Mi'"
            )
        mib = float(match.group(1)) * _MIB_PER_UNIT[unit]
    if not math.isfinite(mib) or mib <= 0 or mib != int(mib):
        raise ValueError(f"invalid memory {value!r}: must be a positive whole number of MiB")
    return int(mib)
