"""Figures for ``serve --executor dask`` on one ``LocalCluster`` (figures, never assertions).

``dask_figures(...)`` starts a LocalCluster of one worker process (4 threads, resources
``cpus=4``) on 127.0.0.1 and a server with ``--executor dask`` on it, then the same with two
workers, and measures: warm single-job latency through the server, trivial jobs end to end on
1 and on 2 workers, and raw ``client.map`` of the same function on the same 2 workers (the
ratio ours / raw Dask has the target >= 0.5). Helpers come from ``bench.py`` (passed in).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

__all__ = ["dask_figures"]

WORKER = {"threads_per_worker": 4, "resources": {"cpus": 4, "memory": 16e9}}


def _add_one(x: int) -> int:
    return x + 1


def _raw_rate(address: str, n: int) -> float:
    from distributed import Client

    with Client(address) as client:
        client.gather(client.map(_add_one, range(100), pure=False))  # warm
        start = time.perf_counter()
        client.gather(client.map(_add_one, range(n), pure=False))
        return n / (time.perf_counter() - start)


def dask_figures(
    bench: Any,
    running_server: Callable[..., Any],
    other: Callable[[Any, str, int], Any],
    create_function: Callable[..., str],
    one_job: Callable[[Any, str, int], float],
    throughput: Callable[[Any, str, int], tuple[float, float, float, dict[str, int]]],
) -> None:
    from distributed import LocalCluster

    n = bench.sizes.sandbox_jobs
    rates: dict[int, float] = {}
    for workers in (1, 2):
        with LocalCluster(
            n_workers=workers, processes=True, host="127.0.0.1", dashboard_address=":0", **WORKER
        ) as cluster:
            address = cluster.scheduler_address
            extra = ("--executor", "dask", "--dask-scheduler", address, "--sandbox", "off")
            with running_server(bench.workers or 64, extra) as (base, pid):
                ours = other(bench, base, pid)
                function_id = create_function(ours, "bench-dask", True)
                for x in range(2 * workers):
                    one_job(ours, function_id, -1 - x)  # pools and job processes are warm
                if workers == 1:
                    warm = [one_job(ours, function_id, i) for i in range(bench.sizes.warm_samples)]
                    p50 = statistics.median(warm) * 1000
                    bench.add(f"dask: warm single job p50 of {len(warm)}", p50, "(info) ms")
                rates[workers], *_ = throughput(ours, function_id, n)
                bench.add(
                    f"dask, {workers} worker(s): {n:,} jobs end to end",
                    rates[workers],
                    "(info) jobs/s",
                )
            if workers == 2:
                raw = _raw_rate(address, n)
    one, two = rates[1], rates[2]
    bench.add("dask: 2 workers / 1 worker", f"{two / one:.2f}" if one else "-", "(info)")
    bench.add(f"raw client.map of the same function, 2 workers ({n:,})", raw, "(info) tasks/s")
    ratio = two / raw if raw else 0.0
    bench.add("dask: ours / raw Dask", f"{ratio:.2f}", ">= 0.50", ratio >= 0.5)
