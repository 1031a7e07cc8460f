"""Executor throughput and latency figures (not a test: figures, never assertions).

``bench_pool(n)`` runs ``n`` trivial ``return x + 1`` jobs through ``WorkerPool(max_workers=2)``
and the same calls through ``concurrent.futures.ProcessPoolExecutor(2)`` as the floor, then
measures warm single-job latency (p50/p95) and the first job on a cold pool.

    PYTHONPATH=mockserver python scripts/bench_executor.py [n]
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from batch_compute_mock.executor import JobSpec, WorkerPool

__all__ = ["bench_pool"]

_ENTRYPOINT = "def add_one(x):\n    return x + 1\n\n\nmain = add_one\n"


def _add_one(x: int) -> int:
    return x + 1


def _spec(root: Path, bundle: Path, index: int) -> JobSpec:
    job_id = f"job-{index}"
    return JobSpec(
        job_id=job_id,
        function_id="bench",
        bundle_dir=bundle,
        work_dir=root / "work" / job_id,
        log_path=root / "logs" / f"{job_id}.ndjson",
        result_path=root / "results" / job_id,
        args=[index],
        timeout_s=60,
        memory_mib=512,
    )


async def _throughput(root: Path, bundle: Path, n: int) -> tuple[float, float, int]:
    async with WorkerPool(max_workers=2) as pool:
        await asyncio.gather(*(pool.run(_spec(root, bundle, -i - 1)) for i in range(2)))  # warm
        start_cpu, start = time.process_time(), time.perf_counter()
        outcomes = await asyncio.gather(*(pool.run(_spec(root, bundle, i)) for i in range(n)))
        elapsed, parent_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    failures = sum(1 for o in outcomes if not o.succeeded)
    return elapsed, parent_cpu, failures


async def _latency(root: Path, bundle: Path, samples: int) -> tuple[float, list[float]]:
    async with WorkerPool(max_workers=1) as pool:
        start = time.perf_counter()
        await pool.run(_spec(root, bundle, 10**6))
        cold = time.perf_counter() - start
        timings = []
        for i in range(samples):
            start = time.perf_counter()
            await pool.run(_spec(root, bundle, 10**6 + 1 + i))
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
        root = Path(tmp)
        bundle = root / "bundle"
        bundle.mkdir()
        (bundle / "__dlentrypoint__.py").write_text(_ENTRYPOINT)
        elapsed, parent_cpu, failures = asyncio.run(_throughput(root, bundle, n))
        cold, timings = asyncio.run(_latency(root, bundle, 200))
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
