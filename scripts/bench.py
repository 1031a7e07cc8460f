"""Performance figures against a real ``batch-compute serve`` process (figures, never assertions).

Starts the server on a free loopback port with a temporary data dir, measures, prints a table of
figure / value / target, and stops the server. Sections (``--only NAME``, repeatable):

* ``submit``: 10 bulk requests of 1,000 jobs to a stopped function, per-request latency.
* ``search``: with 100,000 jobs for one owner, a filtered sorted first page and a count.
* ``dashboard``: the dashboard's pages over one function with 100,000 jobs (finished ones
  spread over the last hour), fetched through the app in process (``bench_dashboard.py``).
* ``get``: GET /compute/v1/jobs/{id} requests per second (wrk, else a Python loop).
* ``rss``: the server's resident memory after start-up and after everything else.
* ``exec``: 10,000 ``return x + 1`` jobs end to end, the ProcessPoolExecutor(2) floor,
  warm single-job latency and a cold first job.
* ``dask``: ``--executor dask`` on a LocalCluster: warm latency, trivial jobs on 1 and 2
  workers, and ours vs raw ``client.map`` of the same function (``bench_dask.py``). Runs only
  when asked for (``--executor dask`` or ``--only dask``).
* ``conformance``: the conformance kit's default run (two fresh owners), seconds per category.
* ``sandbox``: trivial-job throughput and warm latency on two more servers, one with
  ``--sandbox off`` and one with ``--sandbox bwrap``, run one after the other (the sandboxed
  rate should stay within 20% of the unconfined one).
* ``envs``: function environments (``--requirements install``) on fresh servers sharing an
  empty uv cache: the first build of a one-package environment (uv downloads it), a rebuild of
  the same set from uv's cache on another server, and trivial-job throughput in that
  environment vs on a ``--requirements check`` server (the server's own Python).
* ``scale``: bulk inserts to a stopped function up to 100,000 and then ``--scale-jobs``
  (1,000,000) jobs: the insert rate near 0, at 100k and at the end (target: within 20% of the
  first), and the ``search`` section's queries at 100k and at the end. Minutes long, so it runs
  only when asked for (``--only scale``).

    ./scripts/bench [--quick] [--only submit --only search] [--workers N]
    ./scripts/bench --only conformance
    ./scripts/bench --executor dask [--quick]
    ./scripts/bench --database postgresql [--only search]
    ./scripts/bench --only scale [--database postgresql] [--scale-jobs 1000000]

``--database postgresql`` runs every section on PostgreSQL: a throwaway cluster (started like
the tests' one, ``tests/support/postgres.py``) and a fresh database for each server.
``--blobs s3`` keeps every server's blobs in S3: moto's S3 server in this process (as the
tests start it, ``tests/support/s3.py``) and a fresh bucket for each server. moto is far slower
than a real S3 service; the figures bound the cost of the S3 code paths, not of S3.

    ./scripts/bench --blobs s3 --only exec
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

__all__ = ["main"]

SECTIONS = (
    "submit",
    "search",
    "dashboard",
    "get",
    "exec",
    "conformance",
    "sandbox",
    "envs",
    "dask",
    "rss",
    "scale",
)
BULK = 1000
ENTRYPOINT = "def main(x):\n    return x + 1\n"
BIN = Path(sys.executable).parent


@dataclass
class Sizes:
    submit_requests: int = 10
    search_jobs: int = 100_000
    search_runs: int = 50
    wrk_seconds: int = 10
    exec_jobs: int = 10_000
    warm_samples: int = 30
    sandbox_jobs: int = 5_000
    scale_jobs: int = 1_000_000

    @classmethod
    def quick(cls) -> Sizes:
        return cls(3, 5_000, 10, 3, 1_000, 10, 1_000, 30_000)


@dataclass
class Row:
    figure: str
    value: str
    target: str = ""
    verdict: str = ""


@dataclass
class Bench:
    """The running server plus what sections share (the stopped function, job counts)."""

    client: httpx.Client
    base: str
    token: str
    pid: int
    sizes: Sizes
    workers: int | None = None
    rows: list[Row] = field(default_factory=list)
    stopped_function: str | None = None
    stopped_jobs: int = 0
    some_job: str | None = None

    def add(
        self, figure: str, value: float | str, target: str = "", ok: bool | None = None
    ) -> None:
        unit = target.split()[-1].split("/")[-1] if target else ""
        unit = {"ms": " ms", "s": "/s", "MB": " MB"}.get(unit, "")
        text = f"{value:,.1f}{unit}" if isinstance(value, float) else str(value)
        verdict = "" if ok is None else ("ok" if ok else "MISS")
        self.rows.append(Row(figure, text, target, verdict))
        print(f"  {figure}: {text}  {verdict}", flush=True)


# --- server process -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Databases:
    """Where benchmarked servers keep their state: each a SQLite file in its data dir
    (``url()`` is None), or each a fresh database of one throwaway PostgreSQL cluster."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._cluster: Any = None
        self._latest = ""

    def __enter__(self) -> Databases:
        if self.kind == "postgresql":
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from support.postgres import PostgresCluster

            self._cluster = PostgresCluster().__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._cluster is not None:
            self._cluster.__exit__(*exc_info)

    def url(self) -> str | None:
        if self._cluster is None:
            return None
        self._latest = str(self._cluster.new_database())
        return self._latest

    def settle(self) -> None:
        """After a bulk fill, what autovacuum does within its minute on a real server
        (statistics, the visibility map), so the figures are the steady state's. SQLite
        needs nothing."""
        if self._cluster is None:
            return
        import sqlalchemy as sa

        engine = sa.create_engine(self._latest, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        engine.dispose()


DATABASES = Databases("sqlite")


class BlobStores:
    """Where benchmarked servers keep their blobs: each its data dir (``environment()`` is
    empty), or each a fresh bucket of one moto S3 server."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._endpoint: Any = None

    def __enter__(self) -> BlobStores:
        if self.kind == "s3":
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from support.s3 import S3Endpoint

            self._endpoint = S3Endpoint().__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._endpoint is not None:
            self._endpoint.__exit__(*exc_info)

    def environment(self) -> dict[str, str]:
        """The variables that put a new server's blobs in a fresh bucket (or none)."""
        if self._endpoint is None:
            return {}
        bucket = self._endpoint.new_bucket()
        return {**self._endpoint.environment, "BATCH_COMPUTE_BLOB_URL": f"s3://{bucket}/blobs"}


BLOBS = BlobStores("local")


@contextmanager
def running_server(
    workers: int | None,
    extra: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    data_dir: Path | None = None,
) -> Iterator[tuple[str, int]]:
    """A server on a free loopback port over ``data_dir`` (default: a temporary one);
    stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        port = _free_port()
        data = data_dir or Path(tmp) / "data"
        command = [str(BIN / "batch-compute"), "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--data-dir", str(data), *extra]
        if workers:
            command += ["--workers", str(workers)]
        server_env = dict(os.environ)
        database_url = DATABASES.url()
        if database_url is not None:
            server_env["BATCH_COMPUTE_DATABASE_URL"] = database_url
        server_env.update(BLOBS.environment())
        server_env.update(env or {})
        with open(Path(tmp) / "server.log", "wb") as log:
            proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=server_env)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(base, proc)
            yield base, proc.pid
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_healthy(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not become healthy in 30 s")


def _token(sub: str = "bench") -> str:
    out = subprocess.run(
        [str(BIN / "batch-compute"), "token", "--sub", sub],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    """The process's user + system CPU time so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_rss_mb(pid: int) -> float:
    total = 0.0
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for cpid in child.read_text().split():
            with suppress(OSError):
                total += _rss_mb(int(cpid))
    return total


# --- API helpers ----------------------------------------------------------------------------


def _check(response: httpx.Response, *ok: int) -> Any:
    if response.status_code not in (ok or (200,)):
        raise RuntimeError(
            f"{response.request.method} {response.request.url} -> {response.status_code}: "
            f"{response.text[:500]}"
        )
    return response.json() if response.content else None


def _bundle(requirements: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__dlentrypoint__.py", ENTRYPOINT)
        if requirements is not None:
            archive.writestr("requirements.txt", requirements)
    return buffer.getvalue()


def create_function(
    bench: Bench, name: str, auto_start: bool, requirements: str | None = None
) -> str:
    """Create, upload and complete a bundle; wait until ready (or stopped)."""
    body = {
        "name": name,
        "image": "python3.11:latest",
        "cpus": 0.25,
        "memory": 512,
        "maximum_concurrency": 1000,
        "auto_start": auto_start,
    }
    created = _check(bench.client.post("/compute/v1/functions", json=body), 201)
    function_id = created["function"]["id"] if "function" in created else created["id"]
    upload = httpx.put(
        created["bundle_upload_url"],
        content=_bundle(requirements),
        headers={"content-type": "application/octet-stream"},
        timeout=60,
    )
    if upload.status_code >= 300:
        raise RuntimeError(f"bundle upload -> {upload.status_code}: {upload.text[:300]}")
    _check(bench.client.post(f"/compute/v1/functions/{function_id}/bundle"))
    want = "ready" if auto_start else "stopped"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = _check(bench.client.get(f"/compute/v1/functions/{function_id}"))["status"]
        if status == want:
            return function_id
        if status == "build_failed":
            raise RuntimeError("bundle build failed")
        time.sleep(0.05)
    raise RuntimeError(f"function {function_id} never became {want}")


def submit_bulk(bench: Bench, function_id: str, start: int, count: int) -> list[dict[str, Any]]:
    body = {
        "function_id": function_id,
        "bulk_args": [[i] for i in range(start, start + count)],
        "reference_id": f"bench-{function_id}-{start}",
    }
    return _check(bench.client.post("/compute/v1/jobs/bulk", json=body), 200, 201)


def _stopped(bench: Bench) -> str:
    if bench.stopped_function is None:
        bench.stopped_function = create_function(bench, "bench-stopped", auto_start=False)
    return bench.stopped_function


def fill_stopped(bench: Bench, total: int, timings: list[float] | None = None) -> None:
    """Submit bulk requests of 1,000 to the stopped function until it holds ``total`` jobs."""
    function_id = _stopped(bench)
    while bench.stopped_jobs < total:
        count = min(BULK, total - bench.stopped_jobs)
        start = time.perf_counter()
        jobs = submit_bulk(bench, function_id, bench.stopped_jobs, count)
        if timings is not None:
            timings.append(time.perf_counter() - start)
        bench.stopped_jobs += count
        bench.some_job = bench.some_job or jobs[0]["id"]


def _ms(seconds: float) -> float:
    return seconds * 1000


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


# --- sections -------------------------------------------------------------------------------


def bench_submit(bench: Bench) -> None:
    timings: list[float] = []
    total = bench.stopped_jobs + bench.sizes.submit_requests * BULK
    fill_stopped(bench, total, timings)
    n = len(timings)
    bench.add(
        f"bulk submit 1,000 (stopped fn), p50 of {n}",
        _ms(statistics.median(timings)),
        "<= 150 ms",
        _ms(statistics.median(timings)) <= 150,
    )
    bench.add(
        f"bulk submit 1,000 (stopped fn), max of {n}",
        _ms(max(timings)),
        "<= 150 ms",
        _ms(max(timings)) <= 150,
    )


def _search_queries() -> dict[str, dict[str, Any]]:
    """The ``search`` and ``scale`` sections' queries: a filtered sorted first page, a count."""
    pending = json.dumps([{"name": "status", "op": "eq", "val": "pending"}])
    return {
        "search pending sort=-creation_date, page 1": {"filter": pending, "sort": "-creation_date"},
        "count pending (limit=0)": {"filter": pending, "limit": 0},
    }


def measure_searches(bench: Bench) -> None:
    """p50 of each search query over the stopped function's jobs, against the 25 ms target."""
    DATABASES.settle()
    for label, params in _search_queries().items():
        _check(bench.client.get("/compute/v1/jobs", params=params))  # warm, and fail loudly
        timings = []
        for _ in range(bench.sizes.search_runs):
            start = time.perf_counter()
            response = bench.client.get("/compute/v1/jobs", params=params)
            timings.append(time.perf_counter() - start)
            _check(response)
        p50 = _ms(statistics.median(timings))
        bench.add(
            f"{label} over {bench.stopped_jobs:,} jobs, p50 of {len(timings)}",
            p50,
            "<= 25 ms",
            p50 <= 25,
        )


def bench_search(bench: Bench) -> None:
    start = time.perf_counter()
    before = bench.stopped_jobs
    fill_stopped(bench, bench.sizes.search_jobs)
    if bench.stopped_jobs > before:
        rate = (bench.stopped_jobs - before) / (time.perf_counter() - start)
        bench.add(f"(setup) bulk insert rate to {bench.stopped_jobs:,} jobs", f"{rate:,.0f} jobs/s")
    measure_searches(bench)


SCALE_WINDOW = 30  # bulk requests an insert rate is measured over


def _insert_rate(bench: Bench) -> tuple[float, float]:
    """Jobs per second over the next ``SCALE_WINDOW`` bulk requests to the stopped function
    (from their median time: one request that meets a PostgreSQL checkpoint or the machine's
    other work would otherwise decide a window), and the server's CPU milliseconds per 1,000
    of them (on PostgreSQL the database's own CPU is not in it)."""
    timings: list[float] = []
    cpu = _cpu_seconds(bench.pid)
    fill_stopped(bench, bench.stopped_jobs + SCALE_WINDOW * BULK, timings)
    cpu = _cpu_seconds(bench.pid) - cpu
    return BULK / statistics.median(timings), _ms(cpu) / len(timings)


def bench_scale(bench: Bench) -> None:
    """Bulk insert rate near 0, at 100k and at ``--scale-jobs``; searches at the last two."""
    total = bench.sizes.scale_jobs
    start = bench.stopped_jobs
    first, cpu = _insert_rate(bench)
    span = f"jobs {start:,}-{bench.stopped_jobs:,}"
    bench.add(f"bulk insert rate, {span}", f"{first:,.0f} jobs/s")
    bench.add(f"server CPU per 1,000 jobs inserted, {span}", f"{cpu:,.1f} ms")
    for checkpoint in sorted({min(100_000, total), total}):
        fill_stopped(bench, checkpoint - SCALE_WINDOW * BULK)
        start = bench.stopped_jobs
        rate, cpu = _insert_rate(bench)
        within = rate >= 0.8 * first
        target = "(info)" if checkpoint < total else ">= 80% of first"
        span = f"jobs {start:,}-{bench.stopped_jobs:,}"
        bench.add(
            f"bulk insert rate, {span} ({rate / first:.0%})",
            f"{rate:,.0f} jobs/s",
            target,
            within if checkpoint == total else None,
        )
        bench.add(f"server CPU per 1,000 jobs inserted, {span}", f"{cpu:,.1f} ms")
        measure_searches(bench)


_DASHBOARD_PAGES = {
    "functions_page_ms": "the functions page",
    "function_page_ms": "a function's page (counts, charts, jobs table)",
    "function_page_live_update_ms": "its live update",
    "jobs_table_failure_by_runtime_ms": "its jobs table, status=failure sorted by -runtime",
    "jobs_table_next_page_ms": "that table's next page (cursor)",
    "job_page_ms": "a job's page",
}


def bench_dashboard_pages(bench: Bench) -> None:
    from bench_dashboard import bench_dashboard  # scripts/ is on the path of this script

    jobs = bench.sizes.search_jobs
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        figures = bench_dashboard(tmp, jobs, database_url=DATABASES.url(), settle=DATABASES.settle)
    for key, label in _DASHBOARD_PAGES.items():
        value = figures[key]
        bench.add(f"dashboard: {label}, {jobs:,} jobs, p50", value, "<= 100 ms", value <= 100)


def _ensure_wrk() -> str | None:
    if shutil.which("wrk"):
        return shutil.which("wrk")
    if os.geteuid() == 0 and shutil.which("apt-get"):
        quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        if subprocess.run(["apt-get", "install", "-y", "wrk"], **quiet).returncode != 0:
            subprocess.run(["apt-get", "update"], **quiet)
            subprocess.run(["apt-get", "install", "-y", "wrk"], **quiet)
    return shutil.which("wrk")


def _python_load(bench: Bench, url: str, seconds: float, threads: int = 8) -> float:
    stop = time.monotonic() + seconds
    counts = [0] * threads

    def loop(index: int) -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {bench.token}"}) as client:
            while time.monotonic() < stop:
                client.get(url)
                counts[index] += 1

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / seconds


def bench_get(bench: Bench) -> None:
    if bench.some_job is None:
        fill_stopped(bench, max(bench.stopped_jobs, BULK))
    url = f"{bench.base}/compute/v1/jobs/{bench.some_job}"
    _check(bench.client.get(url))
    wrk = _ensure_wrk()
    seconds = bench.sizes.wrk_seconds
    if wrk:
        out = subprocess.run(
            [
                wrk,
                "-t2",
                "-c32",
                f"-d{seconds}s",
                "-H",
                f"Authorization: Bearer {bench.token}",
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        label = f"GET /jobs/{{id}} req/s (wrk -t2 -c32 {seconds}s)"
        if errors:
            label += f" [{errors.group(1)} non-2xx!]"
    else:
        rps = _python_load(bench, url, seconds)
        label = f"GET /jobs/{{id}} req/s (NO wrk: Python httpx 8 threads, {seconds}s)"
    bench.add(label, rps, ">= 1,500/s", rps >= 1500)


def _statistics(bench: Bench, function_id: str) -> dict[str, int]:
    body = _check(
        bench.client.get(
            f"/compute/v1/functions/{function_id}", params={"include": "job.statistics"}
        )
    )
    return body.get("job_statistics") or {}


def _wait_job(bench: Bench, job_id: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = _check(bench.client.get(f"/compute/v1/jobs/{job_id}"))["status"]
        if status in ("success", "failure", "timeout", "canceled"):
            return status
        time.sleep(0.002)
    return "still running"


def _one_job(bench: Bench, function_id: str, x: int) -> float:
    start = time.perf_counter()
    job = _check(
        bench.client.post("/compute/v1/jobs", json={"function_id": function_id, "args": [x]}),
        200,
        201,
    )
    status = _wait_job(bench, job["id"])
    elapsed = time.perf_counter() - start
    if status != "success":
        raise RuntimeError(f"job {job['id']} ended {status}")
    return elapsed


def _add_one(x: int) -> int:
    return x + 1


def _floor(n: int) -> float:
    with concurrent.futures.ProcessPoolExecutor(2) as executor:
        list(executor.map(_add_one, range(10)))
        start = time.perf_counter()
        list(executor.map(_add_one, range(n)))
        return n / (time.perf_counter() - start)


def bench_exec(bench: Bench) -> None:
    function_id = create_function(bench, "bench-ready", auto_start=True)
    cold = _one_job(bench, function_id, -1)
    bench.add("cold first job, submit -> success", _ms(cold), "(info) ms")
    warm = [_one_job(bench, function_id, i) for i in range(bench.sizes.warm_samples)]
    p50, p95 = _ms(statistics.median(warm)), _ms(_pct(warm, 0.95))
    bench.add(f"warm single job p50 of {len(warm)}", p50, "<= 50 ms", p50 <= 50)
    bench.add(f"warm single job p95 of {len(warm)}", p95, "(info) ms")

    n = bench.sizes.exec_jobs
    rate, submitted, elapsed, stats = _throughput(bench, function_id, n)
    bench.add(
        f"exec {n:,} jobs end to end (submit {submitted:.1f}s, total {elapsed:.1f}s)",
        rate,
        ">= 500 jobs/s",
        rate >= 500,
    )
    bad = {k: v for k, v in stats.items() if k not in ("success",) and v}
    if bad:
        bench.add("  non-success job statuses", json.dumps(bad))
    floor = _floor(n)
    bench.add(f"floor: ProcessPoolExecutor(2) {n:,} calls", floor, "(info) calls/s")


def _throughput(
    bench: Bench, function_id: str, n: int, first: int = 10**6
) -> tuple[float, float, float, dict[str, int]]:
    """Submit ``n`` jobs in bulk and wait for them: (jobs/s, submit s, total s, statuses).
    Their arguments count from ``first``, which names the bulk requests too: another run on
    the same function needs another ``first`` (a repeated request is not submitted again)."""
    base = _statistics(bench, function_id).get("success", 0)
    start = time.perf_counter()
    for offset in range(0, n, BULK):
        submit_bulk(bench, function_id, first + offset, min(BULK, n - offset))
    submitted = time.perf_counter() - start
    deadline = time.monotonic() + 600
    stats: dict[str, int] = {}
    while time.monotonic() < deadline:
        stats = _statistics(bench, function_id)
        done = sum(stats.get(s, 0) for s in ("success", "failure", "timeout", "canceled"))
        if done - base >= n:
            break
        time.sleep(0.1)
    elapsed = time.perf_counter() - start
    return (stats.get("success", 0) - base) / elapsed, submitted, elapsed, stats


def bench_sandbox(bench: Bench) -> None:
    """The same trivial jobs on an unconfined and on a sandboxed server (fresh ones)."""
    rates = {mode: _sandbox_run(bench, mode) for mode in ("off", "bwrap")}
    ratio = rates["bwrap"] / rates["off"] if rates["off"] else 0.0
    bench.add("sandboxed / unconfined throughput", f"{ratio:.2f}", ">= 0.80", ratio >= 0.8)


def _sandbox_run(bench: Bench, mode: str) -> float:
    n = bench.sizes.sandbox_jobs
    server = running_server(bench.workers, ("--sandbox", mode))
    with (
        server as (base, pid),
        httpx.Client(base_url=base, headers=bench.client.headers, timeout=120) as client,
    ):
        other = Bench(client, base, bench.token, pid, bench.sizes, bench.workers)
        function_id = create_function(other, f"bench-sandbox-{mode}", auto_start=True)
        _one_job(other, function_id, -1)  # the worker and its job process are warm
        warm = [_one_job(other, function_id, i) for i in range(bench.sizes.warm_samples)]
        p50 = _ms(statistics.median(warm))
        bench.add(f"--sandbox {mode}: warm single job p50", p50, "(info) ms")
        rate, *_ = _throughput(other, function_id, n)
        bench.add(f"--sandbox {mode}: {n:,} jobs end to end", rate, "(info) jobs/s")
    return rate


ENV_REQUIREMENTS = "tomli-w==1.0.0\n"


def bench_envs(bench: Bench) -> None:
    """Environments: cold build, rebuild from uv's cache, job throughput in one vs none."""
    with tempfile.TemporaryDirectory(prefix="bench-envs-") as tmp:
        # An empty uv cache: the one in the data dir when builds are sandboxed, else this.
        env = {"UV_CACHE_DIR": str(Path(tmp) / "uv-cache")}
        data_dir = Path(tmp) / "data"
        with running_server(bench.workers, (), env, data_dir) as (base, pid):
            other = _other(bench, base, pid)
            started = time.perf_counter()
            function_id = create_function(other, "bench-env", True, ENV_REQUIREMENTS)
            first = time.perf_counter() - started
            started = time.perf_counter()
            create_function(other, "bench-env-shared", True, ENV_REQUIREMENTS)
            shared = time.perf_counter() - started
            _drop_environments(data_dir / "envs")
            started = time.perf_counter()
            create_function(other, "bench-env-rebuilt", True, ENV_REQUIREMENTS)
            rebuilt = time.perf_counter() - started
            bench.add("first build of a one-package environment (empty uv cache)", f"{first:.2f} s")
            bench.add("rebuild of the same set after its removal (uv's cache)", f"{rebuilt:.2f} s")
            bench.add("the same set again (the environment is shared)", f"{shared:.2f} s")
            in_env = _env_rate(bench, other, function_id, "in its environment")
    with running_server(bench.workers, ("--requirements", "check")) as (base, pid):
        other = _other(bench, base, pid)
        function_id = create_function(other, "bench-no-env", True)
        plain = _env_rate(bench, other, function_id, "on the server's Python (check)")
    ratio = in_env / plain if plain else 0.0
    bench.add(
        "job throughput: in an environment / server's Python",
        f"{ratio:.2f}",
        ">= 0.80",
        ratio >= 0.8,
    )


def bench_dask(bench: Bench) -> None:
    from bench_dask import dask_figures  # scripts/ is on the path of this script

    dask_figures(bench, running_server, _other, create_function, _one_job, _throughput)


def _other(bench: Bench, base: str, pid: int) -> Bench:
    client = httpx.Client(base_url=base, headers=bench.client.headers, timeout=120)
    return Bench(client, base, bench.token, pid, bench.sizes, bench.workers)


def _drop_environments(root: Path) -> None:
    """Remove every built environment (nothing runs in them yet), keeping uv's cache."""
    from batch_compute_mock.builder.environments import EnvironmentStore

    store = EnvironmentStore(root)
    for key in store.ready_keys():
        shutil.rmtree(store.path(key))


def _env_rate(bench: Bench, other: Bench, function_id: str, where: str) -> float:
    n = bench.sizes.sandbox_jobs
    _one_job(other, function_id, -1)  # the worker and its job process are warm
    rate, *_ = _throughput(other, function_id, n)
    bench.add(f"{n:,} trivial jobs {where}", rate, "(info) jobs/s")
    return rate


def bench_conformance(bench: Bench) -> None:
    """The kit's default run, as ``batch-compute conformance URL`` would do it."""
    from batch_compute_conformance import CATEGORIES, Options, run_conformance

    options = Options(
        base_url=bench.base,
        token=_token("conformance-first"),
        other_token=_token("conformance-second"),
        seed=1,
    )
    started = time.monotonic()
    result = run_conformance(options, out=io.StringIO())
    total = time.monotonic() - started
    for name in CATEGORIES:
        seconds = result.outcome.categories[name].seconds
        bench.add(f"conformance kit: {name}", f"{seconds:.1f} s", "(info)")
    bench.add(
        "conformance kit: default run, all categories", f"{total:.1f} s", "<= 300 s", total <= 300
    )
    bench.add(
        "conformance kit: verdict on this server",
        "failed" if result.outcome.failed else "passed",
        "passed",
        not result.outcome.failed,
    )


def bench_rss_start(bench: Bench) -> None:
    mb = _rss_mb(bench.pid)
    bench.add("server RSS after start-up", f"{mb:,.1f} MB", "<= 150 MB", mb <= 150)


def bench_rss_end(bench: Bench) -> None:
    time.sleep(1)
    mb = _rss_mb(bench.pid)
    bench.add("server RSS after the runs", f"{mb:,.1f} MB", "<= 150 MB", mb <= 150)
    kids = _children_rss_mb(bench.pid)
    bench.add("worker processes' RSS (sum)", f"{kids:,.1f} MB", "(info)")


# --- main -----------------------------------------------------------------------------------


def _table(rows: list[Row]) -> str:
    headers = ("figure", "value", "target", "")
    widths = [
        max(len(h), *(len(getattr(r, a)) for r in rows))
        for h, a in zip(headers, ("figure", "value", "target", "verdict"), strict=True)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        cells = (
            row.figure.ljust(widths[0]),
            row.value.rjust(widths[1]),
            row.target.ljust(widths[2]),
            row.verdict,
        )
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only these")
    parser.add_argument("--workers", type=int, help="server --workers (default: its own)")
    parser.add_argument(
        "--executor",
        choices=["local", "dask"],
        default="local",
        help="dask: the dask section only (a LocalCluster); local: the others (default)",
    )
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="where the servers keep their state (default: %(default)s)",
    )
    parser.add_argument(
        "--blobs",
        choices=["local", "s3"],
        default="local",
        help="where the servers keep their blobs (default: %(default)s, the data dir)",
    )
    parser.add_argument(
        "--scale-jobs",
        type=int,
        help="scale: jobs to insert up to (default 1,000,000; --quick 30,000)",
    )
    options = parser.parse_args(argv)
    global DATABASES, BLOBS
    DATABASES = Databases(options.database)
    BLOBS = BlobStores(options.blobs)
    with DATABASES, BLOBS:
        return _run(options)


def _run(options: argparse.Namespace) -> int:
    sizes = Sizes.quick() if options.quick else Sizes()
    if options.scale_jobs is not None:
        sizes.scale_jobs = options.scale_jobs
    slow = ("dask", "scale")
    default = ["dask"] if options.executor == "dask" else [s for s in SECTIONS if s not in slow]
    chosen = options.only or default
    sections: dict[str, Callable[[Bench], None]] = {
        "submit": bench_submit,
        "search": bench_search,
        "dashboard": bench_dashboard_pages,
        "get": bench_get,
        "exec": bench_exec,
        "conformance": bench_conformance,
        "sandbox": bench_sandbox,
        "envs": bench_envs,
        "dask": bench_dask,
        "scale": bench_scale,
    }
    token = _token()
    with running_server(options.workers) as (base, pid):
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            bench = Bench(client, base, token, pid, sizes, options.workers)
            print(f"server pid {pid} at {base} on {DATABASES.kind}, blobs {BLOBS.kind}", flush=True)
            if "rss" in chosen:
                time.sleep(1)
                bench_rss_start(bench)
            for name in SECTIONS:
                if name in chosen and name in sections:
                    print(f"[{name}]", flush=True)
                    sections[name](bench)
            if "rss" in chosen:
                bench_rss_end(bench)
    print()
    print(_table(bench.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
