"""Figures for ``serve --executor dask`` on one ``LocalCluster`` (figures, never assertions).

``dask_figures(...)`` starts a LocalCluster of one worker process (4 threads, resources
``cpus=4``) on 127.0.0.1 and a server with ``--executor dask`` on it, then the same with two
workers, and measures: warm single-job latency through the server, trivial jobs end to end on
1 and on 2 workers (with the CPU time per job of the workers' process trees and of the
server), and, on the same 2 workers, raw Dask running the same function per job with
``client.submit`` (the issue's yardstick, target ours >= 0.5x) and in one ``client.map``
(stricter). On 2 workers ours and raw Dask take ``ROUNDS`` turns and each side's best round
counts, so that a slow spell of a shared machine does not decide the ratio. Helpers come
from ``bench.py`` (passed in).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import psutil

__all__ = ["dask_figures"]

WORKER = {"threads_per_worker": 4, "resources": {"cpus": 4, "memory": 16e9}}
#: Jobs per worker slot run before measuring, so that no process starts while measuring.
WARM_JOBS_PER_SLOT = 25
#: Rounds of ours and raw Dask, in turn, on 2 workers (each side's best counts).
ROUNDS = 2


def _add_one(x: int) -> int:
    return x + 1


def _raw_rates(address: str, n: int) -> tuple[float, float]:
    """Tasks/s of ``_add_one`` submitted one ``client.submit`` per task, and in one map."""
    from distributed import Client

    with Client(address) as client:
        client.gather(client.map(_add_one, range(100), pure=False))  # warm
        start = time.perf_counter()
        client.gather([client.submit(_add_one, i, pure=False) for i in range(n)])
        submit = n / (time.perf_counter() - start)
        start = time.perf_counter()
        client.gather(client.map(_add_one, range(n), pure=False))
        mapped = n / (time.perf_counter() - start)
    return submit, mapped


def _tree_cpu(pids: list[int]) -> float:
    """CPU seconds used so far by these processes and everything they started (live)."""
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for process in (root, *root.children(recursive=True)):
                times = process.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def _worker_pids(address: str) -> list[int]:
    from distributed import Client

    with Client(address) as client:
        return list(client.run(os.getpid).values())


def dask_figures(
    bench: Any,
    running_server: Callable[..., Any],
    other: Callable[[Any, str, int], Any],
    create_function: Callable[..., str],
    one_job: Callable[[Any, str, int], float],
    throughput: Callable[..., tuple[float, float, float, dict[str, int]]],
) -> None:
    from distributed import LocalCluster

    n = bench.sizes.sandbox_jobs
    slots = int(WORKER["threads_per_worker"])  # trivial jobs ask for 1 cpu: one per thread
    rates: dict[int, float] = {}
    raw_submit = raw_map = 0.0
    for workers in (1, 2):
        with LocalCluster(
            n_workers=workers, processes=True, host="127.0.0.1", dashboard_address=":0", **WORKER
        ) as cluster:
            address = cluster.scheduler_address
            extra = ("--executor", "dask", "--dask-scheduler", address, "--sandbox", "off")
            with running_server(bench.workers or 64, extra) as (base, pid):
                ours = other(bench, base, pid)
                function_id = create_function(ours, "bench-dask", True)
                # Every slot's supervisor and job process started (as on a cluster in use):
                # a burst spreads over all slots, as the measured one will.
                throughput(ours, function_id, WARM_JOBS_PER_SLOT * slots * workers, 9 * 10**6)
                if workers == 1:
                    warm = [one_job(ours, function_id, i) for i in range(bench.sizes.warm_samples)]
                    p50 = statistics.median(warm) * 1000
                    bench.add(f"dask: warm single job p50 of {len(warm)}", p50, "(info) ms")
                pids = _worker_pids(address)
                # On 2 workers, ours and raw Dask take turns, and each keeps its best round:
                # a slow spell of a shared machine then does not decide the ratio.
                for round_ in range(ROUNDS if workers == 2 else 1):
                    workers_cpu, server_cpu = _tree_cpu(pids), _tree_cpu([pid])
                    rate, *_ = throughput(ours, function_id, n, (round_ + 1) * 10**6)
                    workers_cpu = _tree_cpu(pids) - workers_cpu
                    server_cpu = _tree_cpu([pid]) - server_cpu
                    if rate > rates.get(workers, 0.0):
                        rates[workers], cpu = rate, (workers_cpu, server_cpu)
                    if workers == 2:
                        submit, mapped = _raw_rates(address, n)
                        raw_submit, raw_map = max(raw_submit, submit), max(raw_map, mapped)
                best = f", best of {ROUNDS}" if workers == 2 else ""
                bench.add(
                    f"dask, {workers} worker(s): {n:,} jobs end to end{best}",
                    rates[workers],
                    "(info) jobs/s",
                )
                bench.add(
                    f"dask, {workers} worker(s): CPU per job, workers / server",
                    f"{cpu[0] / n * 1000:.2f} / {cpu[1] / n * 1000:.2f} ms",
                    "(info)",
                )
    one, two = rates[1], rates[2]
    bench.add("dask: 2 workers / 1 worker", f"{two / one:.2f}" if one else "-", "(info)")
    bench.add(
        f"raw client.submit per task, 2 workers ({n:,}), best of {ROUNDS}",
        raw_submit,
        "(info) tasks/s",
    )
    bench.add(f"raw client.map, 2 workers ({n:,}), best of {ROUNDS}", raw_map, "(info) tasks/s")
    ratio = two / raw_submit if raw_submit else 0.0
    bench.add("dask: ours / raw client.submit", f"{ratio:.2f}", ">= 0.50", ratio >= 0.5)
    stricter = two / raw_map if raw_map else 0.0
    bench.add("dask: ours / raw client.map", f"{stricter:.2f}", "(info)")
