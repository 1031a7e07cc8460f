"""``batch-compute worker``: a Dask worker ready for our jobs (``dask worker`` with our
preload, our resources and enough threads).

The worker's ``cpus`` and ``memory`` Dask resources default to the machine's; each running
job holds one worker thread, so the threads default to four per CPU (jobs asking for a
quarter CPU still fill the machine). It needs no database credentials: tasks carry the blob
store's URL, and outcomes go back to the server that submitted them.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from .executors.local.limits import machine_memory

__all__ = ["add_sandbox_options", "add_worker_command"]

PRELOAD = "batch_compute_mock.executors.dask.preload"


def add_worker_command(commands: argparse._SubParsersAction, byte_size) -> None:  # type: ignore[type-arg]
    worker = commands.add_parser("worker", help="run a Dask worker for a --executor dask server")
    worker.add_argument("scheduler", metavar="SCHEDULER", help="e.g. tcp://host:8786")
    worker.add_argument(
        "--cpus", type=float, help="CPUs jobs may reserve here (default: the machine's)"
    )
    worker.add_argument(
        "--memory",
        type=byte_size,
        metavar="SIZE",
        help="memory jobs may reserve here, e.g. 8G (default: the machine's)",
    )
    worker.add_argument("--nthreads", type=int, help="jobs at most at once (default: 4 per CPU)")
    worker.add_argument("--host", help="the address to listen on (default: Dask's choice)")
    worker.add_argument("--name", help="the worker's name in the cluster")
    worker.add_argument(
        "--data-dir",
        type=Path,
        help="scratch dirs, the bundle cache and environments (default: the worker's local "
        "directory)",
    )
    add_sandbox_options(worker)
    worker.set_defaults(run=_worker)


def add_sandbox_options(command: argparse.ArgumentParser) -> None:
    """``--sandbox`` and ``--job-network``: the same for ``serve`` and ``worker``, since a job
    runs through the same runner on either."""
    command.add_argument(
        "--sandbox",
        choices=["auto", "bwrap", "off"],
        default=os.environ.get("BATCH_COMPUTE_SANDBOX", "auto"),
        help="run jobs in a bubblewrap sandbox: auto uses it where it works, bwrap insists, "
        "off runs them unconfined as this process's user (default: %(default)s)",
    )
    command.add_argument(
        "--job-network",
        choices=["on", "off"],
        default=os.environ.get("BATCH_COMPUTE_JOB_NETWORK", "on"),
        help="off gives sandboxed jobs loopback only (default: %(default)s)",
    )


def dask_worker_argv(options: argparse.Namespace) -> list[str]:
    cpus = options.cpus if options.cpus is not None else float(os.cpu_count() or 1)
    memory = options.memory if options.memory is not None else machine_memory()
    threads = options.nthreads or max(1, math.ceil(cpus * 4))
    argv = [
        sys.executable,
        "-m",
        "distributed.cli.dask_worker",
        options.scheduler,
        "--nworkers",
        "1",
        "--nthreads",
        str(threads),
        "--memory-limit",
        str(int(memory)),
        "--resources",
        f"cpus={cpus:g},memory={int(memory)}",
        "--preload",
        PRELOAD,
        "--dashboard-address",
        ":0",
    ]
    if options.host:
        argv += ["--host", options.host]
    if options.name:
        argv += ["--name", options.name]
    return argv


def _worker(options: argparse.Namespace) -> int:
    try:
        import distributed  # noqa: F401
    except ModuleNotFoundError:
        print(
            "error: batch-compute worker needs Dask: pip install 'batch-compute[dask]'",
            file=sys.stderr,
        )
        return 2
    argv = dask_worker_argv(options)
    env = dict(os.environ)
    env["BATCH_COMPUTE_SANDBOX"] = options.sandbox
    env["BATCH_COMPUTE_JOB_NETWORK"] = options.job_network
    if options.data_dir is not None:
        from .executors.dask.preload import DATA_DIR_VARIABLE

        env[DATA_DIR_VARIABLE] = str(options.data_dir.resolve())
    os.execve(argv[0], argv, env)  # the worker takes over this process (and its signals)
    return 0
