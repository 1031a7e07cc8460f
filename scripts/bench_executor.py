"""Executor throughput and latency figures (not a test: figures, never assertions).

``bench_pool(n)`` runs ``n`` trivial ``return x + 1`` jobs through ``LocalExecutor(slots=2)``
and the same calls through ``concurrent.futures.ProcessPoolExecutor(2)`` as the floor, then
measures warm single-job latency (p50/p95) and the first job on a cold pool.

    PYTHONPATH=mockserver python scripts/bench_executor.py [n]
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from batch_compute_mock.blobs import LocalBlobStore
from batch_compute_mock.blobs.keys import bundle_key, job_log_key, result_key
from batch_compute_mock.executors import JobSpec
from batch_compute_mock.executors.local.pool import LocalExecutor

__all__ = ["bench_pool"]

_ENTRYPOINT = "def add_one(x):\n    return x + 1\n\n\nmain = add_one\n"


def _add_one(x: int) -> int:
    return x + 1


def _spec(index: int) -> JobSpec:
    job_id = f"job-{index}"
    return JobSpec(
        job_id=job_id,
        function_id="bench",
        bundle_key=bundle_key("bench"),
        log_key=job_log_key(job_id),
        result_key=result_key(job_id),
        args=[index],
        timeout_s=60,
        memory_mib=512,
    )


def _executor(root: Path, slots: int) -> LocalExecutor:
    blobs = LocalBlobStore(root / "blobs")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__dlentrypoint__.py", _ENTRYPOINT)
    blobs.write_bytes(bundle_key("bench"), buffer.getvalue())
    return LocalExecutor(
        slots=slots, blobs=blobs, scratch_dir=root / "scratch", cache_dir=root / "cache"
    )


async def _throughput(root: Path, n: int) -> tuple[float, float, int]:
    async with _executor(root, 2) as pool:
        await pool.start()
        await asyncio.gather(*(pool.run(_spec(-i - 1)) for i in range(2)))  # warm
        start_cpu, start = time.process_time(), time.perf_counter()
        outcomes = await asyncio.gather(*(pool.run(_spec(i)) for i in range(n)))
        elapsed, parent_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    failures = sum(1 for o in outcomes if not o.succeeded)
    return elapsed, parent_cpu, failures


async def _latency(root: Path, samples: int) -> tuple[float, list[float]]:
    async with _executor(root, 1) as pool:
        await pool.start()
        start = time.perf_counter()
        await pool.run(_spec(10**6))
        cold = time.perf_counter() - start
        timings = []
        for i in range(samples):
            start = time.perf_counter()
            await pool.run(_spec(10**6 + 1 + i))
            timings.append(time.perf_counter() - start)
    return cold, timings


def _floor(n: int) -> float:
    with concurrent.futures.ProcessPoolExecutor(2) as executor:
        list(executor.map(_add_one, range(10)))  # start the processes
        start = time.perf_counter()
        list(executor.map(_add_one, range(n)))  # one round trip per call (chunksize=1)
        return time.perf_counter() - start


def bench_pool(n: int = 10_000) -> dict[str, Any]:
    """Jobs/s through the pool and the ProcessPoolExecutor floor; warm p50/p95; cold first job."""
    with tempfile.TemporaryDirectory(prefix="bench-executor-") as tmp:
        elapsed, parent_cpu, failures = asyncio.run(_throughput(Path(tmp) / "a", n))
        cold, timings = asyncio.run(_latency(Path(tmp) / "b", 200))
    floor = _floor(n)
    timings.sort()
    return {
        "jobs": n,
        "pool_jobs_per_s": round(n / elapsed),
        "pool_parent_cpu_us_per_job": round(parent_cpu / n * 1e6, 1),
        "pool_failures": failures,
        "process_pool_executor_calls_per_s": round(n / floor),
        "warm_latency_p50_ms": round(statistics.median(timings) * 1000, 2),
        "warm_latency_p95_ms": round(timings[int(len(timings) * 0.95)] * 1000, 2),
        "cold_first_job_ms": round(cold * 1000, 1),
    }


if __name__ == "__main__":
    figures = bench_pool(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
    for key, value in figures.items():
        print(f"{key:36} {value}")
